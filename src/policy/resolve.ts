// Validates a policy and resolves its paths against the working directory.
import * as v from "valibot";
import { realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { CordonError } from "../errors.ts";
import { PolicySchema, type Policy, type PolicyInput } from "./schema.ts";

export interface ResolvedPolicy extends Policy {
  cwd: string;
}

export function parsePolicy(input: PolicyInput, source: string): Policy {
  const result = v.safeParse(PolicySchema, input);
  if (result.success) return result.output;
  const issue = result.issues[0]!;
  const path = v.getDotPath(issue) ?? "(policy)";
  throw new CordonError(`${source}: ${path}: ${issue.message} (got ${JSON.stringify(issue.input) ?? "nothing"})`);
}

export function expandPath(path: string, cwd: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}

function canonicalDirectory(path: string, what: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new CordonError(`${what} ${path} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new CordonError(`${what} ${path} is not a directory`);
  return real;
}

export function resolvePolicy(policy: Policy, cwdOption: string | undefined): ResolvedPolicy {
  const cwd = canonicalDirectory(expandPath(cwdOption ?? process.cwd(), process.cwd()), "working directory");
  const writeRoots = [...new Set(policy.writeRoots.map((root) => canonicalDirectory(expandPath(root, cwd), "write root")))];
  return { ...policy, writeRoots, cwd };
}
