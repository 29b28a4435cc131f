// Anonymous memory files shared with stage 2 and bwrap: the launch message
// (never on disk, never in argv or the environment, any size), bwrap's own
// arguments, and the small status files bwrap and stage 2 write back.
import { writeSync } from "node:fs";
import { ptr } from "bun:ffi";
import { MFD_CLOEXEC } from "../../ffi/constants.ts";
import { closeFd, syscall } from "../../ffi/libc.ts";

/** A memfd holding `bytes`. CLOEXEC: only the slot Bun.spawn dup2()s it into is inherited. */
export function memoryFile(name: string, bytes: Uint8Array = new Uint8Array()): number {
  const fd = syscall("memfd_create", ptr(Buffer.from(`${name}\0`)), MFD_CLOEXEC);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}
