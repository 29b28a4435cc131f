// Denies compiled into Landlock grants. Landlock rules only add rights, and a
// right granted on a directory covers everything beneath it, so a denied path
// D under a grant G cannot be carved out of G's rule. Instead the rights D
// must lose are withheld from every directory on the way from G down to D and
// granted to each sibling along that way: everything else keeps its rights,
// D does not get them, and the directories on the way lose them for
// themselves (listing, creating or removing entries directly in them).
// Pure: the directory listing is injected.
import { FILE_RIGHTS, type FsRight } from "../../ffi/landlock.ts";
import type { Identity } from "../policy/paths.ts";
import { fsMask } from "./abi.ts";

export type EntryKind = "dir" | "file" | "symlink" | "other";

export interface DirEntry {
  name: string;
  kind: EntryKind;
  /** dev and ino when listed: a walked rule inside a write root must land on this very file. */
  identity?: Identity;
}

/** The entries of a directory, or undefined when it cannot be listed. */
export type ListDirectory = (dir: string) => readonly DirEntry[] | undefined;

/**
 * "read": nothing but READ_DIR. The directories above a read-denied path keep
 * READ_DIR so that they stay listable (`ls /`, `ls ~` beside ~/.ssh); a right
 * on a directory covers everything beneath it, so a denied directory can then
 * be listed too: the names of its entries show, their contents never (a file
 * does not use READ_DIR). "write": stays readable and executable. "device": no
 * file may be opened (listing stays), for /dev in landlock-only mode, where the
 * read grant on / would reach raw disks and other users' terminals.
 */
type DenyKind = "read" | "write" | "device";

export interface Exclusion {
  /** Canonical absolute path; it need not exist (then it cannot be created). */
  path: string;
  deny: DenyKind;
}

/** Rights a write-denied path keeps: it stays readable and executable. */
const KEPT_BY_WRITE_DENY: FsRight[] = ["READ_FILE", "READ_DIR", "EXECUTE"];

/** Rights a device-denied tree keeps: its directories can be listed and searched. */
const KEPT_BY_DEVICE_DENY: FsRight[] = ["READ_DIR", "EXECUTE"];

/** Rights a read-denied path keeps: listing, so that the directories above it stay listable. */
const KEPT_BY_READ_DENY: FsRight[] = ["READ_DIR"];

const KEPT: Record<DenyKind, FsRight[]> = {
  read: KEPT_BY_READ_DENY,
  write: KEPT_BY_WRITE_DENY,
  device: KEPT_BY_DEVICE_DENY,
};

export function excludedRights(deny: DenyKind, all: bigint): bigint {
  return all & ~fsMask(KEPT[deny]);
}

interface PlacedRule {
  path: string;
  access: bigint;
  /** Found by walking the tree while planning: stage 2 must not follow symlinks to it. */
  walked: boolean;
  /** A walked rule's identity, as listed. */
  identity?: Identity;
}

/** Rights a directory on the way to denied paths keeps from no rule of its own. */
interface Withheld {
  dir: string;
  rights: bigint;
  /** The denied paths beneath it that caused this. */
  because: Exclusion[];
}

export interface Placement {
  rules: PlacedRule[];
  withheld: Withheld[];
  /** Directories on the way to a denied path that could not be listed: their entries got nothing. */
  unlisted: string[];
}

const FILE_MASK = fsMask(FILE_RIGHTS);

const childPath = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

function isStrictlyBelow(path: string, dir: string): boolean {
  return dir === "/" ? path !== "/" : path.startsWith(`${dir}/`);
}

/** The first path component of `path` below `dir` (which it is strictly below). */
function nextComponent(path: string, dir: string): string {
  const rest = path.slice(dir === "/" ? 1 : dir.length + 1);
  const slash = rest.indexOf("/");
  return slash === -1 ? rest : rest.slice(0, slash);
}

interface Walk {
  rights: (deny: DenyKind) => bigint;
  list: ListDirectory;
  maxRules: number;
  out: Placement;
}

export class TooManyRules extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} Landlock rules`);
    this.name = "TooManyRules";
  }
}

/**
 * Places rights `access` at `path` (of `kind`), given the exclusions at or
 * below it. Walked paths are everything but the grant's own root.
 */
function place(
  walk: Walk,
  path: string,
  kind: EntryKind,
  access: bigint,
  exclusions: readonly Exclusion[],
  walked: boolean,
  identity?: Identity,
): void {
  // Never follow a symlink: one inside a write root could point at /etc.
  if (kind === "symlink") return;
  let rights = kind === "dir" ? access : access & FILE_MASK;
  const below: Exclusion[] = [];
  for (const exclusion of exclusions) {
    if (exclusion.path === path) rights &= ~walk.rights(exclusion.deny);
    else if (kind === "dir" && isStrictlyBelow(exclusion.path, path)) below.push(exclusion);
  }
  if (rights === 0n) return;
  const causes = below.filter((exclusion) => (walk.rights(exclusion.deny) & rights) !== 0n);
  const pushed = causes.reduce((mask, exclusion) => mask | walk.rights(exclusion.deny), 0n) & rights;
  const kept = rights & ~pushed;
  if (kept !== 0n) {
    if (walk.out.rules.length >= walk.maxRules) throw new TooManyRules(walk.maxRules);
    walk.out.rules.push(identity ? { path, access: kept, walked, identity } : { path, access: kept, walked });
  }
  if (pushed === 0n) return;
  walk.out.withheld.push({ dir: path, rights: pushed, because: causes });
  const entries = walk.list(path);
  if (entries === undefined) {
    walk.out.unlisted.push(path);
    return;
  }
  // Group the exclusions by the child they lie in, so wide directories stay linear.
  const byChild = new Map<string, Exclusion[]>();
  for (const exclusion of causes) {
    const name = nextComponent(exclusion.path, path);
    const group = byChild.get(name);
    if (group) group.push(exclusion);
    else byChild.set(name, [exclusion]);
  }
  // A missing exclusion has no entry here: nothing is granted at its name,
  // and `path` itself no longer lets anything be created under that name.
  for (const entry of entries) {
    place(walk, childPath(path, entry.name), entry.kind, pushed, byChild.get(entry.name) ?? [], true, entry.identity);
  }
}

interface GrantRoot {
  path: string;
  kind: "dir" | "file";
  access: bigint;
}

/**
 * Rules that give `grant.access` to everything under `grant.path` except what
 * the exclusions take away. `excluded(deny)` is the rights a deny removes
 * (already masked to the ABI).
 */
export function placeGrant(
  grant: GrantRoot,
  exclusions: readonly Exclusion[],
  excluded: (deny: DenyKind) => bigint,
  list: ListDirectory,
  maxRules: number,
  out: Placement = { rules: [], withheld: [], unlisted: [] },
): Placement {
  const relevant = exclusions.filter(
    (exclusion) => exclusion.path === grant.path || isStrictlyBelow(exclusion.path, grant.path),
  );
  place({ rights: excluded, list, maxRules, out }, grant.path, grant.kind, grant.access, relevant, false);
  return out;
}
