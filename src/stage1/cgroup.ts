// The sandbox's own cgroups, as the plan says (plan/limits.ts): made before
// the sandbox starts, joined by stage 2 through a descriptor of cgroup.procs
// that stage 1 opened (the kernel checks the opener's rights, so stage 2
// needs none and the command gets none), read for why the run ended, and
// emptied and removed after it. A cgroup the plan counts on that cannot be
// made or set refuses the run: the limit would be reported but not held.
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { O_CLOEXEC, SIGNALS } from "../../ffi/constants.ts";
import { closeFd, pidfdOpen, pidfdSignal } from "../../ffi/libc.ts";
import { CordonError } from "../errors.ts";
import { processStat } from "../host/processes.ts";
import type { PlannedCgroup } from "../plan/limits.ts";
import { readSmallFile } from "../policy/small-file.ts";

/**
 * `cordon-<pid>-<start time>-<pid namespace>` of the stage 1 that made it:
 * a later run in the same pid namespace removes it once that process is
 * gone. A pid means nothing in another namespace (a container sharing the
 * parent cgroup), so such cgroups are never taken for stale.
 */
const CGROUP_NAME = /^cordon-(\d+)-(\d+)-(\d+)$/;

/** The inode of this process's pid namespace. */
function pidNamespace(): string {
  return /\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/pid"))?.[1] ?? "0";
}

/** What the sandbox's cgroups counted. */
export interface CgroupEvents {
  /** Processes the kernel killed for want of memory under the limit. */
  oomKills: number;
  /** Forks and clones refused at the process limit. */
  forksRefused: number;
}

export interface SandboxCgroups {
  /** Stage 1's descriptors of each cgroup's cgroup.procs; stage 2 writes "0" to each to join it. */
  procsFds: number[];
  events(): CgroupEvents;
  /** cgroup v1 has no memory.oom.group: after the first kill, the rest of the sandbox is killed too. */
  watchOutOfMemory(): () => void;
  /** SIGKILLs whatever is still in the cgroups. */
  killAll(): void;
  /** Removes the cgroups (after killAll); what could not be removed, in words. */
  remove(): string[];
}

interface MadeCgroup {
  planned: PlannedCgroup;
  dir: string;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `key value` lines (memory.events, pids.events, memory.oom_control) as numbers. */
export function readCounters(path: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of (readSmallFile(path) ?? Buffer.alloc(0)).toString("latin1").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) counters.set(key, Number(value));
  }
  return counters;
}

function pidsIn(dir: string): number[] {
  const text = readSmallFile(join(dir, "cgroup.procs"))?.toString("latin1") ?? "";
  return text
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/**
 * SIGKILL to each process in `dir`, through a pidfd taken before checking
 * that the process is still in it: a pid reused by another process since
 * cgroup.procs was read is never signalled. Repeats until the cgroup is
 * empty (a process being killed may still fork once), for at most 2 s.
 */
function killMembers(dir: string): void {
  const useKillFile = (() => {
    try {
      writeFileSync(join(dir, "cgroup.kill"), "1");
      return true;
    } catch {
      return false;
    }
  })();
  for (let tries = 0; tries < 200; tries++) {
    const pids = pidsIn(dir);
    if (pids.length === 0) return;
    if (!useKillFile) for (const pid of pids) killIfMember(pid, dir);
    sleep(10);
  }
}

function killIfMember(pid: number, dir: string): void {
  let pidfd: number;
  try {
    pidfd = pidfdOpen(pid);
  } catch {
    return;
  }
  try {
    if (pidsIn(dir).includes(pid)) pidfdSignal(pidfd, SIGNALS.SIGKILL);
  } finally {
    closeFd(pidfd);
  }
}

function removeDir(dir: string): string | undefined {
  for (let tries = 0; ; tries++) {
    try {
      rmdirSync(dir);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code !== "EBUSY" || tries >= 200) return `could not remove the sandbox's cgroup ${dir}: ${errorText(error)}`;
      sleep(10);
    }
  }
}

/**
 * Cgroups left by a cordon that was killed (SIGKILL gives no chance to
 * remove them), and whatever still runs in them: the command of a killed
 * landlock-only run may have outlived it. Best effort.
 */
function removeStale(parent: string, namespace: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const match = CGROUP_NAME.exec(name);
    if (!match || match[3] !== namespace || processStat(Number(match[1]))?.startTime === match[2]) continue;
    const dir = join(parent, name);
    killMembers(dir);
    removeDir(dir);
  }
}

function make(planned: PlannedCgroup, name: string, namespace: string): MadeCgroup {
  removeStale(planned.parent, namespace);
  const dir = join(planned.parent, name);
  mkdirSync(dir, { mode: 0o755 });
  const made = { planned, dir };
  for (const setting of planned.settings) {
    try {
      writeFileSync(join(dir, setting.file), setting.value);
    } catch (error) {
      if (setting.optional && (error as NodeJS.ErrnoException).code === "ENOENT") continue;
      removeDir(dir);
      throw new CordonError(`could not set ${setting.file} to ${setting.value} in ${dir}: ${errorText(error)}`);
    }
  }
  return made;
}

function eventsOf(made: MadeCgroup[]): CgroupEvents {
  let oomKills = 0;
  let forksRefused = 0;
  for (const { planned, dir } of made) {
    if (planned.controllers.includes("memory")) {
      const counters = readCounters(join(dir, planned.version === 2 ? "memory.events" : "memory.oom_control"));
      oomKills += (counters.get("oom_kill") ?? 0) + (counters.get("oom_group_kill") ?? 0);
    }
    if (planned.controllers.includes("pids")) forksRefused += readCounters(join(dir, "pids.events")).get("max") ?? 0;
  }
  return { oomKills, forksRefused };
}

/** Makes the planned cgroups and opens their cgroup.procs. Throws a CordonError, having made nothing, if it cannot. */
export function createSandboxCgroups(planned: readonly PlannedCgroup[]): SandboxCgroups {
  const namespace = pidNamespace();
  const name = `cordon-${process.pid}-${processStat(process.pid)?.startTime ?? "0"}-${namespace}`;
  const made: MadeCgroup[] = [];
  const procsFds: number[] = [];
  const remove = () => {
    for (const fd of procsFds.splice(0)) closeSync(fd);
    return made.splice(0).flatMap(({ dir }) => removeDir(dir) ?? []);
  };
  try {
    for (const cgroup of planned) {
      made.push(make(cgroup, name, namespace));
      procsFds.push(openSync(join(made.at(-1)!.dir, "cgroup.procs"), constants.O_WRONLY | O_CLOEXEC));
    }
  } catch (error) {
    remove();
    if (error instanceof CordonError) throw error;
    throw new CordonError(
      `could not make the sandbox's cgroup in ${planned[made.length]?.parent}: ${errorText(error)}`,
    );
  }
  const killAll = () => {
    for (const { dir } of made) killMembers(dir);
  };
  return {
    procsFds,
    events: () => eventsOf(made),
    watchOutOfMemory() {
      if (!made.some(({ planned }) => planned.version === 1 && planned.controllers.includes("memory"))) return () => {};
      const watcher = setInterval(() => {
        if (eventsOf(made).oomKills > 0) killAll();
      }, 100);
      return () => clearInterval(watcher);
    },
    killAll,
    remove,
  };
}
