// The host side of protectGit (plan/git-guard.ts). Before the run it records
// each path the mode cannot hold; after the run, when no sandboxed process
// is left, it puts back whatever changed, then looks for repositories that
// appeared during the run and neutralises any that could make git run a
// program. Everything here acts inside the write roots only, never follows
// a symlink there, and reports what it did as data.
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { basename, dirname } from "node:path";
import { escapeBytes } from "../bytes.ts";
import { CordonError } from "../errors.ts";
import { dropHandled, writeOwnRecords, type OtherRecords } from "./git-guard-records.ts";
import type { GitGuardPlan, GuardedPath } from "../plan/git-guard.ts";
import { executingKeys, neutralisedConfig } from "../policy/git-config.ts";
import { commonDirOf, findDotGits, GIT_SEARCH, gitDirOf, moduleGitDirs, type DotGit } from "../policy/git.ts";
import { isWithin, lstatOrUndefined } from "../policy/paths.ts";

type Snapshot =
  | { kind: "absent" }
  | { kind: "file"; mode: number; uid: number; gid: number; data: Buffer }
  | { kind: "symlink"; target: string; uid: number; gid: number }
  | { kind: "dir"; mode: number; uid: number; gid: number; entries: Map<string, Snapshot> }
  /** A FIFO, socket or device: not something git runs; what stood there is not recreated. */
  | { kind: "other" };

/** Bounds on what one run records: git's hooks and configs are small. */
const LIMITS = { entries: 20_000, bytes: 64 * 1024 * 1024 };

class Budget {
  entries = 0;
  bytes = 0;
  exceeded = false;
  charge(bytes: number): boolean {
    this.entries++;
    this.bytes += bytes;
    this.exceeded ||= this.entries > LIMITS.entries || this.bytes > LIMITS.bytes;
    return !this.exceeded;
  }
}

const owner = (stat: Stats) => ({ uid: stat.uid, gid: stat.gid });

function snapshotOf(path: string, budget: Budget): Snapshot {
  const stat = lstatOrUndefined(path);
  if (!stat) return { kind: "absent" };
  if (stat.isSymbolicLink())
    return budget.charge(0) ? { kind: "symlink", target: readlinkSync(path), ...owner(stat) } : { kind: "other" };
  if (stat.isFile()) {
    if (!budget.charge(stat.size)) return { kind: "other" };
    return { kind: "file", mode: stat.mode & 0o7777, ...owner(stat), data: readFileSync(path) };
  }
  if (!stat.isDirectory()) return { kind: "other" };
  const entries = new Map<string, Snapshot>();
  if (!budget.charge(0)) return { kind: "other" };
  for (const name of readdirSync(path).sort()) {
    entries.set(name, snapshotOf(`${path}/${name}`, budget));
    if (budget.exceeded) break;
  }
  return { kind: "dir", mode: stat.mode & 0o7777, ...owner(stat), entries };
}

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "file" && b.kind === "file") return a.mode === b.mode && a.data.equals(b.data);
  if (a.kind === "symlink" && b.kind === "symlink") return a.target === b.target;
  if (a.kind === "dir" && b.kind === "dir") {
    if (a.mode !== b.mode || a.entries.size !== b.entries.size) return false;
    for (const [name, entry] of a.entries) {
      const other = b.entries.get(name);
      if (!other || !sameSnapshot(entry, other)) return false;
    }
    return true;
  }
  return a.kind === b.kind;
}

/** A digest of a snapshot's content (kinds, modes, bytes, names; not owners), for other runs to compare. */
function digestOf(snapshot: Snapshot): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const feed = (entry: Snapshot): void => {
    hasher.update(`${entry.kind}:`);
    if (entry.kind === "file") hasher.update(`${entry.mode}:${entry.data.length}:`).update(entry.data);
    else if (entry.kind === "symlink") hasher.update(`${entry.target.length}:${entry.target}`);
    else if (entry.kind === "dir") {
      hasher.update(`${entry.mode}:${entry.entries.size}:`);
      for (const [name, child] of entry.entries) {
        hasher.update(`${name.length}:${name}`);
        feed(child);
      }
    }
  };
  feed(snapshot);
  return hasher.digest("hex");
}

/** As root, what cordon writes back keeps its owner; as anyone else, it is the caller's anyway. */
function restoreOwner(path: string, snapshot: { uid: number; gid: number }): void {
  if (process.getuid?.() !== 0) return;
  try {
    chownSync(path, snapshot.uid, snapshot.gid);
  } catch {
    // A file system without ownership (vfat): nothing to put back.
  }
}

function create(path: string, snapshot: Snapshot): void {
  if (snapshot.kind === "file") {
    writeFileSync(path, snapshot.data, { flag: "wx", mode: 0o600 });
    restoreOwner(path, snapshot);
    chmodSync(path, snapshot.mode);
  } else if (snapshot.kind === "symlink") {
    symlinkSync(snapshot.target, path);
  } else if (snapshot.kind === "dir") {
    mkdirSync(path, { mode: 0o700 });
    for (const [name, entry] of snapshot.entries) create(`${path}/${name}`, entry);
    restoreOwner(path, snapshot);
    chmodSync(path, snapshot.mode);
  }
}

export interface GuardRecord {
  paths: {
    guarded: GuardedPath;
    root: string;
    before: Snapshot;
    /**
     * Whether `before` may be put back: false when another live cordon run
     * held the path as this one recorded it, since that run's command may
     * already have changed it. A change is then disarmed instead.
     */
    trusted: boolean;
  }[];
  /** What killed runs left changed, disarmed before this run started. */
  disarmed: RepairedPath[];
  /** This run's record file for other runs, removed after the repair. */
  file?: string;
}

/** What was put back after the run, for the report and one line on stderr. */
export interface RepairedPath {
  path: string;
  what: string;
  /**
   * "restored": put back as it was; "removed": it did not exist before the
   * run; "disarmed": it changed while another run held it too, or a killed
   * run could not repair it, and what to put back is not known here, so it
   * was moved aside (a config keeping its harmless entries).
   */
  action: "restored" | "removed" | "disarmed";
}

/**
 * Records each path to repair. A record too large to keep (a hooks
 * directory of thousands of files) refuses the run: restoring part of it
 * would protect part of it.
 *
 * Other runs count (stage1/git-guard-records.ts). A path that a killed run
 * recorded and that differs from its record now was never repaired: it is
 * disarmed first. A path another live cordon run holds is recorded as
 * untrusted: this run may have started after that run's command changed it.
 */
export function recordGuarded(
  plan: GitGuardPlan,
  writeRoots: readonly string[],
  readOthers: () => readonly OtherRecords[] = () => [],
): GuardRecord {
  const budget = new Budget();
  const held = new Map([...plan.prevented, ...plan.repaired].map((guarded) => [guarded.path, guarded]));
  const disarmed: RepairedPath[] = [];
  const before = readOthers();
  for (const other of before.filter((run) => run.state === "stale")) {
    const handled = new Set<string>();
    for (const stale of other.records) {
      const guarded = held.get(stale.path);
      const root = guarded && rootOf(guarded.path, writeRoots);
      if (!guarded || !root) continue;
      handled.add(stale.path);
      if (!realDirectoriesTo(root, dirname(guarded.path))) continue;
      if (digestOf(snapshotOf(guarded.path, new Budget())) === stale.digest) continue;
      if (disarm(guarded.path)) disarmed.push({ ...guarded, action: "disarmed" });
    }
    dropHandled(other, handled);
  }
  const recorded = plan.repaired.flatMap((guarded) => {
    const root = rootOf(guarded.path, writeRoots);
    return root ? [{ guarded, root, before: snapshotOf(guarded.path, budget) }] : [];
  });
  // Read again after recording: a run whose command changed a path before this record was taken wrote its
  // own record first. And look twice: if that run repaired in between, the path changed under this record.
  const live = new Set(
    [...before, ...readOthers()]
      .filter((run) => run.state === "live")
      .flatMap((run) => run.records.map((record) => record.path)),
  );
  const paths = recorded.map((entry) => ({
    ...entry,
    trusted: !live.has(entry.guarded.path) && sameSnapshot(entry.before, snapshotOf(entry.guarded.path, new Budget())),
  }));
  if (budget.exceeded) {
    throw new CordonError(
      `protecting git: the paths to restore after the run hold more than ${LIMITS.entries} entries or ` +
        `${LIMITS.bytes >> 20} MiB`,
      {
        hint:
          "run where bwrap works (it prevents instead of restoring), or set protectGit: false; " +
          "the command was not run",
      },
    );
  }
  const file = writeOwnRecords(
    paths.map(({ guarded, before }) => ({ path: guarded.path, digest: digestOf(before) })),
    writeRoots,
  );
  return { paths, disarmed, ...(file ? { file } : {}) };
}

function rootOf(path: string, writeRoots: readonly string[]): string | undefined {
  return writeRoots.find((writable) => isWithin(path, writable) && path !== writable);
}

/**
 * Moves `path` aside, whatever it is, without following it. A config gets
 * its harmless entries back in its place (a regular file with one link
 * only: cordon never reads through a link the command made), a hooks
 * directory an empty directory, so that git keeps working.
 */
function disarm(path: string): boolean {
  const stat = lstatOrUndefined(path);
  if (!stat) return false;
  const aside = asideName(path);
  renameSync(path, aside);
  const name = basename(path);
  if (name === "config" || name === "config.worktree") {
    const text = stat.isFile() && stat.nlink === 1 ? (readText(aside) ?? "") : "";
    writeFileSync(path, neutralisedConfig(text).text, { flag: "wx", mode: 0o644 });
  } else if (name === "hooks") {
    mkdirSync(path, { mode: 0o755 });
  }
  return true;
}

/**
 * Makes every directory from `root` down to `dir` a real directory again: a
 * symlink or a file the command put on the way is removed (unlink removes
 * the link, never its target). False when a directory on the way is gone:
 * the repository went with it, and nothing is left for git to run.
 */
function realDirectoriesTo(root: string, dir: string): boolean {
  const parts = dir.slice(root.length).split("/").filter(Boolean);
  let at = root;
  for (const part of parts) {
    at = `${at}/${part}`;
    const stat = lstatOrUndefined(at);
    if (!stat) return false;
    if (stat.isDirectory()) continue;
    rmSync(at, { force: true });
    mkdirSync(at, { mode: 0o755 });
  }
  return true;
}

/**
 * Puts back every recorded path that changed. Runs after the sweep: nothing
 * sandboxed is left to race it. Where this run's record is untrusted (another
 * live run held the path when it was taken), a change is disarmed rather
 * than put back; either way this run's record file goes.
 */
export function repairGuarded(record: GuardRecord): RepairedPath[] {
  const repaired: RepairedPath[] = [];
  // Shallowest first: a symlinked pointer is put back before what lies behind it.
  const ordered = [...record.paths].sort((a, b) => a.guarded.path.length - b.guarded.path.length);
  for (const { guarded, root, before, trusted } of ordered) {
    if (!realDirectoriesTo(root, dirname(guarded.path))) continue;
    if (sameSnapshot(before, snapshotOf(guarded.path, new Budget()))) continue;
    if (!trusted) {
      if (disarm(guarded.path)) repaired.push({ ...guarded, action: "disarmed" });
      continue;
    }
    rmSync(guarded.path, { recursive: true, force: true });
    create(guarded.path, before);
    repaired.push({ ...guarded, action: before.kind === "absent" ? "removed" : "restored" });
  }
  if (record.file) rmSync(record.file, { force: true });
  return repaired;
}

/** A repository that appeared during the run and could make git run a program, and what cordon did. */
export interface NeutralisedRepository {
  /** The `.git` as found. */
  path: string;
  /** The executing keys and hooks found. */
  found: string[];
  /** What cordon changed, in words. */
  actions: string[];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return undefined;
  }
}

/**
 * The git directory and the common directory a `.git` leads to (as in
 * policy/git.ts), if any; undefined when the pointer leads to a path that is
 * not UTF-8, which cordon cannot inspect by name.
 */
function dirsOf(dotGit: DotGit): string[] | undefined {
  try {
    const gitDir = gitDirOf(dotGit);
    return gitDir ? [...new Set([gitDir, commonDirOf(gitDir)])] : [];
  } catch (error) {
    if (error instanceof CordonError) return undefined;
    throw error;
  }
}

/**
 * Hooks git would run: every entry of hooks/ that is executable or a
 * symlink, except git's own `*.sample` files (git runs a hook by its exact
 * name only, and no hook name ends in .sample).
 */
function liveHooks(hooksDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(hooksDir);
  } catch {
    return [];
  }
  return names.filter((name) => {
    if (name.endsWith(".sample")) return false;
    const stat = lstatOrUndefined(`${hooksDir}/${name}`);
    return stat !== undefined && (stat.isSymbolicLink() || (stat.mode & 0o111) !== 0);
  });
}

/** The real path of `path`'s directory, or undefined when it cannot be resolved. */
function realParentOf(path: string): string | undefined {
  try {
    return realpathSync(dirname(path));
  } catch {
    return undefined;
  }
}

/** A free name beside `path` for what cordon moves aside. */
function asideName(path: string): string {
  for (let n = 0; ; n++) {
    const candidate = `${path}.cordon-disabled${n === 0 ? "" : `-${n}`}`;
    if (!lstatOrUndefined(candidate)) return candidate;
  }
}

interface Finding {
  config: { path: string; keys: string[] }[];
  hooks: { dir: string; names: string[] }[];
}

/** The executing keys and hooks of a finding, named for the report. */
function foundOf(finding: Finding): string[] {
  return [
    ...finding.config.flatMap(({ keys }) => keys),
    ...finding.hooks.flatMap(({ names }) => names.map((name) => (name.startsWith("(") ? name : `hooks/${name}`))),
  ];
}

function findingsIn(dirs: readonly string[], guarded: ReadonlySet<string>): Finding {
  const finding: Finding = { config: [], hooks: [] };
  for (const dir of dirs) {
    for (const config of [`${dir}/config`, `${dir}/config.worktree`]) {
      if (guarded.has(config)) continue;
      const stat = lstatOrUndefined(config);
      if (!stat?.isFile() && !stat?.isSymbolicLink()) continue;
      // git follows a symlinked config wherever it leads: that alone is reason enough.
      const keys = stat.isSymbolicLink() ? ["(config is a symlink)"] : executingKeys(readText(config) ?? "");
      if (keys.length > 0) finding.config.push({ path: config, keys });
    }
    const hooksDir = `${dir}/hooks`;
    if (guarded.has(hooksDir)) continue;
    // A symlinked hooks directory is live whatever it holds now: its target can fill later.
    const names = lstatOrUndefined(hooksDir)?.isSymbolicLink() ? ["(hooks is a symlink)"] : liveHooks(hooksDir);
    if (names.length > 0) finding.hooks.push({ dir: hooksDir, names });
  }
  return finding;
}

/**
 * Disarms one new repository. Inside a write root: its config is moved to
 * `config.cordon-disabled` and replaced by its harmless entries, and its
 * hooks directory is moved to `hooks.cordon-disabled` (an empty one takes
 * its place). A `.git` pointer leading out of the write roots cannot be
 * fixed at its target (not the command's to write, nor cordon's to change):
 * the pointer itself is moved aside.
 */
function neutralise(dotGit: DotGit, finding: Finding, inRoots: (path: string) => boolean): string[] {
  const outside = [...finding.config.map((c) => c.path), ...finding.hooks.map((h) => h.dir)].some((p) => !inRoots(p));
  if (outside) {
    // Only a pointer inside a write root moves: whatever lies outside is not the command's, nor cordon's.
    if (!inRoots(dotGit.path)) return [`left ${dotGit.path} alone: it lies outside the write roots`];
    const aside = asideName(dotGit.path);
    renameSync(dotGit.path, aside);
    return [`moved ${dotGit.path} to ${aside}`];
  }
  const actions: string[] = [];
  for (const { path } of finding.config) {
    disarm(path);
    actions.push(`moved ${path} aside to ${basename(path)}.cordon-disabled and kept only its harmless entries`);
  }
  for (const { dir } of finding.hooks) {
    disarm(dir);
    actions.push(`moved ${dir} aside to hooks.cordon-disabled`);
  }
  return actions;
}

/** Moves a `.git` cordon cannot inspect aside, by its bytes; the words for the report. */
function moveAside(dotGit: DotGit): string[] {
  const bytes = dotGit.bytes ?? Buffer.from(dotGit.path);
  for (let n = 0; ; n++) {
    const aside = Buffer.concat([bytes, Buffer.from(`.cordon-disabled${n === 0 ? "" : `-${n}`}`)]);
    if (lstatSync(aside, { throwIfNoEntry: false })) continue;
    renameSync(bytes, aside);
    return [`moved ${dotGit.path} aside to ${escapeBytes(aside)}`];
  }
}

/**
 * The repositories that appeared during the run (a `.git` not there before,
 * or of another kind), within the same search scope, each neutralised if it
 * sets an executing key or holds a hook git would run.
 */
export function neutraliseNewRepositories(plan: GitGuardPlan): {
  neutralised: NeutralisedRepository[];
  /** The search stopped at its limit: repositories beyond it were not checked. */
  truncated: boolean;
} {
  if (!plan.enabled) return { neutralised: [], truncated: false };
  const { roots, known } = plan.scan;
  const before = new Set(known.map((dotGit) => `${dotGit.kind}:${dotGit.path}`));
  const guarded = new Set(plan.scan.guarded);
  // Inside a write root by its real path too: a gitdir: reached through a symlink the command planted
  // (`gitdir: ../link/.git`, link -> a repository of the user's elsewhere) is not cordon's to rewrite.
  const inRoots = (path: string) => {
    const real = realParentOf(path);
    return real !== undefined && real === dirname(path) && roots.some((root) => isWithin(path, root));
  };
  const scope = { ...GIT_SEARCH, maxDepth: plan.scan.maxDepth, skipped: plan.scan.skipped };
  const out: NeutralisedRepository[] = [];
  const search = findDotGits(roots, scope);
  for (const dotGit of search.found) {
    if (before.has(`${dotGit.kind}:${dotGit.path}`)) continue;
    const dirs = dotGit.bytes ? undefined : dirsOf(dotGit);
    if (!dirs) {
      out.push({ path: dotGit.path, found: ["(a path that is not UTF-8)"], actions: moveAside(dotGit) });
      continue;
    }
    const finding = findingsIn(dirs, guarded);
    if (finding.config.length + finding.hooks.length === 0) continue;
    out.push({ path: dotGit.path, found: foundOf(finding), actions: neutralise(dotGit, finding, inRoots) });
  }
  // A submodule git directory planted in a repository's modules/, known or new, needs no pointer to matter:
  // `git submodule update --init` on the host adopts it for a path .gitmodules names.
  for (const dotGit of search.found.filter((found) => found.bytes === undefined)) {
    const gitDir = dirsOf(dotGit)?.[0];
    if (!gitDir) continue;
    for (const module of moduleGitDirs(commonDirOf(gitDir))) {
      if (guarded.has(`${module}/config`)) continue;
      const finding = findingsIn([module], guarded);
      if (finding.config.length + finding.hooks.length === 0) continue;
      const asDotGit: DotGit = { path: module, kind: "dir" };
      out.push({ path: module, found: foundOf(finding), actions: neutralise(asDotGit, finding, inRoots) });
    }
  }
  return { neutralised: out, truncated: search.truncated };
}
