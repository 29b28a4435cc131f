// How a run's limits are enforced in a mode: the timeout by stage 1's
// supervisor, the tmpfs size by bwrap's mounts, the per-process limits as
// rlimits stage 2 sets before execve, memory and processes by a cgroup of
// the sandbox's own where the host gives one. A limit this plan cannot
// enforce exactly is a degradation with its name, so --strict refuses it and
// the report, -v and explain say it. Pure: the host's facts come in as data.
import { RLIMITS } from "../../ffi/constants.ts";
import type { CgroupFacts } from "../host/cgroups.ts";
import type { Degradation } from "../policy/degradations.ts";
import { cgroupControllersFor, formatSize, type CgroupController, type Limits } from "../policy/limits.ts";
import { isWithin } from "../policy/paths.ts";

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
  /** The sandbox's memory (bytes) and most processes, where a cgroup holds them; undefined otherwise. */
  memory?: number;
  pids?: number;
  /** The cgroups stage 1 makes for the sandbox (one per cgroup hierarchy) and stage 2 joins; empty for none. */
  cgroups: PlannedCgroup[];
}

/** One file of a cgroup and what stage 1 writes to it; an optional one may be missing (no swap accounting). */
export interface CgroupSetting {
  file: string;
  value: string;
  optional?: boolean;
}

export interface PlannedCgroup {
  version: 1 | 2;
  /** The directory the sandbox's cgroup is made in (host/cgroups.ts says why there). */
  parent: string;
  /** Stage 1 first moves itself into a leaf of `parent` and has `parent` hand the controllers out (v2). */
  vacate: boolean;
  controllers: CgroupController[];
  settings: CgroupSetting[];
}

/**
 * What each limit writes, per cgroup version. Memory counts swap too, so the
 * limit is the sandbox's total where the kernel accounts swap (the files are
 * missing where it does not); v2 kills the whole sandbox at once when it is
 * out of memory (memory.oom.group); v1 has no such file, and stage 1 kills
 * the rest when it sees the first kill (stage1/cgroup.ts). v1 copies
 * oom_kill_disable from the parent: it is turned off, or the sandbox would
 * stall at its limit instead of being killed.
 */
function cgroupSettings(version: 1 | 2, controller: CgroupController, limits: Limits): CgroupSetting[] {
  if (controller === "pids") return [{ file: "pids.max", value: String(limits.pids) }];
  const bytes = String(limits.memory);
  return version === 2
    ? [
        { file: "memory.max", value: bytes },
        { file: "memory.swap.max", value: "0", optional: true },
        { file: "memory.oom.group", value: "1" },
      ]
    : [
        { file: "memory.limit_in_bytes", value: bytes },
        { file: "memory.memsw.limit_in_bytes", value: bytes, optional: true },
        { file: "memory.oom_control", value: "0" },
      ];
}

function plannedCgroups(limits: Limits, cgroups: CgroupFacts): PlannedCgroup[] {
  const wanted = new Set(cgroupControllersFor(limits));
  return cgroups.homes
    .map((home) => ({ ...home, controllers: home.controllers.filter((controller) => wanted.has(controller)) }))
    .filter((home) => home.controllers.length > 0)
    .map((home) => ({
      ...home,
      settings: home.controllers.flatMap((controller) => cgroupSettings(home.version, controller, limits)),
    }));
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
export function limitsPlanFor(limits: Limits, bwrap: boolean, cgroups: CgroupFacts): LimitsPlan {
  const planned = plannedCgroups(limits, cgroups);
  const held = planned.flatMap((cgroup) => cgroup.controllers);
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
    ...(held.includes("memory") ? { memory: limits.memory } : {}),
    ...(held.includes("pids") ? { pids: limits.pids } : {}),
    cgroups: planned,
  };
}

/** A write root that is, holds or lies in a cgroup file system: the command could write its own limits. */
function cgroupWriteRoot(writeRoots: readonly string[], mountPoints: readonly string[]): string | undefined {
  return writeRoots.find((root) => mountPoints.some((mount) => isWithin(mount, root) || isWithin(root, mount)));
}

/**
 * The limits this run cannot enforce as asked: memory and processes where
 * the host gives the sandbox no cgroup (`cgroups.missing` says why), or
 * where a write root lets the command lift them (still set, not held). No
 * rlimit stands in: RLIMIT_AS breaks runtimes that reserve address space
 * (Go, Java, Bun), RLIMIT_DATA limits each process and not the sandbox, and
 * RLIMIT_NPROC counts every process of the user and does not apply to root.
 */
export function limitDegradations(
  limits: Limits,
  cgroups: CgroupFacts,
  writeRoots: readonly string[] = [],
): Degradation[] {
  const writable = cgroupWriteRoot(writeRoots, cgroups.mountPoints);
  const why = (controller: CgroupController) =>
    writable
      ? `the write root ${writable} holds cgroup files, and the command could lift the limit there`
      : (cgroups.missing.find((absence) => absence.controller === controller)?.why ?? "the host gives it no cgroup");
  const held = (controller: CgroupController) =>
    !writable && cgroups.homes.some((home) => home.controllers.includes(controller));
  const lost: Degradation[] = [];
  if (limits.memory !== undefined && !held("memory")) {
    lost.push({
      name: "memory-limit",
      layer: "limits",
      feature: `--memory ${formatSize(limits.memory)}`,
      consequence: `the memory limit (${formatSize(limits.memory)}) is not enforced: ${why("memory")}`,
      weakensSecurity: true,
    });
  }
  if (limits.pids !== undefined && !held("pids")) {
    lost.push({
      name: "pids-limit",
      layer: "limits",
      feature: `--pids ${limits.pids}`,
      consequence: `the process limit (${limits.pids}) is not enforced: ${why("pids")}`,
      weakensSecurity: true,
    });
  }
  return lost;
}
