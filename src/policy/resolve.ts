// Turns a composed Policy into absolute, canonical paths checked against the
// host: globs expanded, secure defaults added, unsafe write roots refused.
import { statSync, type Stats } from "node:fs";
import { homedir } from "node:os";
import { dirname, resolve as resolvePath } from "node:path";
import { CordonError } from "../errors.ts";
import { readSmallFile } from "./small-file.ts";
import { gitIncludePaths } from "./git-config.ts";
import { gitDirsFor } from "./git-dirs.ts";
import { expandGlob, GlobBudget, splitGlob } from "./glob.ts";
import {
  expandPath,
  isGlob,
  isWithin,
  placeholderAt,
  lstatOrUndefined,
  // Checked: a real path or a link target that is not UTF-8 is refused, not decoded.
  readlinkUtf8 as readlinkSync,
  realpathUtf8 as realpathSync,
  walkPath,
} from "./paths.ts";
import type { Policy } from "./schema.ts";
import { findDotGits, GIT_SEARCH, protectedPathsOf, type DotGit, type IfMissing } from "./git.ts";
import { hiddenSecrets, redactedSecrets, type RedactFormat, type SecretContext, type SecretName } from "./secrets.ts";

type ResolvedKind = "dir" | "file" | "missing" | "symlink";

export interface ResolvedPath {
  path: string;
  kind: ResolvedKind;
  /** What asked for it: the entry as written, or "default:<secret name>". */
  origin: string;
  /** kind "missing": its deepest existing ancestor, below which nothing of it exists yet. */
  existing?: string;
  /** kind "file": its hard-link count; other names of the same file are not covered. */
  links?: number;
}

/** A file of a secure default that the command sees as a copy with the secret lines removed. */
export interface RedactedFile {
  /** Canonical: a copy is mounted on the file itself, never on a symlink to it. */
  path: string;
  secret: SecretName;
  format: RedactFormat;
  /** Its hard-link count: a copy bound over one name leaves the others readable. */
  links: number;
  /** git-config: every file it includes, so that the copy points where cordon covered it. */
  includes?: IncludedFile[];
  /** The redacted file whose include brought this one in (git reads it through the copy). */
  includedBy?: string;
}

/** One include of a git config file: the path as written, and the file git would read for it. */
export interface IncludedFile {
  written: string;
  /** Canonical when it exists; otherwise absolute, as git would look for it. */
  path: string;
  /** Hidden by the policy, or reached through a planted symlink: the copy drops the include. */
  dropped?: boolean;
}

export interface ResolvedPolicy extends Omit<
  Policy,
  "write" | "denyWrite" | "denyRead" | "protectGit" | "protectFiles" | "releaseFiles"
> {
  cwd: string;
  writeRoots: string[];
  denyWrite: ResolvedPath[];
  denyRead: ResolvedPath[];
  /** Existing files of the secure defaults presented as redacted copies (not hidden, not revealed). */
  redact: RedactedFile[];
  /** Directories a deny glob could not look inside (the user may not list them), for -v and explain. */
  unreadableGlobDirs: string[];
  /** protectGit: the repositories found and what of each must not change. */
  git: GitProtection;
  /** protectFiles minus releaseFiles, at the top of each write root. */
  projectFiles: GitProtectedPath[];
}

/** A path git executes or trusts, resolved like a deny path. */
export interface GitProtectedPath extends ResolvedPath {
  /** What it is to git: "hooks of /w/.git". */
  what: string;
  ifMissing: IfMissing;
}

export interface GitProtection {
  enabled: boolean;
  /** The search's scope and what it cost. */
  search: { maxDepth: number; skipped: readonly string[]; directories: number; truncated: boolean };
  repositories: DotGit[];
  protect: GitProtectedPath[];
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

/**
 * Resolves deny entries one component at a time, without following any
 * symlink that lies inside a write root: a sandboxed command can plant one
 * there at any moment, and a plan that followed it would protect a decoy.
 * Symlinks outside the write roots (a home directory on another disk) are
 * followed; the sandbox cannot change them. lstat results are shared by all
 * entries of one resolution.
 */
class DenyResolver {
  private readonly stats = new Map<string, Stats | undefined>();

  constructor(private readonly writeRoots: readonly string[]) {}

  private lstat(path: string): Stats | undefined {
    if (!this.stats.has(path)) {
      const stat = lstatOrUndefined(path);
      this.stats.set(path, stat && this.isPlaceholder(path, stat) ? undefined : stat);
    }
    return this.stats.get(path);
  }

  /** A placeholder (another run's, or one left behind) stands for a path that does not exist. */
  private isPlaceholder(path: string, stat: Stats): boolean {
    return stat.isDirectory() && placeholderAt(path) !== undefined;
  }

  private insideARoot(path: string): string | undefined {
    return this.writeRoots.find((root) => isWithin(path, root) && path !== root);
  }

  /**
   * A deny entry, canonical; a symlink protects both itself and its target.
   * Symlinks on the way are followed by splicing their target into the walk,
   * so every link met, at any depth of any target, is checked.
   */
  resolve(path: string, origin: string, depth = 0): ResolvedPath[] {
    const pending = path.split("/").filter(Boolean).reverse();
    let current = "/";
    for (let links = 0; pending.length > 0;) {
      const part = pending.pop()!;
      if (part === ".") continue;
      if (part === "..") {
        current = dirname(current);
        continue;
      }
      const next = current === "/" ? `/${part}` : `${current}/${part}`;
      const stat = this.lstat(next);
      if (!stat) {
        const missing = [next, ...pending.reverse()].join("/");
        return [{ path: missing, kind: "missing", origin, existing: current }];
      }
      if (!stat.isSymbolicLink()) {
        current = next;
        continue;
      }
      if (pending.length === 0 && links === 0 && depth < MAX_SYMLINKS) return this.symlinkEntry(next, origin, depth);
      const root = this.insideARoot(next);
      if (root) {
        throw new CordonError(
          `the deny path ${path} goes through the symlink ${next}, which lies inside the write root ${root}`,
          { hint: "a sandboxed command could have planted it; name the real path instead" },
        );
      }
      if (++links > MAX_SYMLINKS) throw new CordonError(`the deny path ${path} has too many levels of symlinks`);
      const target = readlinkSync(next);
      if (target.startsWith("/")) current = "/";
      pending.push(...target.split("/").filter(Boolean).reverse());
    }
    const stat = this.lstat(current)!;
    if (current === "/" || stat.isDirectory()) return [{ path: current, kind: "dir", origin }];
    return [{ path: current, kind: "file", origin, links: stat.nlink }];
  }

  /** The link itself, and whatever its target resolves to (without following links inside write roots). */
  private symlinkEntry(link: string, origin: string, depth: number): ResolvedPath[] {
    const target = readlinkSync(link);
    const absolute = target.startsWith("/") ? target : `${dirname(link)}/${target}`;
    return [{ path: link, kind: "symlink", origin }, ...this.resolve(absolute, origin, depth + 1)];
  }
}

/** As the kernel's limit: a loop of links ends the walk. */
const MAX_SYMLINKS = 40;

function expandDenyList(
  entries: readonly string[],
  cwd: string,
  writeRoots: readonly string[],
  budget: GlobBudget,
  resolver: DenyResolver,
): ResolvedPath[] {
  const out: ResolvedPath[] = [];
  for (const entry of entries) {
    if (!isGlob(entry)) {
      out.push(...resolver.resolve(expandPath(entry, cwd), entry));
      continue;
    }
    const expanded = entry.startsWith("~") ? expandPath(entry, cwd) : entry;
    const matches = expanded.startsWith("/")
      ? (({ base, rest }) => expandGlob(base, rest, budget).matches)(splitGlob(expanded))
      : // A relative glob is matched under each write root.
        writeRoots.flatMap((root) => expandGlob(root, expanded, budget).matches);
    for (const match of matches) out.push(...resolver.resolve(match, entry));
  }
  return out;
}

/** A symlink entry protects the link itself; any other kind, what is at the path. */
const key = (entry: ResolvedPath) => `${entry.kind === "symlink" ? "l" : "p"}${entry.path}`;

function unique<T extends ResolvedPath>(paths: T[]): T[] {
  return [...new Map(paths.map((entry) => [key(entry), entry])).values()];
}

/** Candidate secret paths, each glob (`$RUNNER_TEMP/git-credentials-*.config`) expanded. */
function existingCandidates(path: string, budget: GlobBudget): string[] {
  if (!isGlob(path)) return lstatOrUndefined(path) ? [path] : [];
  const { base, rest } = splitGlob(path);
  return expandGlob(base, rest, budget).matches;
}

interface ResolveContext {
  cwd: string | undefined;
  home?: string;
  env?: Record<string, string | undefined>;
}

/**
 * A candidate's resolution, or undefined when a symlink inside a write root
 * lies on its way (a worktree's `gitdir:` through a planted link): the same
 * reason as below to leave it out, rather than refuse the whole run.
 */
function resolvedOrPlanted(resolver: DenyResolver, path: string, origin: string): ResolvedPath[] | undefined {
  try {
    return resolver.resolve(path, origin);
  } catch (error) {
    if (error instanceof CordonError) return undefined;
    throw error;
  }
}

/**
 * The redacted-copy files that exist, canonical, minus those already hidden
 * (hiding wins). A candidate that is a symlink inside a write root is
 * skipped: an earlier sandboxed run could have planted `.git/config ->
 * ~/.npmrc` so that the npm file got git's redaction, which keeps its token.
 * The target is covered under its own name, if it is a secret at all.
 */
function redactedFiles(
  policy: Policy,
  context: SecretContext,
  resolver: DenyResolver,
  writeRoots: readonly string[],
  hidden: (entry: ResolvedPath) => boolean,
): RedactedFile[] {
  const files = new Map<string, RedactedFile>();
  const planted = (entry: ResolvedPath) =>
    entry.kind === "symlink" && writeRoots.some((root) => isWithin(entry.path, root) && entry.path !== root);
  /** Where git reads a file: a path opened as written (relative includes follow it), and the file behind it. */
  const opened = new Map<string, string>();
  for (const { name, path, format } of redactedSecrets(policy.reveal, context)) {
    if (!lstatOrUndefined(path)) continue;
    const entries = resolvedOrPlanted(resolver, path, `default:${name}`);
    if (!entries) continue;
    const target = entries.at(-1)!;
    if (entries.some(planted) || target.kind !== "file" || hidden(target) || files.has(target.path)) continue;
    files.set(target.path, { path: target.path, secret: name, format, links: target.links ?? 1 });
    opened.set(target.path, path);
  }
  followIncludes(files, opened, context.home, (path, origin) => {
    const entries = lstatOrUndefined(path) ? resolvedOrPlanted(resolver, path, origin) : [];
    if (!entries) return { path, dropped: true };
    const target = entries.at(-1);
    if (!target) return { path };
    if (entries.some(planted) || target.kind !== "file" || hidden(target)) return { path, dropped: true };
    return { path: target.path, links: target.links ?? 1 };
  });
  return [...files.values()];
}

/** git stops at 10 nested includes; cordon follows as deep, and at most this many included files in all. */
const MAX_INCLUDE_DEPTH = 10;
const MAX_INCLUDED_FILES = 64;

/** A config file's text, or "" when it is not a small regular file now (a FIFO planted in a write root, say). */
function readConfig(path: string): string {
  return readSmallFile(path, { followSymlinks: false })?.toString("utf8") ?? "";
}

/** An include's path as git resolves it: `~/` from home, a relative one from the including file's directory. */
function includeTarget(written: string, includer: string, home: string): string {
  if (written === "~" || written.startsWith("~/")) return resolvePath(home, written.slice(2));
  return resolvePath(dirname(includer), written);
}

/**
 * Adds every file a redacted git config includes (include.path,
 * includeIf.*.path, whatever the condition) as a redacted file of the same
 * secret, and records each include on its includer: a token kept in
 * `~/.gitconfig-secret` is as secret as one in `~/.gitconfig`, and git reads
 * it through the copy. A missing file is recorded but not covered (git skips
 * it); a hidden or planted one is recorded as dropped.
 */
function followIncludes(
  files: Map<string, RedactedFile>,
  opened: Map<string, string>,
  home: string,
  cover: (path: string, origin: string) => { path: string; dropped?: true; links?: number },
): void {
  let queue = [...files.values()].filter((file) => file.format === "git-config");
  let added = 0;
  for (let depth = 0; depth < MAX_INCLUDE_DEPTH && queue.length > 0; depth++) {
    const next: RedactedFile[] = [];
    for (const file of queue) {
      const includer = opened.get(file.path) ?? file.path;
      file.includes = gitIncludePaths(readConfig(file.path)).map((written) => {
        const covered = cover(includeTarget(written, includer, home), `default:${file.secret}`);
        if (covered.links !== undefined && !files.has(covered.path)) {
          // Beyond the limit the include is dropped from the copy rather than left pointing at the original.
          if (++added > MAX_INCLUDED_FILES) return { written, path: covered.path, dropped: true };
          const included: RedactedFile = { ...file, path: covered.path, links: covered.links, includedBy: file.path };
          delete included.includes;
          files.set(covered.path, included);
          opened.set(covered.path, includeTarget(written, includer, home));
          next.push(included);
        }
        return { written, path: covered.path, ...(covered.dropped ? { dropped: true } : {}) };
      });
    }
    queue = next;
  }
}

export const NO_GIT: GitProtection = {
  enabled: false,
  search: { maxDepth: GIT_SEARCH.maxDepth, skipped: GIT_SEARCH.skipped, directories: 0, truncated: false },
  repositories: [],
  protect: [],
};

/**
 * Every repository in the write roots and what of it must not change. A
 * protected path reached through a symlink planted inside a write root
 * refuses the run, as any deny path does: protecting the decoy would leave
 * the real file open.
 */
/** A protected path resolved like a deny path; a symlink planted on its way refuses the run, naming `what`. */
function resolveProtected(resolver: DenyResolver, path: string, what: string): ResolvedPath[] {
  try {
    return resolver.resolve(path, what.startsWith("project file") ? what : `git: ${what}`);
  } catch (error) {
    if (!(error instanceof CordonError)) throw error;
    throw new CordonError(`protecting ${what}: ${error.message}`, error.hint ? { hint: error.hint } : {});
  }
}

/** The project files protected at the top of each write root: protectFiles minus releaseFiles. */
function projectFilesOf(
  policy: Policy,
  writeRoots: readonly string[],
  resolver: DenyResolver,
  hidden: (entry: ResolvedPath) => boolean,
): GitProtectedPath[] {
  const released = new Set(policy.releaseFiles);
  const names = policy.protectFiles.filter((name) => !released.has(name));
  return unique(
    writeRoots.flatMap((root) =>
      names.flatMap((name) => {
        const what = `project file ${name} (protectFiles)`;
        return resolveProtected(resolver, `${root}/${name}`, what)
          .filter((entry) => !hidden(entry))
          .map((entry) => ({ ...entry, what, ifMissing: "placeholder" as const }));
      }),
    ),
  );
}

function gitProtection(
  writeRoots: readonly string[],
  resolver: DenyResolver,
  hidden: (entry: ResolvedPath) => boolean,
): GitProtection {
  const search = findDotGits(writeRoots);
  const unnameable = search.found.find((dotGit) => dotGit.bytes !== undefined);
  if (unnameable) {
    throw new CordonError(`protecting git: the repository ${unnameable.path} has a path that is not UTF-8`, {
      hint: "cordon protects git's files by name: rename that directory, or set protectGit: false",
    });
  }
  const protect: GitProtectedPath[] = [];
  for (const { path, what, ifMissing } of protectedPathsOf(search.found)) {
    for (const entry of resolveProtected(resolver, path, what))
      if (!hidden(entry)) protect.push({ ...entry, what, ifMissing });
  }
  return {
    enabled: true,
    search: { ...NO_GIT.search, directories: search.directories, truncated: search.truncated },
    repositories: search.found,
    protect: unique(protect),
  };
}

export function resolvePolicy(policy: Policy, context: ResolveContext): ResolvedPolicy {
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
  if (policy.caches.length > 0 && writeRoots.length === 0) {
    throw new CordonError(`--cache ${policy.caches[0]} needs a write root to keep the cache in`, {
      hint: "add -w . (the cache goes to <root>/.cache/<tool>)",
    });
  }

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
  const resolver = new DenyResolver(writeRoots);
  const gitDirs = gitDirsFor([cwd, ...writeRoots], writeRoots);
  const secretContext: SecretContext = { home, env: context.env ?? process.env, gitDirs };
  const secrets = hiddenSecrets(policy.reveal, secretContext).flatMap(({ name, path }) =>
    existingCandidates(path, budget).flatMap((match) => resolver.resolve(match, `default:${name}`)),
  );

  // A missing read-denied path outside the write roots stays in: the host could create it during the run.
  const allRead = unique([...expandDenyList(policy.denyRead, cwd, writeRoots, budget, resolver), ...secrets]);
  // Looked up by ancestor, not compared pairwise: deny lists can hold thousands of paths.
  const hiddenDirs = new Set(allRead.filter((entry) => entry.kind === "dir").map((entry) => entry.path));
  const isHiddenBelow = (entry: ResolvedPath) => {
    for (let at = dirname(entry.path); ; at = dirname(at)) {
      if (hiddenDirs.has(at)) return true;
      if (at === "/") return false;
    }
  };
  const denyRead = allRead.filter((entry) => !isHiddenBelow(entry));
  // A write-denied path that is also read-denied, or inside a hidden
  // directory, is already hidden and read-only: deny-read wins.
  const readDenied = new Set(denyRead.map(key));
  const denyWrite = unique(expandDenyList(policy.denyWrite, cwd, writeRoots, budget, resolver)).filter(
    (entry) => !isHiddenBelow(entry) && !readDenied.has(key(entry)),
  );

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
  const allowSockets = policy.allowSockets.map((socket) => allowedSocket(expandPath(socket, cwd, home), denyRead));
  const redact = redactedFiles(
    policy,
    secretContext,
    resolver,
    writeRoots,
    (entry) => isHiddenBelow(entry) || readDenied.has(key(entry)),
  );
  const hiddenEntry = (entry: ResolvedPath) => isHiddenBelow(entry) || readDenied.has(key(entry));
  const git = policy.protectGit ? gitProtection(writeRoots, resolver, hiddenEntry) : NO_GIT;
  const projectFiles = projectFilesOf(policy, writeRoots, resolver, hiddenEntry);
  const {
    write: _w,
    denyWrite: _dw,
    denyRead: _dr,
    protectGit: _pg,
    protectFiles: _pf,
    releaseFiles: _rf,
    ...rest
  } = policy;
  return {
    git,
    projectFiles,
    ...rest,
    cwd,
    writeRoots,
    denyWrite,
    denyRead,
    redact,
    allowSockets: [...new Set(allowSockets)],
    unreadableGlobDirs: budget.skippedDirs(),
  };
}

/** An allowed socket, canonical; it must be a socket now, and not one the policy hides. */
function allowedSocket(path: string, denyRead: readonly ResolvedPath[]): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    if (error instanceof CordonError) throw error;
    throw new CordonError(`--allow-socket ${path}: no such socket`);
  }
  if (!statSync(real).isSocket()) throw new CordonError(`--allow-socket ${path}: not a unix socket`);
  const hidden = denyRead.find((entry) => entry.path === real || (entry.kind === "dir" && isWithin(real, entry.path)));
  if (hidden) {
    const reveal = hidden.origin.startsWith("default:") ? `; --reveal ${hidden.origin.slice(8)} lifts it` : "";
    throw new CordonError(`--allow-socket ${path}: the policy hides ${hidden.path}${reveal}`);
  }
  return real;
}
