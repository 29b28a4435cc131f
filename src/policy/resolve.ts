// Validates a policy and resolves its paths against the working directory.
import * as v from "valibot";
import { realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { CordonError } from "../errors.ts";
import { PolicySchema, type Policy, type PolicyInput } from "./schema.ts";

export interface ResolvedPath {
  path: string;
  kind: "dir" | "file";
}

export interface ResolvedPolicy extends Omit<Policy, "denyWrite" | "denyRead"> {
  cwd: string;
  denyWrite: ResolvedPath[];
  denyRead: ResolvedPath[];
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

function canonicalPath(path: string, what: string): ResolvedPath {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new CordonError(`${what} ${path} does not exist`);
  }
  return { path: real, kind: statSync(real).isDirectory() ? "dir" : "file" };
}

function uniqueByPath(paths: ResolvedPath[]): ResolvedPath[] {
  return [...new Map(paths.map((entry) => [entry.path, entry])).values()];
}

const within = (path: string, root: string) => path === root || root === "/" || path.startsWith(`${root}/`);

export function resolvePolicy(policy: Policy, cwdOption: string | undefined): ResolvedPolicy {
  const cwd = canonicalDirectory(expandPath(cwdOption ?? process.cwd(), process.cwd()), "working directory");
  const writeRoots = [...new Set(policy.writeRoots.map((root) => canonicalDirectory(expandPath(root, cwd), "write root")))];
  const allDenyRead = uniqueByPath(policy.denyRead.map((path) => canonicalPath(expandPath(path, cwd), "--deny-read path")));
  const denyRead = allDenyRead.filter(
    (deny) => !allDenyRead.some((outer) => outer !== deny && outer.kind === "dir" && within(deny.path, outer.path)),
  );
  const denyWrite = uniqueByPath(policy.denyWrite.map((path) => canonicalPath(expandPath(path, cwd), "--deny-write path")))
    // Already hidden and read-only inside a read-denied directory.
    .filter((deny) => !denyRead.some((hidden) => hidden.kind === "dir" && within(deny.path, hidden.path)));
  for (const hidden of denyRead) {
    if (hidden.path === "/") throw new CordonError("--deny-read / would hide everything, the command included");
    for (const root of writeRoots) {
      if (within(root, hidden.path)) throw new CordonError(`write root ${root} is inside the read-denied path ${hidden.path}`);
    }
    if (within(cwd, hidden.path)) throw new CordonError(`the working directory ${cwd} is inside the read-denied path ${hidden.path}`);
  }
  return { ...policy, writeRoots, cwd, denyWrite, denyRead };
}
