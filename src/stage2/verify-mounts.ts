// Before exec, stage 2 checks that each bind bwrap made (write roots, a
// working directory under /tmp, host socket covers) is really where the plan
// says. Another process that can write a write root could swap a path
// component for a symlink while bwrap resolves mount targets, landing a
// mount on a decoy. The check, by descriptor, never by mount-table text: the
// path opens without following any symlink, it is a mount point (its mount
// differs from its parent's), read-only when the plan says so, and it is the
// file stage 1 resolved.
import { AT_FDCWD, O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE_NO_SYMLINKS, ST_RDONLY } from "../../ffi/constants.ts";
import { closeFd, fstatfsFlags, fstatx, openat2 } from "../../ffi/libc.ts";
import type { StatxFields } from "../../ffi/structs.ts";
import { encodeOpenHow } from "../../ffi/structs.ts";
import type { WireMountCheck } from "../launch/wire.ts";

const NO_SYMLINKS = encodeOpenHow(O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash <= 0 ? "/" : path.slice(0, slash);
}

/** statx of `path` opened without following symlinks, and its read-only flag. */
function inspect(path: string): StatxFields & { readOnly: boolean } {
  const fd = openat2(AT_FDCWD, path, NO_SYMLINKS);
  try {
    return { ...fstatx(fd), readOnly: (fstatfsFlags(fd) & ST_RDONLY) !== 0 };
  } finally {
    closeFd(fd);
  }
}

export function verifyMounts(checks: readonly WireMountCheck[]): void {
  for (const check of checks) {
    let found: ReturnType<typeof inspect>;
    let parent: StatxFields;
    try {
      found = inspect(check.path);
      parent = inspect(parentOf(check.path));
    } catch (error) {
      throw new Error(`${check.path} cannot be opened as planned (${(error as Error).message})`);
    }
    if (found.mountId === parent.mountId) {
      throw new Error(`${check.path} is not a mount point: its mount may have landed elsewhere`);
    }
    if (check.readOnly && !found.readOnly) throw new Error(`${check.path} is not mounted read-only`);
    if (found.dev.toString() !== check.dev || found.ino.toString() !== check.ino) {
      throw new Error(`${check.path} is not the file stage 1 resolved (it changed while the sandbox was set up)`);
    }
  }
}
