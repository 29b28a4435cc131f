// Process hygiene before the exec: no new privileges, no capabilities, no
// core dumps, and a parent-death signal.
import { ptr } from "bun:ffi";
import { readFileSync, writeSync } from "node:fs";
import {
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_CAPBSET_DROP,
  PR_SET_NO_NEW_PRIVS,
  PR_SET_PDEATHSIG,
  RLIMITS,
} from "../../ffi/constants.ts";
import { closeFd, getRlimit, newSession, prctl, rawSyscall, setRlimit, syscall } from "../../ffi/libc.ts";
import type { WireRlimit } from "../launch/wire.ts";
import { encodeCapsetNone } from "../../ffi/structs.ts";
import { NR } from "../../ffi/syscalls.ts";
import { statusField } from "../bytes.ts";

const CAP_SETPCAP = 8n;

interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  bounding: bigint;
  ambient: bigint;
}

function readCapabilities(status = readFileSync("/proc/self/status", "latin1")): CapabilitySets {
  const field = (name: string) => BigInt(`0x${statusField(status, name) ?? "0"}`);
  return {
    effective: field("CapEff"),
    permitted: field("CapPrm"),
    inheritable: field("CapInh"),
    bounding: field("CapBnd"),
    ambient: field("CapAmb"),
  };
}

export function setNoNewPrivileges(): void {
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/**
 * Arms the parent-death signal, then checks the parent is still the one that
 * launched us: had it died before the prctl, no signal would ever come.
 */
export function setParentDeathSignal(signal: number, expectedParent: number | undefined): void {
  if (signal <= 0) return;
  prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
  // Asked of the kernel now, not read from a value cached at start-up.
  if (expectedParent !== undefined && rawSyscall(NR.getppid) !== expectedParent) {
    throw new Error(`cordon (pid ${expectedParent}) exited before the sandbox was set up`);
  }
}

/**
 * A command not interactive on the user's terminal leaves its session: with
 * no controlling terminal, /dev/tty opens nothing (ENXIO). setsid fails only
 * for a process group leader, which stage 2 never is (bwrap and stage 1
 * start it in their own group): a failure refuses the run.
 */
export function leaveSession(wanted: boolean): void {
  if (wanted) newSession();
}

/**
 * The run's resource limits. A limit above the hard one stage 2 inherited
 * becomes that hard limit (raising it would fail, and the lower one is
 * stricter anyway).
 */
/**
 * Joins the sandbox's cgroups before anything of the command runs, so all
 * it starts is counted. "0" means the writer; the kernel checks the rights
 * of whoever opened the descriptor (stage 1), then the descriptor is closed.
 */
export function joinCgroups(fds: readonly number[]): void {
  for (const fd of fds) {
    writeSync(fd, "0");
    closeFd(fd);
  }
}

export function setResourceLimits(rlimits: readonly WireRlimit[]): void {
  for (const rlimit of rlimits) {
    const inherited = getRlimit(rlimit.resource).hard;
    const lower = (value: bigint) => (value < inherited ? value : inherited);
    setRlimit(rlimit.resource, lower(BigInt(rlimit.soft)), lower(BigInt(rlimit.hard)));
  }
}

export function disableCoreDumps(): void {
  setRlimit(RLIMITS.CORE, 0n, 0n);
}

/** Empties every capability set; fails closed if any capability remains. */
export function dropAllCapabilities(): void {
  const before = readCapabilities();
  // Dropping the bounding set needs CAP_SETPCAP; without it, with no-new-privs
  // and empty permitted and inheritable sets, the bounding set grants nothing.
  const boundingMatters = before.bounding !== 0n && (before.effective & (1n << CAP_SETPCAP)) !== 0n;
  const held = before.effective | before.permitted | before.inheritable | before.ambient;
  // Landlock-only mode for an unprivileged caller: nothing to drop, nothing to re-check.
  // bwrap mode leaves CAP_SYS_ADMIN and CAP_SETPCAP in every set, ambient and bounding included.
  if (!boundingMatters && held === 0n) return;
  if (boundingMatters) {
    const last = Number(readFileSync("/proc/sys/kernel/cap_last_cap", "latin1").trim());
    for (let cap = 0; cap <= last; cap++) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  if (before.ambient !== 0n) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (before.effective !== 0n || before.permitted !== 0n || before.inheritable !== 0n) {
    const { header, data } = encodeCapsetNone();
    syscall("capset", ptr(header), ptr(data));
  }
  const after = readCapabilities();
  const left = after.effective | after.permitted | after.inheritable | after.ambient;
  if (left !== 0n || (boundingMatters && after.bounding !== 0n)) {
    throw new Error("capabilities remain after dropping them");
  }
}
