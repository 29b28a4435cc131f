// Installs an assembled seccomp program on every thread of this process.
import { ptr } from "bun:ffi";
import { encodeSockFprog, SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_SET_MODE_FILTER } from "../../ffi/seccomp.ts";
import { syscall } from "../../ffi/libc.ts";

export function installSeccompProgram(programBytes: Uint8Array): void {
  if (programBytes.length === 0 || programBytes.length % 8 !== 0) {
    throw new Error(`seccomp program has ${programBytes.length} bytes, not a whole number of instructions`);
  }
  const fprog = encodeSockFprog(programBytes.length / 8, ptr(programBytes));
  const result = syscall("seccomp", SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, ptr(fprog));
  // With TSYNC a positive result names a thread that could not be synchronized.
  if (result !== 0) throw new Error(`seccomp could not synchronize thread ${result}`);
}
