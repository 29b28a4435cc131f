// Landlock's kernel interface: rights, rule types, flags and struct layouts.
// <linux/landlock.h>; constants newer than the installed 6.1 headers come from
// landlock(7).

export const LANDLOCK_CREATE_RULESET_VERSION = 1 << 0;

export const ACCESS_FS = {
  EXECUTE: 1n << 0n,
  WRITE_FILE: 1n << 1n,
  READ_FILE: 1n << 2n,
  READ_DIR: 1n << 3n,
  REMOVE_DIR: 1n << 4n,
  REMOVE_FILE: 1n << 5n,
  MAKE_CHAR: 1n << 6n,
  MAKE_DIR: 1n << 7n,
  MAKE_REG: 1n << 8n,
  MAKE_SOCK: 1n << 9n,
  MAKE_FIFO: 1n << 10n,
  MAKE_BLOCK: 1n << 11n,
  MAKE_SYM: 1n << 12n,
  REFER: 1n << 13n,
  TRUNCATE: 1n << 14n,
  IOCTL_DEV: 1n << 15n,
  RESOLVE_UNIX: 1n << 16n,
} as const;

export type FsRight = keyof typeof ACCESS_FS;

/** The only rights a rule on a non-directory may carry. */
export const FILE_RIGHTS: readonly FsRight[] = [
  "EXECUTE",
  "WRITE_FILE",
  "READ_FILE",
  "TRUNCATE",
  "IOCTL_DEV",
  "RESOLVE_UNIX",
];

export const ACCESS_NET = {
  BIND_TCP: 1n << 0n,
  CONNECT_TCP: 1n << 1n,
} as const;

export type NetRight = keyof typeof ACCESS_NET;

export const SCOPE = {
  ABSTRACT_UNIX_SOCKET: 1n << 0n,
  SIGNAL: 1n << 1n,
} as const;

export type Scope = keyof typeof SCOPE;

export const RESTRICT_SELF = {
  LOG_SAME_EXEC_OFF: 1 << 0,
  LOG_NEW_EXEC_ON: 1 << 1,
  LOG_SUBDOMAINS_OFF: 1 << 2,
  TSYNC: 1 << 3,
} as const;

export const LANDLOCK_RULE_PATH_BENEATH = 1;
export const LANDLOCK_RULE_NET_PORT = 2;

/** Which ABI introduced each right, flag and struct field. */
export const FS_RIGHT_SINCE: Record<FsRight, number> = {
  EXECUTE: 1,
  WRITE_FILE: 1,
  READ_FILE: 1,
  READ_DIR: 1,
  REMOVE_DIR: 1,
  REMOVE_FILE: 1,
  MAKE_CHAR: 1,
  MAKE_DIR: 1,
  MAKE_REG: 1,
  MAKE_SOCK: 1,
  MAKE_FIFO: 1,
  MAKE_BLOCK: 1,
  MAKE_SYM: 1,
  REFER: 2,
  TRUNCATE: 3,
  IOCTL_DEV: 5,
  RESOLVE_UNIX: 9,
};
export const NET_RIGHTS_SINCE = 4;
export const SCOPES_SINCE = 6;
export const LOG_FLAGS_SINCE = 7;
export const TSYNC_SINCE = 8;

/** struct landlock_ruleset_attr; the kernel rejects fields it does not know, so size follows the ABI. */
export function encodeRulesetAttr(fs: bigint, net: bigint, scoped: bigint, abi: number): Uint8Array {
  const size = abi >= SCOPES_SINCE ? 24 : abi >= NET_RIGHTS_SINCE ? 16 : 8;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, fs, true);
  if (size >= 16) view.setBigUint64(8, net, true);
  if (size >= 24) view.setBigUint64(16, scoped, true);
  return bytes;
}

/** struct landlock_path_beneath_attr: packed, 12 bytes. */
export function encodePathBeneathAttr(allowed: bigint, parentFd: number): Uint8Array {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, allowed, true);
  view.setInt32(8, parentFd, true);
  return bytes;
}

/** struct landlock_net_port_attr: 16 bytes. */
export function encodeNetPortAttr(allowed: bigint, port: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, allowed, true);
  view.setBigUint64(8, BigInt(port), true);
  return bytes;
}
