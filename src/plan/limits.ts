// How a run's limits are enforced in a mode: the timeout by stage 1's
// supervisor, the tmpfs size by bwrap's mounts, the per-process limits as
// rlimits stage 2 sets before execve. A limit this plan cannot enforce
// exactly is a degradation with its name, so --strict refuses it and the
// report, -v and explain say it. Pure: the host's facts come in as data.
import { RLIMITS } from "../../ffi/constants.ts";
import type { Degradation } from "../policy/degradations.ts";
import { formatSize, type Limits } from "../policy/limits.ts";

/** One rlimit stage 2 sets (soft and hard), lowered to the hard limit it inherits if that is lower. */
export interface PlannedRlimit {
  resource: number;
  /** The limit's name in cordon's words, for messages. */
  limit: "cpuTime" | "fileSize" | "openFiles";
  soft: bigint;
  hard: bigint;
}

export interface LimitsPlan {
  /** Wall clock from the sandbox's start, then SIGTERM to all of it; undefined for none. */
  timeout?: number;
  /** Between the timeout's SIGTERM and SIGKILL. */
  killAfter: number;
  /** The size of bwrap mode's private /tmp and /dev/shm; undefined in landlock-only mode (there are none). */
  tmpSize?: number;
  rlimits: PlannedRlimit[];
}

/**
 * RLIMIT_CPU: SIGXCPU at the soft limit (a program may catch it), SIGKILL at
 * the hard one, a second later.
 */
function cpuRlimit(ms: number): PlannedRlimit {
  const seconds = BigInt(Math.max(1, Math.ceil(ms / 1000)));
  return { resource: RLIMITS.CPU, limit: "cpuTime", soft: seconds, hard: seconds + 1n };
}

/** `bwrap`: the mode has private tmpfs mounts to size. */
export function limitsPlanFor(limits: Limits, bwrap: boolean): LimitsPlan {
  const rlimits: PlannedRlimit[] = [];
  if (limits.cpuTime !== undefined) rlimits.push(cpuRlimit(limits.cpuTime));
  if (limits.fileSize !== undefined) {
    const bytes = BigInt(limits.fileSize);
    rlimits.push({ resource: RLIMITS.FSIZE, limit: "fileSize", soft: bytes, hard: bytes });
  }
  if (limits.openFiles !== undefined) {
    const count = BigInt(limits.openFiles);
    rlimits.push({ resource: RLIMITS.NOFILE, limit: "openFiles", soft: count, hard: count });
  }
  return {
    ...(limits.timeout === undefined ? {} : { timeout: limits.timeout }),
    killAfter: limits.killAfter,
    ...(bwrap ? { tmpSize: limits.tmpSize } : {}),
    rlimits,
  };
}

/**
 * The limits this run cannot enforce as asked. Without a cgroup (not yet
 * used: see the README's Limits section) `memory` and `pids` are not
 * enforced at all: RLIMIT_AS breaks runtimes that reserve address space
 * (Go, Java, Bun), RLIMIT_DATA limits each process and not the sandbox, and
 * RLIMIT_NPROC counts every process of the user (landlock-only mode) and
 * does not apply to root.
 */
export function limitDegradations(limits: Limits): Degradation[] {
  const lost: Degradation[] = [];
  if (limits.memory !== undefined) {
    lost.push({
      name: "memory-limit",
      layer: "limits",
      feature: `--memory ${formatSize(limits.memory)}`,
      consequence: `the memory limit (${formatSize(limits.memory)}) is not enforced: it needs a cgroup of its own`,
      weakensSecurity: true,
    });
  }
  if (limits.pids !== undefined) {
    lost.push({
      name: "pids-limit",
      layer: "limits",
      feature: `--pids ${limits.pids}`,
      consequence: `the process limit (${limits.pids}) is not enforced: it needs a cgroup of its own`,
      weakensSecurity: true,
    });
  }
  return lost;
}
