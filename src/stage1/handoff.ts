// Puts the launch message in an anonymous memory file that stage 2 inherits:
// it never touches the disk, never shows in argv or the environment, and
// holds any size (10,000 arguments do not fit bwrap's own argv limits).
import { writeSync } from "node:fs";
import { ptr } from "bun:ffi";
import { MFD_CLOEXEC } from "../../ffi/constants.ts";
import { closeFd, syscall } from "../../ffi/libc.ts";

export function launchDescriptor(message: Uint8Array): number {
  const name = Buffer.from("cordon-launch\0");
  // CLOEXEC here: only the slot Bun.spawn dup2()s it into reaches stage 2.
  const fd = syscall("memfd_create", ptr(name), MFD_CLOEXEC);
  try {
    let offset = 0;
    while (offset < message.length) offset += writeSync(fd, message, offset, message.length - offset, offset);
  } catch (error) {
    closeFd(fd);
    throw error;
  }
  return fd;
}
