// Turns a composed Policy into absolute, canonical paths checked against the
// host: globs expanded, secure defaults added, unsafe write roots refused.
import { realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { CordonError } from "../errors.ts";
import {
  canonicalMaybeMissing,
  expandGlob,
  expandPath,
  GlobBudget,
  isGlob,
  isWithin,
  lstatOrUndefined,
  splitGlob,
  walkPath,
} from "./paths.ts";
import type { Policy } from "./schema.ts";
import { hiddenSecrets, type SecretContext } from "./secrets.ts";

type ResolvedKind = "dir" | "file" | "missing" | "symlink";

interface ResolvedPath {
  path: string;
  kind: ResolvedKind;
  /** What asked for it: the entry as written, or "default:<secret name>". */
  origin: string;
  /** kind "missing": its deepest existing ancestor, below which nothing of it exists yet. */
  existing?: string;
}

export interface ResolvedPolicy extends Omit<Policy, "write" | "denyWrite" | "denyRead"> {
  cwd: string;
  writeRoots: string[];
  denyWrite: ResolvedPath[];
  denyRead: ResolvedPath[];
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

/** A deny entry, canonical; a symlink protects both itself and its target. */
function resolveDenyEntry(path: string, origin: string): ResolvedPath[] {
  const stat = lstatOrUndefined(path);
  if (!stat) {
    const canonical = canonicalMaybeMissing(path);
    if (!canonical.exists) return [{ path: canonical.path, kind: "missing", origin, existing: canonical.existing }];
  }
  const entries: ResolvedPath[] = [];
  if (stat?.isSymbolicLink()) {
    entries.push({ path: join(canonicalMaybeMissing(dirname(path)).path, basename(path)), kind: "symlink", origin });
    const target = canonicalMaybeMissing(path);
    if (!target.exists) entries.push({ path: target.path, kind: "missing", origin, existing: target.existing });
    else entries.push({ path: target.path, kind: statSync(target.path).isDirectory() ? "dir" : "file", origin });
    return entries;
  }
  // Not a symlink itself: its canonical form is its canonical parent plus its
  // name, and the parent is shared by many entries of a long deny list.
  const real = path === "/" ? "/" : join(canonicalParent(dirname(path)), basename(path));
  return [{ path: real, kind: stat?.isDirectory() ? "dir" : "file", origin }];
}

const parentCache = new Map<string, string>();

function canonicalParent(dir: string): string {
  let real = parentCache.get(dir);
  if (real === undefined) {
    real = realpathSync(dir);
    parentCache.set(dir, real);
  }
  return real;
}

function expandDenyList(
  entries: readonly string[],
  cwd: string,
  writeRoots: readonly string[],
  budget: GlobBudget,
): ResolvedPath[] {
  const out: ResolvedPath[] = [];
  for (const entry of entries) {
    if (!isGlob(entry)) {
      out.push(...resolveDenyEntry(expandPath(entry, cwd), entry));
      continue;
    }
    const expanded = entry.startsWith("~") ? expandPath(entry, cwd) : entry;
    const matches = expanded.startsWith("/")
      ? (({ base, rest }) => expandGlob(base, rest, budget))(splitGlob(expanded))
      : // A relative glob is matched under each write root.
        writeRoots.flatMap((root) => expandGlob(root, expanded, budget));
    for (const match of matches) out.push(...resolveDenyEntry(match, entry));
  }
  return out;
}

function unique(paths: ResolvedPath[]): ResolvedPath[] {
  return [...new Map(paths.map((entry) => [`${entry.kind === "symlink" ? "l" : "p"}${entry.path}`, entry])).values()];
}

interface ResolveContext {
  cwd: string | undefined;
  home?: string;
  env?: Record<string, string | undefined>;
}

export function resolvePolicy(policy: Policy, context: ResolveContext): ResolvedPolicy {
  // Canonical parents are cached for one resolution only: the disk may change between runs.
  parentCache.clear();
  const home = context.home ?? homedir();
  const cwd = canonicalDirectory(expandPath(context.cwd ?? process.cwd(), process.cwd(), home), "working directory");
  const walks = policy.write.map((root) => ({
    root: expandPath(root, cwd, home),
    ...walkPath(expandPath(root, cwd, home)),
  }));
  for (const walk of walks) {
    if (!walk.exists) throw new CordonError(`write root ${walk.root} does not exist`);
    if (!statSync(walk.canonical).isDirectory()) throw new CordonError(`write root ${walk.root} is not a directory`);
  }
  const writeRoots = [...new Set(walks.map((walk) => walk.canonical))];

  // An earlier sandboxed run could have planted `build -> ../home` in a writable place.
  for (const walk of walks) {
    for (const link of walk.links) {
      const writable = writeRoots.find((writableRoot) => isWithin(link, writableRoot) && link !== writableRoot);
      if (writable) {
        throw new CordonError(
          `write root ${walk.root} resolves through the symlink ${link}, which lies inside the write root ${writable}`,
          {
            hint: "an earlier sandboxed run could have planted it; name the real directory instead",
          },
        );
      }
    }
  }

  const budget = new GlobBudget();
  const secretContext: SecretContext = { home, env: context.env ?? process.env };
  const secrets = hiddenSecrets(policy.reveal, secretContext)
    .filter(({ path }) => lstatOrUndefined(path) !== undefined)
    .flatMap(({ name, path }) => resolveDenyEntry(path, `default:${name}`));

  const insideARoot = (entry: ResolvedPath) =>
    entry.kind !== "missing" || writeRoots.some((root) => isWithin(entry.path, root));
  const allRead = unique([...expandDenyList(policy.denyRead, cwd, writeRoots, budget), ...secrets]).filter(insideARoot);
  // Looked up by ancestor, not compared pairwise: deny lists can hold thousands of paths.
  const hiddenDirs = new Set(allRead.filter((entry) => entry.kind === "dir").map((entry) => entry.path));
  const isHiddenBelow = (entry: ResolvedPath) => {
    for (let at = dirname(entry.path); ; at = dirname(at)) {
      if (hiddenDirs.has(at)) return true;
      if (at === "/") return false;
    }
  };
  const denyRead = allRead.filter((entry) => !isHiddenBelow(entry));
  // A write-denied path inside a hidden directory is already hidden and read-only.
  const denyWrite = unique(expandDenyList(policy.denyWrite, cwd, writeRoots, budget))
    .filter(insideARoot)
    .filter((entry) => !isHiddenBelow(entry));

  for (const hidden of denyRead) {
    if (hidden.path === "/") throw new CordonError("--deny-read / would hide everything, the command included");
    const reveal = hidden.origin.startsWith("default:")
      ? ` (a secure default: --reveal ${hidden.origin.slice(8)} lifts it)`
      : "";
    for (const root of writeRoots) {
      if (hidden.kind === "dir" && isWithin(root, hidden.path)) {
        throw new CordonError(`write root ${root} is inside the read-denied path ${hidden.path}${reveal}`);
      }
    }
    if (hidden.kind === "dir" && isWithin(cwd, hidden.path)) {
      throw new CordonError(`the working directory ${cwd} is inside the read-denied path ${hidden.path}${reveal}`);
    }
  }
  const { write: _write, denyWrite: _denyWrite, denyRead: _denyRead, ...rest } = policy;
  return { ...rest, cwd, writeRoots, denyWrite, denyRead };
}
