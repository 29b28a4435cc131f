// What each Landlock ABI version can enforce. Everything that depends on the
// running kernel's ABI goes through here, so tests can pass any ABI in.
import {
  ACCESS_FS,
  ACCESS_NET,
  FS_RIGHT_SINCE,
  LOG_FLAGS_SINCE,
  NET_RIGHTS_SINCE,
  RESTRICT_SELF,
  SCOPE,
  SCOPES_SINCE,
  TSYNC_SINCE,
  type FsRight,
  type NetRight,
  type Scope,
} from "../../ffi/landlock.ts";

/** The newest ABI this cordon knows; a newer kernel is treated as this one. */
export const NEWEST_KNOWN_ABI = 9;

export const ALL_FS_RIGHTS = Object.keys(ACCESS_FS) as FsRight[];
const ALL_NET_RIGHTS = Object.keys(ACCESS_NET) as NetRight[];
const ALL_SCOPES = Object.keys(SCOPE) as Scope[];

export function fsRightsAt(abi: number): FsRight[] {
  return ALL_FS_RIGHTS.filter((right) => FS_RIGHT_SINCE[right] <= abi);
}

export function netRightsAt(abi: number): NetRight[] {
  return abi >= NET_RIGHTS_SINCE ? ALL_NET_RIGHTS : [];
}

export function scopesAt(abi: number): Scope[] {
  return abi >= SCOPES_SINCE ? ALL_SCOPES : [];
}

export function restrictFlagsAt(abi: number): number {
  let flags = 0;
  // Keep stage 2's own (expected) denials out of the audit log.
  if (abi >= LOG_FLAGS_SINCE) flags |= RESTRICT_SELF.LOG_SAME_EXEC_OFF;
  if (abi >= TSYNC_SINCE) flags |= RESTRICT_SELF.TSYNC;
  return flags;
}

export function fsMask(rights: readonly FsRight[]): bigint {
  return rights.reduce((mask, right) => mask | ACCESS_FS[right], 0n);
}

export function netMask(rights: readonly NetRight[]): bigint {
  return rights.reduce((mask, right) => mask | ACCESS_NET[right], 0n);
}

export function scopeMask(scopes: readonly Scope[]): bigint {
  return scopes.reduce((mask, scope) => mask | SCOPE[scope], 0n);
}

export function fsRightsOf(mask: bigint): FsRight[] {
  return ALL_FS_RIGHTS.filter((right) => (mask & ACCESS_FS[right]) !== 0n);
}

/** Clamp a probed ABI to what this build knows and to CORDON_LANDLOCK_ABI_MAX (tests). */
export function effectiveAbi(probed: number, cap: number | undefined): number {
  const known = Math.min(probed, NEWEST_KNOWN_ABI);
  return cap === undefined ? known : Math.max(0, Math.min(known, cap));
}
