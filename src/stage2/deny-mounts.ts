// bwrap mode: stage 2 applies the deny mounts itself, by descriptor, while it
// still holds CAP_SYS_ADMIN in its own user namespace (capabilities are
// dropped right after). Each path is reached one component at a time from an
// anchor, each component checked against the identity stage 1 recorded, so a
// component swapped for a symlink or another directory while the sandbox was
// set up fails closed instead of landing a mount on a decoy. Every mount is
// then checked by descriptor where it landed. Measured facts behind each call:
// docs/research/stage2-deny-mounts.md.
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  CLONE_NEWNS,
  ERRNO,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_WRONLY,
  RESOLVE_BENEATH,
  RESOLVE_NO_SYMLINKS,
  S_IFMT,
  S_IFSOCK,
  ST_RDONLY,
} from "../../ffi/constants.ts";
import { closeFd, fstatfsFlags, fstatx, mkdirat, openat, openat2, SyscallError, unshare } from "../../ffi/libc.ts";
import {
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_STRING,
  fsconfig,
  fsmount,
  FSMOUNT_CLOEXEC,
  fsopen,
  FSOPEN_CLOEXEC,
  MNT_DETACH,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  mountSetattr,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  moveMount,
  OPEN_TREE_CLOEXEC,
  OPEN_TREE_CLONE,
  openTree,
  umount2,
  UMOUNT_NOFOLLOW,
} from "../../ffi/mount.ts";
import { encodeMountAttr, encodeOpenHow } from "../../ffi/structs.ts";
import { rmdirSync } from "node:fs";
import type { WireAnchor, WireDenyAction, WireDenyMount } from "../launch/wire.ts";

export interface DenyMountOptions {
  /**
   * Attach the stand-in before cloning from it, as kernels before 6.15 need
   * (they clone only from attached mounts). Used on EINVAL; tests force it.
   */
  attachStandIn?: boolean;
}

/** An anchor: an absolute directory path, no symlink in it. */
const ANCHOR_HOW = encodeOpenHow(O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);
/**
 * One name below an open directory. Without O_NOFOLLOW a symlink in its place
 * is ELOOP rather than a descriptor of the link; BENEATH refuses "..".
 */
const COMPONENT_HOW = encodeOpenHow(O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
/** A host socket's canonical path: any symlink met now was not there when stage 1 resolved it. */
const COVER_HOW = encodeOpenHow(O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);
const READ_ONLY = encodeMountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0);
const STAND_IN_ATTR = encodeMountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0);
const CLONE_TREE = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE;
const ONTO_TARGET = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
/** The stand-in's empty directory and empty file. */
const STAND_IN_ENTRY: Record<"hide-dir" | "hide-file", string> = { "hide-dir": "d", "hide-file": "f" };
/** Where the stand-in is attached on kernels before 6.15: the sandbox's private /tmp. */
const STAND_IN_PARENT = "/tmp";

/** A place to open: a name below an open directory, or an anchor's absolute path. */
interface Place {
  dirFd: number;
  name: string;
  how: BigUint64Array;
}

/** A mount of the plan with its absolute path (the key of `dirs`, and the name in messages). */
interface Target {
  mount: WireDenyMount;
  path: string;
  depth: number;
}

/** One mount between being prepared (target opened, clone made) and attached. */
interface Prepared {
  mount: WireDenyMount;
  path: string;
  place: Place;
  target: number;
  targetMountId: bigint;
  clone: number;
}

interface Walk {
  options: DenyMountOptions;
  anchors: ReadonlyMap<string, WireAnchor>;
  /** Open directories by absolute path, so siblings share their ancestors' walk; a mounted path maps to its mount. */
  dirs: Map<string, number>;
  /**
   * Paths some later walk goes through: only their mounts stay open in
   * `dirs`, so a flat list of thousands holds a few descriptors, not thousands.
   */
  ancestors: ReadonlySet<string>;
  /** Every descriptor still open: each is closed exactly once. */
  open: Set<number>;
  standIn?: number;
  /** Kernels before 6.15: the directory the stand-in is attached at while clones are taken from it. */
  standInSpot?: string;
}

function track(walk: Walk, fd: number): number {
  walk.open.add(fd);
  return fd;
}

function release(walk: Walk, fd: number): void {
  if (walk.open.delete(fd)) closeFd(fd);
}

function changed(path: string, cause?: string): Error {
  const detail = cause === undefined ? "" : `: ${cause}`;
  return new Error(`${path} is not what cordon planned (it changed while the sandbox was set up)${detail}`);
}

function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

/** What openat2 says when the tree is not the one planned: a symlink, an escape, a vanished or retyped entry. */
const CHANGED_ERRNOS: readonly number[] = [ERRNO.ELOOP, ERRNO.EXDEV, ERRNO.ENOENT, ERRNO.ENOTDIR];

/** Opens `place` (the path `path`). */
function openPlace(walk: Walk, place: Place, path: string): number {
  try {
    return track(walk, openat2(place.dirFd, place.name, place.how));
  } catch (error) {
    if (error instanceof SyscallError && CHANGED_ERRNOS.includes(error.errno)) throw changed(path, error.message);
    throw new Error(`cannot open ${path}: ${(error as Error).message}`);
  }
}

/** Refuses `fd` unless it has the dev and ino stage 1 recorded for `path`. */
function checkIdentity(fd: number, expected: { dev: string; ino: string }, path: string): bigint {
  const found = fstatx(fd);
  if (found.dev.toString() !== expected.dev || found.ino.toString() !== expected.ino) throw changed(path);
  return found.mountId;
}

/**
 * The anchor's directory, opened by its absolute path when a walk first starts
 * there. Not before: a mount over one of its ancestors (at a smaller depth,
 * so already attached) would otherwise cover the mount the descriptor is on,
 * and mounts made through it would land out of sight.
 */
function anchorFd(walk: Walk, path: string): number {
  const cached = walk.dirs.get(path);
  if (cached !== undefined) return cached;
  const fd = openPlace(walk, { dirFd: AT_FDCWD, name: path, how: ANCHOR_HOW }, path);
  checkIdentity(fd, walk.anchors.get(path)!, path);
  walk.dirs.set(path, fd);
  return fd;
}

const ACTIONS: readonly string[] = ["pin", "read-only", "hide-dir", "hide-file"] satisfies WireDenyAction[];

/** A name is one path component: never "", ".", ".." or anything with a slash. */
function checkName(name: string, path: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new Error(`${path}: the plan names a path component ${JSON.stringify(name)}`);
  }
}

/**
 * Each mount's absolute path and depth, checked before anything is mounted:
 * names are single components, every anchor is in the plan, and no path is
 * planned twice (a second mount would cover the first). Also the set of
 * paths that later walks go through.
 */
function targetsOf(
  mounts: readonly WireDenyMount[],
  anchors: ReadonlyMap<string, WireAnchor>,
): { targets: Target[]; ancestors: Set<string> } {
  const seen = new Set<string>();
  const ancestors = new Set<string>();
  const targets = mounts.map((mount): Target => {
    if (!anchors.has(mount.anchor)) throw new Error(`${mount.path}: the plan names no anchor ${mount.anchor}`);
    // An unknown action must not fall through to the mildest one.
    if (!ACTIONS.includes(mount.action)) throw new Error(`${mount.path}: unknown deny action ${mount.action}`);
    let path = mount.anchor;
    let depth = mount.anchor === "/" ? 0 : mount.anchor.split("/").length - 1;
    for (const { name } of mount.components) {
      checkName(name, mount.path);
      ancestors.add(path);
      path = childPath(path, name);
      depth++;
    }
    if (seen.has(path)) throw new Error(`${path} is planned twice`);
    seen.add(path);
    return { mount, path, depth };
  });
  return { targets, ancestors };
}

/** The directory above the mount's target, walked (or found in the cache) component by component. */
function walkToParent(walk: Walk, mount: WireDenyMount): { fd: number; path: string } {
  let path = mount.anchor;
  let fd = anchorFd(walk, path);
  for (let i = 0; i < mount.components.length - 1; i++) {
    const component = mount.components[i]!;
    const parent = fd;
    path = childPath(path, component.name);
    const cached = walk.dirs.get(path);
    if (cached !== undefined) {
      fd = cached;
      continue;
    }
    fd = openPlace(walk, { dirFd: parent, name: component.name, how: COMPONENT_HOW }, path);
    checkIdentity(fd, component, path);
    walk.dirs.set(path, fd);
  }
  return { fd, path };
}

/** The empty, read-only tmpfs (an empty directory "d", an empty file "f") that hides a path. */
function standIn(walk: Walk): number {
  if (walk.standIn !== undefined) return walk.standIn;
  const context = track(walk, fsopen("tmpfs", FSOPEN_CLOEXEC));
  fsconfig(context, FSCONFIG_SET_STRING, "size", "4k");
  fsconfig(context, FSCONFIG_SET_STRING, "nr_inodes", "4");
  fsconfig(context, FSCONFIG_SET_STRING, "mode", "0700");
  fsconfig(context, FSCONFIG_CMD_CREATE, null, null);
  const root = track(walk, fsmount(context, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  release(walk, context);
  mkdirat(root, STAND_IN_ENTRY["hide-dir"], 0o555);
  release(walk, track(walk, openat(root, STAND_IN_ENTRY["hide-file"], O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o444)));
  mountSetattr(root, "", AT_EMPTY_PATH | AT_RECURSIVE, STAND_IN_ATTR);
  walk.standIn = root;
  return root;
}

/**
 * Before Linux 6.15 open_tree clones only from attached mounts: attach the
 * stand-in at a fresh directory in the sandbox's private /tmp until the
 * walk ends. The name is random: /tmp may be a write root shared with others.
 */
function attachStandIn(walk: Walk, root: number): void {
  const parent = openPlace(walk, { dirFd: AT_FDCWD, name: STAND_IN_PARENT, how: ANCHOR_HOW }, STAND_IN_PARENT);
  const name = `.cordon-stand-in-${crypto.getRandomValues(new Uint32Array(2)).join("-")}`;
  mkdirat(parent, name, 0o700);
  walk.standInSpot = childPath(STAND_IN_PARENT, name);
  const spot = openPlace(walk, { dirFd: parent, name, how: COMPONENT_HOW }, walk.standInSpot);
  release(walk, parent);
  moveMount(root, "", spot, "", ONTO_TARGET);
  release(walk, spot);
}

/** Detaches the stand-in from its spot and removes the directory made for it; the clones taken from it stay. */
function detachStandIn(walk: Walk): void {
  const spot = walk.standInSpot;
  if (spot === undefined) return;
  walk.standInSpot = undefined;
  umount2(spot, MNT_DETACH | UMOUNT_NOFOLLOW);
  rmdirSync(spot);
}

function cloneStandIn(walk: Walk, action: "hide-dir" | "hide-file"): number {
  const root = standIn(walk);
  if (walk.options.attachStandIn && walk.standInSpot === undefined) attachStandIn(walk, root);
  try {
    return track(walk, openTree(root, STAND_IN_ENTRY[action], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  } catch (error) {
    if (!(error instanceof SyscallError) || error.errno !== ERRNO.EINVAL || walk.standInSpot !== undefined) throw error;
    attachStandIn(walk, root);
    return track(walk, openTree(root, STAND_IN_ENTRY[action], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  }
}

/** The detached mount that goes over the target: a copy of the target itself, or the stand-in. */
function cloneFor(walk: Walk, action: WireDenyAction, target: number): number {
  if (action === "hide-dir" || action === "hide-file") return cloneStandIn(walk, action);
  // AT_RECURSIVE: bwrap's mounts below the target are locked to it, and must stay covered.
  const clone = track(walk, openTree(target, "", CLONE_TREE));
  if (action === "read-only") mountSetattr(clone, "", AT_EMPTY_PATH | AT_RECURSIVE, READ_ONLY);
  return clone;
}

/** Opens the target, checks it is the file stage 1 recorded, and makes the mount that goes over it. */
function prepare(walk: Walk, { mount, path }: Target): Prepared {
  const last = mount.components.at(-1);
  let place: Place;
  let expected: { dev: string; ino: string };
  if (last === undefined) {
    // The anchor itself: reached by its absolute path, as when it was opened.
    place = { dirFd: AT_FDCWD, name: mount.anchor, how: ANCHOR_HOW };
    expected = walk.anchors.get(mount.anchor)!;
  } else {
    place = { dirFd: walkToParent(walk, mount).fd, name: last.name, how: COMPONENT_HOW };
    expected = last;
  }
  const target = openPlace(walk, place, path);
  const targetMountId = checkIdentity(target, expected, path);
  try {
    return { mount, path, place, target, targetMountId, clone: cloneFor(walk, mount.action, target) };
  } catch (error) {
    throw new Error(`cannot make the ${mount.action} mount for ${path}: ${(error as Error).message}`);
  }
}

/**
 * Attaches the clone over the target, then re-opens the path and requires the
 * new mount there (Q7): the same mount id as the clone, not the target's, and
 * read-only unless it is a pin. From now on walks below the path go through
 * the new mount; the old target descriptor, which still reaches the covered
 * directory, is closed.
 */
function attach(walk: Walk, prepared: Prepared): void {
  const { path, clone, mount } = prepared;
  try {
    moveMount(clone, "", prepared.target, "", ONTO_TARGET);
  } catch (error) {
    throw new Error(`cannot mount over ${path}: ${(error as Error).message}`);
  }
  const mounted = fstatx(clone);
  const again = openPlace(walk, prepared.place, path);
  const found = fstatx(again);
  const landed =
    found.mountId === mounted.mountId &&
    found.mountId !== prepared.targetMountId &&
    found.dev === mounted.dev &&
    found.ino === mounted.ino;
  if (!landed) throw new Error(`the ${mount.action} mount for ${path} did not land there`);
  if (mount.action !== "pin" && (fstatfsFlags(again) & ST_RDONLY) === 0) {
    throw new Error(`the ${mount.action} mount for ${path} is not read-only`);
  }
  release(walk, again);
  release(walk, prepared.target);
  if (walk.ancestors.has(path)) walk.dirs.set(path, clone);
  else release(walk, clone);
}

/**
 * Covers a host socket file with the empty stand-in file: connect(2) ignores
 * read-only mounts, so hiding is the only way in bwrap mode before Landlock
 * ABI 9. The path is canonical and outside every write root, so the sandbox
 * cannot have changed it; a socket that is gone, or no longer a socket, or
 * out of this user's reach, needs no cover. Opened by its bytes: a path need
 * not be UTF-8, and no mount argument could name it.
 */
function coverSocket(walk: Walk, path: Buffer): void {
  let target: number;
  try {
    target = track(walk, openat2(AT_FDCWD, path, COVER_HOW));
  } catch (error) {
    if (error instanceof SyscallError && NO_SOCKET_THERE.has(error.errno)) return;
    throw error;
  }
  if ((fstatx(target).mode & S_IFMT) !== S_IFSOCK) return release(walk, target);
  const clone = cloneStandIn(walk, "hide-file");
  moveMount(clone, "", target, "", ONTO_TARGET);
  release(walk, clone);
  release(walk, target);
}

/** Errors that mean there is no socket to cover at a path: gone, a symlink now, or out of reach. */
const NO_SOCKET_THERE = new Set<number>([ERRNO.ENOENT, ERRNO.ENOTDIR, ERRNO.ELOOP, ERRNO.EACCES]);

/**
 * The working directory still names the directory bwrap chose, on the mount
 * that was there then: below a new mount, relative paths would reach the
 * covered tree. Entering it again by path goes through the new mounts.
 */
function reenterWorkingDirectory(): void {
  process.chdir(process.cwd());
}

function enterPrivateMountNamespace(): void {
  try {
    unshare(CLONE_NEWNS);
  } catch (error) {
    // bwrap's --disable-userns leaves stage 2 in a nested user namespace: only
    // a mount namespace of its own is one its CAP_SYS_ADMIN can change (Q1).
    throw new Error(
      `cannot make a mount namespace of its own (${(error as Error).message}); ` +
        "bwrap must keep CAP_SYS_ADMIN for stage 2 (--cap-add CAP_SYS_ADMIN)",
    );
  }
}

/**
 * Applies the deny mounts of the plan (bwrap mode), failing closed on any
 * difference from what stage 1 recorded. Synchronous; closes every descriptor
 * it opened. Nothing to do (landlock-only mode) costs nothing.
 */
export function applyDenyMounts(
  anchors: readonly WireAnchor[],
  mounts: readonly WireDenyMount[],
  socketCovers: readonly string[] = [],
  options: DenyMountOptions = {},
): void {
  if (mounts.length === 0 && socketCovers.length === 0) return;
  const anchorsByPath = new Map(anchors.map((anchor) => [anchor.path, anchor]));
  const { targets, ancestors } = targetsOf(mounts, anchorsByPath);
  enterPrivateMountNamespace();
  const walk: Walk = { options, anchors: anchorsByPath, dirs: new Map(), ancestors, open: new Set() };
  try {
    // Shallowest first: a path's ancestors are mounted before the walk goes through them.
    // One at a time: cloning every sibling before attaching any (research Q6's
    // two-phase) saved 15-20 ms of 1,000 flat mounts, but needs two descriptors
    // per mount held at once; bounded to a few hundred it saved nothing measurable.
    for (const target of [...targets].sort((a, b) => a.depth - b.depth)) attach(walk, prepare(walk, target));
    for (const socket of socketCovers) coverSocket(walk, Buffer.from(socket, "hex"));
    detachStandIn(walk);
  } catch (error) {
    // Leave no directory behind in a /tmp that may be shared; the first error is the one to report.
    try {
      detachStandIn(walk);
    } catch {
      // The first error is reported.
    }
    throw error;
  } finally {
    for (const fd of walk.open) closeFd(fd);
  }
  reenterWorkingDirectory();
}
