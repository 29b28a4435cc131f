// The repositories in the write roots, and what of each git executes or
// trusts: the paths that must not change during a run. git itself keeps
// working: objects, refs, the index, logs and HEAD stay writable.
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent } from "node:fs";
import { escapeBytes, utf8OrUndefined } from "../bytes.ts";
import { CordonError } from "../errors.ts";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, resolve as resolvePath } from "node:path";
import { configEntries, hooksPathsOf, includePathsOf, type ConfigEntry } from "./git-config.ts";
import { lstatOrUndefined } from "./paths.ts";
import { readSmallFile } from "./small-file.ts";

/** A gitdir: or commondir pointer is one path: git reads more, but nothing that long is a path. */
const POINTER_LIMIT = 65536;

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

/**
 * A repository found in a write root: a `.git` directory, a `gitdir:` file
 * (worktree, submodule) or a symlink, or a git directory under another name
 * (`kind` "dir", `path` the directory itself: git discovers a directory with
 * HEAD, objects/ and refs/ as a repository of its own).
 */
export interface DotGit {
  /** The path; escaped for display when it is not UTF-8 (then `bytes` holds it). */
  path: string;
  kind: DotGitKind;
  /** The path as bytes, set only when it is not UTF-8: cordon cannot protect it by name. */
  bytes?: Buffer;
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

/** What an lstat that found nothing says. */
const NONE = { isDirectory: () => false, isFile: () => false, isSymbolicLink: () => false };

interface Entry {
  name: Buffer;
  kind: DotGitKind | undefined;
}

/**
 * A directory's entries, names as bytes. Listed as text with their types
 * (one getdents, no lstat), unless the directory's path or a name is not
 * UTF-8 (a U+FFFD in a name may stand for a byte that is not): then as bytes,
 * with an lstat per entry, since Bun lists no types for names as bytes.
 */
function entriesAsBytes(dir: Buffer): Entry[] {
  const text = utf8OrUndefined(dir);
  try {
    if (text !== undefined) {
      const entries = readdirSync(text, { withFileTypes: true });
      if (!entries.some((entry) => entry.name.includes("\uFFFD"))) {
        return entries.map((entry) => ({ name: Buffer.from(entry.name), kind: kindOf(entry) }));
      }
    }
    return readdirSync(dir, { encoding: "buffer" }).map((name) => ({
      name,
      kind: kindOf(lstatSync(below(dir, name), { throwIfNoEntry: false }) ?? NONE),
    }));
  } catch {
    return [];
  }
}

const kindOf = (entry: {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}): DotGitKind | undefined =>
  entry.isDirectory() ? "dir" : entry.isFile() ? "file" : entry.isSymbolicLink() ? "symlink" : undefined;

const SLASH = Buffer.from("/");
const DOT_GIT = Buffer.from(".git");

function below(dir: Buffer, name: Buffer | string): Buffer {
  const bytes = typeof name === "string" ? Buffer.from(name) : name;
  return dir.length === 1 && dir[0] === SLASH[0] ? Buffer.concat([dir, bytes]) : Buffer.concat([dir, SLASH, bytes]);
}

function dotGitOf(bytes: Buffer, kind: DotGitKind): DotGit {
  const path = utf8OrUndefined(bytes);
  return path === undefined ? { path: escapeBytes(bytes), kind, bytes } : { path, kind };
}

/**
 * Whether git would take `dir` itself for a git directory (setup.c
 * is_git_directory): HEAD, and objects/ and refs/ that access(X_OK) finds,
 * through symlinks, or a commondir file that supplies both. Errs towards
 * yes: a HEAD with a commondir is enough. `names` is its listing, when the
 * search has one: HEAD is looked up there, and only then anything else.
 */
function isGitDirectory(dir: Buffer, names?: ReadonlyMap<string, DotGitKind | undefined>): boolean {
  const head = names ? names.get("HEAD") : kindOf(lstatSync(below(dir, "HEAD"), { throwIfNoEntry: false }) ?? NONE);
  if (head !== "file" && head !== "symlink") return false;
  const exists = (name: string) => statSync(below(dir, name), { throwIfNoEntry: false }) !== undefined;
  return exists("commondir") || (exists("objects") && exists("refs"));
}

/**
 * Every repository within the search scope of `roots`, breadth first;
 * symlinked directories are not entered, nor a git directory found. Names
 * are handled as bytes: a directory whose name is not UTF-8 is searched
 * too, and what is found below it carries its bytes.
 */
export function findDotGits(roots: readonly string[], scope = GIT_SEARCH): GitSearch {
  const found = new Map<string, DotGit>();
  const seen = new Set<string>();
  let directories = 0;
  const add = (bytes: Buffer, kind: DotGitKind) => found.set(bytes.toString("latin1"), dotGitOf(bytes, kind));
  let queue: Buffer[] = roots.map((root) => Buffer.from(root));
  for (let depth = 0; queue.length > 0 && depth <= scope.maxDepth; depth++) {
    const next: Buffer[] = [];
    for (const dir of queue) {
      const key = dir.toString("latin1");
      if (seen.has(key)) continue;
      seen.add(key);
      if (++directories > scope.maxDirectories) return { found: [...found.values()], directories, truncated: true };
      // At the last level only `.git` and a git directory matter: lstats instead of listing the directory.
      if (depth === scope.maxDepth) {
        const kind = kindOf(lstatSync(below(dir, DOT_GIT), { throwIfNoEntry: false }) ?? NONE);
        if (kind) add(below(dir, DOT_GIT), kind);
        if (isGitDirectory(dir)) add(dir, "dir");
        continue;
      }
      const entries = entriesAsBytes(dir);
      const names = new Map(entries.map((entry) => [entry.name.toString("latin1"), entry.kind]));
      if (isGitDirectory(dir, names)) {
        add(dir, "dir");
        continue;
      }
      for (const entry of entries) {
        const name = entry.name.toString("latin1");
        if (name === ".git") {
          if (entry.kind) add(below(dir, entry.name), entry.kind);
        } else if (entry.kind === "dir" && !scope.skipped.includes(name)) next.push(below(dir, entry.name));
      }
    }
    queue = next;
  }
  return { found: [...found.values()], directories, truncated: false };
}

/**
 * A path a pointer file names, as git reads it (setup.c read_gitfile_gently,
 * get_common_dir_noenv): the bytes after `prefix`, trailing CR and LF
 * removed, up to a NUL; relative to `base`; then resolved by the kernel
 * (realpath: a symlink, then `..`). Undefined when git would find nothing
 * there. A path that is not UTF-8 refuses: cordon protects paths by name.
 */
function pointerTarget(file: string, prefix: string, base: string): string | undefined {
  const bytes = readSmallFile(file, { limit: POINTER_LIMIT });
  if (!bytes || !bytes.subarray(0, prefix.length).equals(Buffer.from(prefix))) return undefined;
  let end = bytes.length;
  while (end > prefix.length && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  let pointer = bytes.subarray(prefix.length, end);
  const nul = pointer.indexOf(0);
  if (nul >= 0) pointer = pointer.subarray(0, nul);
  if (pointer.length === 0) return undefined;
  const absolute = pointer[0] === SLASH[0] ? pointer : below(Buffer.from(base), pointer);
  let real: Buffer;
  try {
    real = realpathSync(absolute, { encoding: "buffer" });
  } catch {
    return undefined;
  }
  const text = utf8OrUndefined(real);
  if (text === undefined) {
    throw new CordonError(`protecting git: ${file} leads to ${escapeBytes(real)}, a path that is not UTF-8`, {
      hint: "cordon protects git's files by name; rename that directory, or set protectGit: false",
    });
  }
  return text;
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
  return pointerTarget(dotGit.path, "gitdir: ", dirname(dotGit.path));
}

export function commonDirOf(gitDir: string): string {
  return pointerTarget(`${gitDir}/commondir`, "", gitDir) ?? gitDir;
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
  // Not through a symlink: `.git/modules -> ~/projects` would make every repository there a "submodule".
  if (!lstatOrUndefined(`${commonDir}/modules`)?.isDirectory()) return [];
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

/** git gives up at 10 nested includes; cordon follows as deep, and at most this many files in all. */
const MAX_INCLUDE_DEPTH = 10;
const MAX_CONFIG_FILES = 64;

/**
 * The config files git reads for a repository, its includes followed (every
 * include, whatever its condition: cordon protects what git might read), and
 * each file's entries.
 */
function configFiles(configs: readonly string[]): { file: string; entries: ConfigEntry[] }[] {
  const files: { file: string; entries: ConfigEntry[] }[] = [];
  const seen = new Set<string>();
  let queue = [...configs];
  for (let depth = 0; depth <= MAX_INCLUDE_DEPTH && queue.length > 0; depth++) {
    const next: string[] = [];
    for (const file of queue) {
      if (seen.has(file) || seen.size >= MAX_CONFIG_FILES) continue;
      seen.add(file);
      const entries = configEntries(readSmallFile(file)?.toString("utf8") ?? "");
      files.push({ file, entries });
      next.push(...includePathsOf(entries).map((include) => expandHome(include, dirname(file))));
    }
    queue = next;
  }
  return files;
}

/**
 * The system and global config files git reads for every repository
 * (`git config --show-origin`): a relative core.hooksPath set there
 * (`.githooks`) names a directory in each repository.
 */
function userGitConfigs(env: NodeJS.ProcessEnv = process.env): string[] {
  const system = env["GIT_CONFIG_NOSYSTEM"] ? [] : [env["GIT_CONFIG_SYSTEM"] || "/etc/gitconfig"];
  const xdg = env["XDG_CONFIG_HOME"] ? `${env["XDG_CONFIG_HOME"]}/git/config` : `${homedir()}/.config/git/config`;
  const global = env["GIT_CONFIG_GLOBAL"] ? [env["GIT_CONFIG_GLOBAL"]] : [xdg, `${homedir()}/.gitconfig`];
  return [...system, ...global];
}

/**
 * core.hooksPath and included config files, read from the configs git reads
 * for this repository (its own, the user's and the system's) and the files
 * they include: a hooks directory set in a versioned, included file or in
 * ~/.gitconfig is as live as one set in .git/config. Every core.hooksPath
 * is protected, not only the one git would pick.
 */
function configReferences(gitDir: string, commonDir: string, workTree: string, of: string): GitProtected[] {
  const out: GitProtected[] = [];
  const own = [`${commonDir}/config`, `${gitDir}/config.worktree`];
  const shared = userGitConfigs();
  for (const { file, entries } of configFiles([...shared, ...own])) {
    if (!own.includes(file) && !shared.includes(file)) {
      out.push({ path: file, what: `a config file ${of} includes`, ifMissing: "repair" });
    }
    for (const hooksPath of hooksPathsOf(entries)) {
      const dir = expandHome(hooksPath, workTree);
      // husky's stubs in .husky/_ run the scripts beside them (.husky/pre-commit): the hooks are really those.
      const husky = basename(dir) === "_" && basename(dirname(dir)) === ".husky";
      out.push({
        path: husky ? dirname(dir) : dir,
        what: husky ? `husky's hooks, core.hooksPath of ${of}` : `core.hooksPath of ${of}`,
        ifMissing: "placeholder",
      });
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
