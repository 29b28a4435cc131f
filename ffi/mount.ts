// The mount API that works on descriptors (Linux 5.2+; mount_setattr 5.12):
// flags from <linux/mount.h>, and one wrapper per call. Nothing here decides
// policy. Measured behaviour: docs/research/stage2-deny-mounts.md.
import { ptr } from "bun:ffi";
import { O_CLOEXEC } from "./constants.ts";
import { lastErrno, pathArgument, rawSyscall, SyscallError } from "./libc.ts";
import { NR } from "./syscalls.ts";

/** open_tree: a detached copy of the mount (tree) instead of a plain O_PATH handle. */
export const OPEN_TREE_CLONE = 1;
export const OPEN_TREE_CLOEXEC = O_CLOEXEC;

/** move_mount: the source and the target are the descriptors themselves ("" paths). */
export const MOVE_MOUNT_F_EMPTY_PATH = 0x04;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;

export const FSOPEN_CLOEXEC = 1;
export const FSMOUNT_CLOEXEC = 1;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_CMD_CREATE = 6;

/** umount2: detach now, and do not follow a symlink in the last component. */
export const MNT_DETACH = 2;
export const UMOUNT_NOFOLLOW = 8;

function checked(call: string, path: string, result: number): number {
  if (result === -1) throw new SyscallError(path === "" ? call : `${call}(${path})`, lastErrno());
  return result;
}

/** open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount at dirFd/path. */
export function openTree(dirFd: number, path: string, flags: number): number {
  return checked("open_tree", path, rawSyscall(NR.open_tree, dirFd, pathArgument("open_tree", path), flags));
}

/** move_mount(2): attaches (or moves) the mount at fromFd/fromPath onto toFd/toPath. */
export function moveMount(fromFd: number, fromPath: string, toFd: number, toPath: string, flags: number): void {
  const from = pathArgument("move_mount", fromPath, 0);
  const to = pathArgument("move_mount", toPath, 1);
  checked("move_mount", toPath, rawSyscall(NR.move_mount, fromFd, from, toFd, to, flags));
}

/** mount_setattr(2) with an encoded struct mount_attr (encodeMountAttr, made once by the caller). */
export function mountSetattr(dirFd: number, path: string, flags: number, attr: BigUint64Array): void {
  const pathPointer = pathArgument("mount_setattr", path);
  checked("mount_setattr", path, rawSyscall(NR.mount_setattr, dirFd, pathPointer, flags, ptr(attr), attr.byteLength));
}

/** fsopen(2): a filesystem context, configured with fsconfig and turned into a mount by fsmount. */
export function fsopen(fsName: string, flags: number): number {
  return checked("fsopen", fsName, rawSyscall(NR.fsopen, pathArgument("fsopen", fsName), flags));
}

/** fsconfig(2); `key` and `value` are strings or absent (null), as the command needs. */
export function fsconfig(fd: number, command: number, key: string | null, value: string | null, aux = 0): void {
  const keyPointer = key === null ? null : pathArgument("fsconfig", key, 0);
  const valuePointer = value === null ? null : pathArgument("fsconfig", value, 1);
  checked("fsconfig", key ?? "", rawSyscall(NR.fsconfig, fd, command, keyPointer, valuePointer, aux));
}

/** fsmount(2): a detached mount of the created filesystem, with MOUNT_ATTR_* flags. */
export function fsmount(fsFd: number, flags: number, attrFlags: number): number {
  return checked("fsmount", "", rawSyscall(NR.fsmount, fsFd, flags, attrFlags));
}

export function umount2(path: string, flags: number): void {
  checked("umount2", path, rawSyscall(NR.umount2, pathArgument("umount2", path), flags));
}
