// The repositories in the write roots, and what of each git executes or
// trusts: the paths that must not change during a run. git itself keeps
// working: objects, refs, the index, logs and HEAD stay writable.
import { lstatSync, readdirSync, readFileSync, realpathSync, type Dirent } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { configEntries, hooksPathOf, includePathsOf } from "./git-config.ts";
import { lstatOrUndefined } from "./paths.ts";

/**
 * How deep cordon looks for repositories below each write root (the root's
 * own `.git` is depth 0; `vendor/lib/.git` is depth 2), and the directories
 * it does not enter. Beyond either, an existing repository is not protected
 * and a new one is not checked after the run; explain says so. Depth 3 (as
 * sandbox-runtime's) keeps a tree of 100,000 directories under a second
 * per search on a slow disk (npm run bench): a run searches twice.
 */
export const GIT_SEARCH = {
  maxDepth: 3,
  skipped: ["node_modules"] as readonly string[],
  /** Past this many directories the search stops, and the run says how far it got. */
  maxDirectories: 200_000,
};

export type DotGitKind = "dir" | "file" | "symlink";

/** A `.git` found in a write root: a directory, a `gitdir:` file (worktree, submodule) or a symlink. */
export interface DotGit {
  path: string;
  kind: DotGitKind;
}

export interface GitSearch {
  found: DotGit[];
  directories: number;
  /** The search stopped at GIT_SEARCH.maxDirectories. */
  truncated: boolean;
}

/**
 * What missing means for a protected path during a bwrap run:
 * - "placeholder": a directory there is harmless to git (hooks/), so the
 *   usual placeholder keeps it from being created;
 * - "repair": git would choke on a directory there (commondir, an include,
 *   info/attributes), or the placeholder would sit where git writes
 *   (info/), so whatever appears is removed after the run;
 * - "skip": nothing to protect (a repository always has its config).
 */
export type IfMissing = "placeholder" | "repair" | "skip";

export interface GitProtected {
  path: string;
  /** What it is to git, for explain and -v: "hooks of /w/.git". */
  what: string;
  ifMissing: IfMissing;
}

function entriesOf(dir: string): Dirent[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
}

const kindOf = (entry: Dirent): DotGitKind | undefined =>
  entry.isDirectory() ? "dir" : entry.isFile() ? "file" : entry.isSymbolicLink() ? "symlink" : undefined;

function dotGitAt(dir: string): DotGit | undefined {
  const path = dir === "/" ? "/.git" : `${dir}/.git`;
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  const kind = stat.isDirectory() ? "dir" : stat.isFile() ? "file" : stat.isSymbolicLink() ? "symlink" : undefined;
  return kind ? { path, kind } : undefined;
}

/** Every `.git` within the search scope of `roots`, breadth first; symlinked directories are not entered. */
export function findDotGits(roots: readonly string[], scope = GIT_SEARCH): GitSearch {
  const found = new Map<string, DotGit>();
  const seen = new Set<string>();
  let directories = 0;
  let queue = roots.map((root) => root);
  for (let depth = 0; queue.length > 0 && depth <= scope.maxDepth; depth++) {
    const next: string[] = [];
    for (const dir of queue) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      if (++directories > scope.maxDirectories) return { found: [...found.values()], directories, truncated: true };
      // At the last level only `.git` matters: one lstat instead of listing the directory.
      if (depth === scope.maxDepth) {
        const dotGit = dotGitAt(dir);
        if (dotGit) found.set(dotGit.path, dotGit);
        continue;
      }
      for (const entry of entriesOf(dir) ?? []) {
        const path = dir === "/" ? `/${entry.name}` : `${dir}/${entry.name}`;
        if (entry.name === ".git") {
          const kind = kindOf(entry);
          if (kind) found.set(path, { path, kind });
        } else if (entry.isDirectory() && !scope.skipped.includes(entry.name)) next.push(path);
      }
    }
    queue = next;
  }
  return { found: [...found.values()], directories, truncated: false };
}

function readSmall(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8").slice(0, 65536);
  } catch {
    return undefined;
  }
}

/** The git directory a `.git` file or symlink leads to, or undefined. */
export function gitDirOf(dotGit: DotGit): string | undefined {
  if (dotGit.kind === "dir") return dotGit.path;
  if (dotGit.kind === "symlink") {
    try {
      return realpathSync(dotGit.path);
    } catch {
      return undefined;
    }
  }
  const pointer = /^gitdir: *(.+)$/m.exec(readSmall(dotGit.path) ?? "")?.[1]?.trim();
  return pointer ? resolvePath(dirname(dotGit.path), pointer) : undefined;
}

export function commonDirOf(gitDir: string): string {
  const common = readSmall(`${gitDir}/commondir`)?.trim();
  return common ? resolvePath(gitDir, common) : gitDir;
}

function expandHome(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return `${homedir()}${path.slice(1)}`;
  return isAbsolute(path) ? resolvePath(path) : resolvePath(base, path);
}

/**
 * The files of info/ that git trusts: exclude (what `git status` hides),
 * attributes (which filter and diff drivers run on which files),
 * sparse-checkout and grafts. Not info/ itself: `git gc` rewrites
 * info/refs and info/packs for dumb transports.
 */
const INFO_FILES = ["exclude", "attributes", "sparse-checkout", "grafts"];

/** The files and directories of one git directory that git executes or trusts. */
function gitDirPaths(gitDir: string, of: string): GitProtected[] {
  return [
    { path: `${gitDir}/hooks`, what: `hooks of ${of}`, ifMissing: "placeholder" },
    ...INFO_FILES.map((name): GitProtected => ({
      path: `${gitDir}/info/${name}`,
      what: `info/${name} of ${of}`,
      ifMissing: "repair",
    })),
    { path: `${gitDir}/config`, what: `config of ${of}`, ifMissing: "skip" },
    { path: `${gitDir}/config.worktree`, what: `config.worktree of ${of}`, ifMissing: "placeholder" },
    { path: `${gitDir}/commondir`, what: `commondir of ${of}`, ifMissing: "repair" },
  ];
}

/** A linked worktree's administrative directory: its pointers and its own config. */
function worktreeAdminPaths(admin: string): GitProtected[] {
  return [
    { path: `${admin}/commondir`, what: `commondir of the worktree ${admin}`, ifMissing: "skip" },
    { path: `${admin}/gitdir`, what: `gitdir: pointer of the worktree ${admin}`, ifMissing: "skip" },
    { path: `${admin}/config.worktree`, what: `config.worktree of the worktree ${admin}`, ifMissing: "placeholder" },
  ];
}

const MAX_MODULE_DEPTH = 8;

/** Submodules' git directories under `modules/` (names may hold slashes: modules/lib/a), at any nesting. */
export function moduleGitDirs(commonDir: string, depth = 0): string[] {
  if (depth > MAX_MODULE_DEPTH) return [];
  const dirs: string[] = [];
  for (const entry of entriesOf(`${commonDir}/modules`) ?? []) {
    if (!entry.isDirectory()) continue;
    dirs.push(...moduleDirsBelow(`${commonDir}/modules/${entry.name}`, depth));
  }
  return dirs;
}

function moduleDirsBelow(dir: string, depth: number): string[] {
  if (depth > MAX_MODULE_DEPTH) return [];
  if (lstatOrUndefined(`${dir}/HEAD`) || lstatOrUndefined(`${dir}/config`)) {
    return [dir, ...moduleGitDirs(dir, depth + 1)];
  }
  return (entriesOf(dir) ?? [])
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => moduleDirsBelow(`${dir}/${entry.name}`, depth + 1));
}

/** core.hooksPath and included config files, read from the configs git reads for this repository. */
function configReferences(gitDir: string, commonDir: string, workTree: string, of: string): GitProtected[] {
  const out: GitProtected[] = [];
  for (const config of [`${commonDir}/config`, `${gitDir}/config.worktree`]) {
    const entries = configEntries(readSmall(config) ?? "");
    const hooksPath = hooksPathOf(entries);
    if (hooksPath) {
      const dir = expandHome(hooksPath, workTree);
      // husky's stubs in .husky/_ run the scripts beside them (.husky/pre-commit): the hooks are really those.
      const husky = basename(dir) === "_" && basename(dirname(dir)) === ".husky";
      out.push({
        path: husky ? dirname(dir) : dir,
        what: husky ? `husky's hooks, core.hooksPath of ${of}` : `core.hooksPath of ${of}`,
        ifMissing: "placeholder",
      });
    }
    for (const include of includePathsOf(entries)) {
      out.push({ path: expandHome(include, dirname(config)), what: `a file ${config} includes`, ifMissing: "repair" });
    }
  }
  return out;
}

/** Everything git executes or trusts for the repository at `dotGit`. */
export function protectedGitPaths(dotGit: DotGit): GitProtected[] {
  const of = dotGit.path;
  const pointer: GitProtected[] =
    dotGit.kind === "dir" ? [] : [{ path: dotGit.path, what: `the gitdir: pointer ${of}`, ifMissing: "skip" }];
  const gitDir = gitDirOf(dotGit);
  if (!gitDir) return pointer;
  const commonDir = commonDirOf(gitDir);
  const shared = commonDir === gitDir ? [] : gitDirPaths(commonDir, of).filter((p) => !p.path.endsWith("/commondir"));
  const worktrees = (entriesOf(`${commonDir}/worktrees`) ?? [])
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => worktreeAdminPaths(`${commonDir}/worktrees/${entry.name}`));
  const modules = moduleGitDirs(commonDir).flatMap((module) => gitDirPaths(module, `the submodule ${module}`));
  return [
    ...pointer,
    ...gitDirPaths(gitDir, of),
    ...shared,
    ...worktrees,
    ...modules,
    ...configReferences(gitDir, commonDir, dirname(dotGit.path), of),
  ];
}

/** The protected paths of every repository found, each path once (the first reason wins). */
export function protectedPathsOf(found: readonly DotGit[]): GitProtected[] {
  const byPath = new Map<string, GitProtected>();
  for (const dotGit of found) {
    for (const entry of protectedGitPaths(dotGit)) if (!byPath.has(entry.path)) byPath.set(entry.path, entry);
  }
  return [...byPath.values()];
}
