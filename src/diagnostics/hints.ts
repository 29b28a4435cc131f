// After a failed run, one hint line per denied path the command complained
// about, naming the policy rule responsible. The path comes from the
// command's own output, so the hint says so and claims nothing more.
import { basename, dirname, isAbsolute, resolve } from "node:path";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { isWithin } from "../policy/paths.ts";

const DENIAL = new RegExp(
  /(?:^|[\s'"`(])((?:\/|\.{1,2}\/|[\w.-]+\/)[^\s'"`:)]*|[\w.-]+)/.source +
    /['"`)]?: (?:cannot [\w ]+: )?/.source +
    /(Permission denied|Read-only file system|Operation not permitted|Device or resource busy)/.source,
);
const QUOTED = new RegExp(
  /cannot (?:touch|create|remove|open|stat|access|mkdir|write to|create directory|create regular file)/.source +
    / ['"`‘]?([^'"`‘’:]+)['"`’]?: /.source +
    /(Permission denied|Read-only file system|Operation not permitted)/.source,
);
// Python and others put the path after the message: "[Errno 13] Permission denied: '/usr/x'".
const TRAILING = /(Permission denied|Read-only file system|Operation not permitted): ['"]([^'"]+)['"]/;
const MAX_HINTS = 3;

export function deniedPaths(stderr: string): string[] {
  const found: string[] = [];
  for (const line of stderr.split("\n")) {
    const trailing = TRAILING.exec(line);
    const match = QUOTED.exec(line) ?? DENIAL.exec(line);
    const path = trailing ? trailing[2] : match?.[1];
    if (path && !found.includes(path)) found.push(path);
  }
  return found;
}

type HintPolicy = Pick<ResolvedPolicy, "cwd" | "writeRoots" | "denyRead" | "denyWrite" | "git" | "projectFiles">;

export function ruleFor(path: string, policy: HintPolicy): string {
  const absolute = isAbsolute(path) ? resolve(path) : resolve(policy.cwd, path);
  const hidden = policy.denyRead.find((deny) => isWithin(absolute, deny.path));
  if (hidden)
    return (
      `${absolute} is read-denied by ` +
      (hidden.origin.startsWith("default:")
        ? `the secure default "${hidden.origin.slice(8)}" (--reveal ${hidden.origin.slice(8)})`
        : `--deny-read ${hidden.origin}`)
    );
  const projectFile = policy.projectFiles.find((entry) => isWithin(absolute, entry.path));
  if (projectFile) {
    return (
      `${absolute} is write-protected as a ${projectFile.what}: programs on the host run or trust it; ` +
      `releaseFiles: ["${basename(projectFile.path)}"] in a policy file releases it`
    );
  }
  const gitPath = policy.git.protect.find((entry) => isWithin(absolute, entry.path));
  if (gitPath) {
    return (
      `${absolute} is write-protected by protectGit (${gitPath.what}): git may change objects, refs, the ` +
      "index and HEAD, not what it executes or trusts (--profile workspace and ci set protectGit)"
    );
  }
  const protectedBy = policy.denyWrite.find((deny) => isWithin(absolute, deny.path));
  if (protectedBy) return `${absolute} is write-denied by --deny-write ${protectedBy.origin}`;
  const root = policy.writeRoots.find((writable) => isWithin(absolute, writable));
  if (root)
    return (
      `${absolute} is inside the write root ${root}; in landlock-only mode, entries ` +
      `next to a denied path cannot be created`
    );
  return `${absolute} is outside every write root; -w ${dirname(absolute)} would allow writing there`;
}

export function hintLines(stderr: string, policy: HintPolicy): string[] {
  return deniedPaths(stderr)
    .slice(0, MAX_HINTS)
    .map((path) => `hint (the path comes from the command's output): ${ruleFor(path, policy)}`);
}
