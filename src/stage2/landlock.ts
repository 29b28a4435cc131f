// The thin imperative layer over Landlock: build the ruleset the plan names, restrict.
import {
  encodeNetPortAttr,
  encodePathBeneathAttr,
  encodeRulesetAttr,
  LANDLOCK_RULE_NET_PORT,
  LANDLOCK_RULE_PATH_BENEATH,
} from "../../ffi/landlock.ts";
import { AT_FDCWD, ERRNO, O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE_NO_SYMLINKS } from "../../ffi/constants.ts";
import { closeFd, lastErrno, openat2, openPath, rawSyscall, syscall, SyscallError } from "../../ffi/libc.ts";
import { encodeOpenHow } from "../../ffi/structs.ts";
import { NR } from "../../ffi/syscalls.ts";
import { ptr } from "bun:ffi";
import { fstatSync } from "node:fs";
import type { WireLandlock, WirePathRule } from "../launch/wire.ts";

let openat2Missing = false;
const WALKED = encodeOpenHow(O_PATH | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);

/**
 * Opens a path that stage 1 found by walking the tree, following no symlink in
 * any component: one swapped in since planning (a sibling inside a write root
 * replaced by a link to /etc) must not receive the sibling's rights.
 */
function openWalkedPath(path: string): number {
  if (!openat2Missing) {
    try {
      return openat2(AT_FDCWD, path, WALKED);
    } catch (error) {
      if (!(error instanceof SyscallError) || error.errno !== ERRNO.ENOSYS) throw error;
      openat2Missing = true;
    }
  }
  // Some container seccomp profiles hide openat2: at least the last component is not followed.
  const fd = openPath(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fstatSync(fd).isSymbolicLink()) {
    closeFd(fd);
    throw new SyscallError(`open(${path})`, ERRNO.ELOOP);
  }
  return fd;
}

/** Refuses a rule whose path now names another file than the one stage 1 resolved. */
function checkIdentity(rule: WirePathRule, fd: number): void {
  if (rule.ino === undefined) return;
  const stat = fstatSync(fd, { bigint: true });
  if (stat.dev.toString() !== rule.dev || stat.ino.toString() !== rule.ino) {
    closeFd(fd);
    throw new Error(`${rule.path} is not the directory stage 1 resolved (it was replaced since); refusing to grant it`);
  }
}

/** The rule's descriptor, or undefined when the rule can be skipped safely. */
function openRulePath(rule: WirePathRule): number | undefined {
  try {
    return !rule.followSymlinks ? openWalkedPath(rule.path) : openPath(rule.path, O_PATH | O_CLOEXEC);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    if (rule.optional && error.errno === ERRNO.ENOENT) return undefined;
    // A walked entry that vanished since planning (busy /tmp, $HOME, /proc) or
    // that this user cannot reach: skipping its rule never grants more.
    if (!rule.followSymlinks && (error.errno === ERRNO.ENOENT || error.errno === ERRNO.EACCES)) return undefined;
    // A symlink where the plan saw a file or directory: someone swapped it.
    if (!rule.followSymlinks && (error.errno === ERRNO.ELOOP || error.errno === ERRNO.ENOTDIR)) {
      throw new Error(
        `${rule.path} became a symlink after planning (${error.message}); refusing rather than following it`,
      );
    }
    throw error;
  }
}

/** Builds the ruleset from the plan and restricts the calling thread. Needs no-new-privs first. */
export function applyLandlock(plan: WireLandlock): void {
  const attr = encodeRulesetAttr(BigInt(plan.handledFs), BigInt(plan.handledNet), BigInt(plan.scoped), plan.abi);
  const rulesetFd = syscall("landlock_create_ruleset", ptr(attr), attr.length, 0);
  try {
    for (const rule of plan.pathRules) {
      const fd = openRulePath(rule);
      if (fd === undefined) continue;
      checkIdentity(rule, fd);
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
