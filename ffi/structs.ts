// Byte layouts of the kernel structs cordon passes by pointer, other than
// Landlock's (landlock.ts) and seccomp's (seccomp.ts). Little-endian, as on
// every architecture cordon builds for.
import { LINUX_CAPABILITY_VERSION_3 } from "./constants.ts";

/** struct open_how (openat2): u64 flags, u64 mode, u64 resolve. */
export function encodeOpenHow(flags: number, mode: number, resolve: number): BigUint64Array {
  return new BigUint64Array([BigInt(flags), BigInt(mode), BigInt(resolve)]);
}

/**
 * struct mount_attr (mount_setattr, MOUNT_ATTR_SIZE_VER0): u64 attr_set,
 * u64 attr_clr, u64 propagation, u64 userns_fd.
 */
export function encodeMountAttr(attrSet: number, attrClr: number, propagation = 0, usernsFd = 0): BigUint64Array {
  return new BigUint64Array([BigInt(attrSet), BigInt(attrClr), BigInt(propagation), BigInt(usernsFd)]);
}

/** struct statx is 256 bytes; cordon reads five fields of it. */
export const STATX_SIZE = 256;

export interface StatxFields {
  /** stx_mask: which fields the kernel filled in. */
  mask: number;
  /** stx_mode: file type and permission bits. */
  mode: number;
  ino: bigint;
  /** st_dev as stat(2) and node's fs.Stats give it (glibc's makedev of stx_dev_major and stx_dev_minor). */
  dev: bigint;
  mountId: bigint;
}

/** glibc's gnu_dev_makedev: the dev_t encoding stat(2) returns, so the value equals node's `stat.dev`. */
export function encodeDev(major: number, minor: number): bigint {
  const [high, low] = [BigInt(major), BigInt(minor)];
  return ((high & 0xfffff000n) << 32n) | ((high & 0xfffn) << 8n) | ((low & 0xffffff00n) << 12n) | (low & 0xffn);
}

/**
 * u32 stx_mask @0, u16 stx_mode @28, u64 stx_ino @32, u32 stx_dev_major @136,
 * u32 stx_dev_minor @140, u64 stx_mnt_id @144.
 */
export function decodeStatx(view: DataView): StatxFields {
  return {
    mask: view.getUint32(0, true),
    mode: view.getUint16(28, true),
    ino: view.getBigUint64(32, true),
    dev: encodeDev(view.getUint32(136, true), view.getUint32(140, true)),
    mountId: view.getBigUint64(144, true),
  };
}

/** struct statfs (x86_64 and the generic 64-bit layout alike): 15 words, f_flags the eleventh (@80). */
export const STATFS_WORDS = 15;
export const STATFS_FLAGS_WORD = 10;

/**
 * capset's arguments that empty every set: struct __user_cap_header_struct
 * { u32 version; s32 pid (0: this thread) } and two struct
 * __user_cap_data_struct { u32 effective, permitted, inheritable } (version 3
 * covers 64 capabilities in two halves).
 */
export function encodeCapsetNone(): { header: Uint32Array; data: Uint32Array } {
  return { header: new Uint32Array([LINUX_CAPABILITY_VERSION_3, 0]), data: new Uint32Array(6) };
}
