// What the filesystem holds that planning depends on: device nodes, the
// terminals behind stdio, runtime directories, directory
// listings and the identities of the policy's paths.
import { lstatSync, readdirSync, readlinkSync, statSync, type BigIntStats, type Dirent } from "node:fs";
import type { DirEntry, EntryKind } from "../landlock/deny.ts";
import type { PathFact } from "../landlock/rules.ts";
import type { Identity } from "../policy/paths.ts";

/** The device nodes a command may open; in landlock-only mode nothing else under /dev. */
export const DEVICE_PATHS = [
  "/dev/null",
  "/dev/zero",
  "/dev/full",
  "/dev/random",
  "/dev/urandom",
  "/dev/tty",
  "/dev/ptmx",
] as const;

/** Where host daemons put their sockets; without network these become an empty tmpfs in bwrap mode. */
const RUNTIME_DIRS = ["/run", "/var/run"] as const;

/** /run and /var/run where they are real directories. */
export function runtimeDirs(): string[] {
  return RUNTIME_DIRS.filter(isRealDirectory);
}

function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function pathFact(path: string): PathFact | undefined {
  try {
    return { path, kind: statSync(path).isDirectory() ? "dir" : "file" };
  } catch {
    return undefined;
  }
}

export function terminalsOfStdio(): PathFact[] {
  const paths = new Set<string>();
  for (const fd of [0, 1, 2]) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^\/dev\/(pts\/\d+|tty\w*|console)$/.test(target)) paths.add(target);
    } catch {
      // Closed descriptor.
    }
  }
  return [...paths].map((path) => ({ path, kind: "file" as const }));
}

function entryKind(entry: Dirent): EntryKind {
  if (entry.isSymbolicLink()) return "symlink";
  if (entry.isDirectory()) return "dir";
  return entry.isFile() ? "file" : "other";
}

/**
 * A directory's entries, never following symlinks; undefined when it cannot
 * be listed. Landlock-only mode lists the directories on the way to each deny.
 */
export function listDirectory(dir: string): DirEntry[] | undefined {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  return entries.map((entry) => {
    const stat = quietLstat(`${dir === "/" ? "" : dir}/${entry.name}`);
    const listed: DirEntry = { name: entry.name, kind: entryKind(entry) };
    return stat ? { ...listed, identity: { dev: stat.dev, ino: stat.ino } } : listed;
  });
}

/** The identity of each path (never following a final symlink); a path that is gone is left out. */
export function identitiesOf(paths: Iterable<string>): Map<string, Identity> {
  const identities = new Map<string, Identity>();
  for (const path of paths) {
    const stat = quietLstat(path);
    if (stat) identities.set(path, { dev: stat.dev, ino: stat.ino });
  }
  return identities;
}

/** lstat, or undefined for any failure: a path this user cannot reach (EACCES), the sandbox cannot reach either. */
function quietLstat(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}
