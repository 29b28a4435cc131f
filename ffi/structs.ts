// Byte layouts of the kernel structs cordon passes by pointer, other than
// Landlock's (landlock.ts) and seccomp's (seccomp.ts). Little-endian, as on
// every architecture cordon builds for.
import { LINUX_CAPABILITY_VERSION_3 } from "./constants.ts";

/** struct open_how (openat2): u64 flags, u64 mode, u64 resolve. */
export function encodeOpenHow(flags: number, mode: number, resolve: number): BigUint64Array {
  return new BigUint64Array([BigInt(flags), BigInt(mode), BigInt(resolve)]);
}

/**
 * capset's arguments that empty every set: struct __user_cap_header_struct
 * { u32 version; s32 pid (0: this thread) } and two struct
 * __user_cap_data_struct { u32 effective, permitted, inheritable } (version 3
 * covers 64 capabilities in two halves).
 */
export function encodeCapsetNone(): { header: Uint32Array; data: Uint32Array } {
  return { header: new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]), data: new Uint32Array(6) };
}
