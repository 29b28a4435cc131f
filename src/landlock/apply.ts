// The thin imperative layer over Landlock: probe, build the ruleset, restrict.
import {
  encodeNetPortAttr, encodePathBeneathAttr, encodeRulesetAttr, LANDLOCK_CREATE_RULESET_VERSION,
  LANDLOCK_RULE_NET_PORT, LANDLOCK_RULE_PATH_BENEATH,
} from "../../ffi/landlock.ts";
import { O_CLOEXEC, O_PATH, ERRNO } from "../../ffi/constants.ts";
import { closeFd, lastErrno, openPath, rawSyscall, syscall, SyscallError } from "../../ffi/libc.ts";
import { NR } from "../../ffi/syscalls.ts";
import { ptr } from "bun:ffi";
import type { WireLandlock } from "../launch/wire.ts";

export type LandlockStatus =
  | { available: true; abi: number }
  | { available: false; reason: "not-built-in" | "disabled-at-boot" | "error"; errno: number };

export function probeLandlockAbi(): LandlockStatus {
  const abi = rawSyscall(NR.landlock_create_ruleset, null, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return { available: true, abi };
  const errno = lastErrno();
  if (errno === ERRNO.ENOSYS) return { available: false, reason: "not-built-in", errno };
  if (errno === ERRNO.EOPNOTSUPP) return { available: false, reason: "disabled-at-boot", errno };
  return { available: false, reason: "error", errno };
}

/** Builds the ruleset from the plan and restricts the calling thread. Needs no-new-privs first. */
export function applyLandlock(plan: WireLandlock): void {
  const attr = encodeRulesetAttr(BigInt(plan.handledFs), BigInt(plan.handledNet), BigInt(plan.scoped), plan.abi);
  const rulesetFd = syscall("landlock_create_ruleset", ptr(attr), attr.length, 0);
  try {
    for (const rule of plan.pathRules) {
      let fd: number;
      try {
        fd = openPath(rule.path, O_PATH | O_CLOEXEC);
      } catch (error) {
        if (rule.optional && error instanceof SyscallError && error.errno === ERRNO.ENOENT) continue;
        throw error;
      }
      try {
        const ruleAttr = encodePathBeneathAttr(BigInt(rule.access), fd);
        const result = rawSyscall(NR.landlock_add_rule, rulesetFd, LANDLOCK_RULE_PATH_BENEATH, ptr(ruleAttr), 0);
        if (result === -1) throw new SyscallError(`landlock_add_rule(${rule.path})`, lastErrno());
      } finally {
        closeFd(fd);
      }
    }
    for (const rule of plan.netRules) {
      const ruleAttr = encodeNetPortAttr(BigInt(rule.access), rule.port);
      syscall("landlock_add_rule", rulesetFd, LANDLOCK_RULE_NET_PORT, ptr(ruleAttr), 0);
    }
    syscall("landlock_restrict_self", rulesetFd, plan.restrictFlags);
  } finally {
    closeFd(rulesetFd);
  }
}
