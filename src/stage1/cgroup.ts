// The sandbox's own cgroups, as the plan says (plan/limits.ts): made before
// the sandbox starts, joined by stage 2 through a descriptor of cgroup.procs
// that stage 1 opened (the kernel checks the opener's rights, so stage 2
// needs none and the command gets none), read for why the run ended, and
// emptied and removed after it. A cgroup the plan counts on that cannot be
// made or set refuses the run: the limit would be reported but not held.
//
// Stage 1 holds an exclusive flock on each cgroup it made for as long as it
// lives. A later run takes a cgroup for a dead run's when it can take that
// lock, or when only the cgroup's own members (or the dead) hold it: the
// command can open the directory and lock it too. No pid, start time or
// namespace has to mean the same to both runs.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { LOCK_EX, LOCK_NB, O_CLOEXEC, SIGNALS } from "../../ffi/constants.ts";
import { closeFd, pidfdOpen, pidfdSignal, syscall } from "../../ffi/libc.ts";
import { CordonError, messageOf } from "../errors.ts";
import { controllersHandedOut, membersOf } from "../host/cgroups.ts";
import { processStat } from "../host/processes.ts";
import type { PlannedCgroup } from "../plan/limits.ts";
import { readSmallFile } from "../policy/small-file.ts";

/** `cordon-<pid>-<8 hex digits>`: the pid is for people; the lock says whether its run is alive. */
const CGROUP_NAME = /^cordon-\d+-[0-9a-f]{8}$/;
/** Where stage 1 waits while a v2 cgroup it was alone in hands out controllers; empty once its run is gone. */
const LEAF_NAME = /^cordon-\d+-[0-9a-f]{8}-stage1$/;

/** What the sandbox's cgroups counted. */
export interface CgroupEvents {
  /** Processes the kernel killed for want of memory, when the sandbox had reached its own limit. */
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
  /** Removes the cgroups (after killAll) and undoes the vacating; what could not be, in words. */
  remove(): string[];
}

interface MadeCgroup {
  planned: PlannedCgroup;
  dir: string;
  /** The directory, open and flock'ed while this run lives. */
  lockFd: number;
}

/** `key value` lines (memory.events, pids.events, memory.oom_control) as numbers. */
function readCounters(path: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of (readSmallFile(path) ?? Buffer.alloc(0)).toString("latin1").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) counters.set(key, Number(value));
  }
  return counters;
}

/**
 * SIGKILL to each process in `dir` (cgroup.kill where there is one), through
 * a pidfd taken before checking that the process is still in it: a pid
 * reused by another process since cgroup.procs was read is never signalled.
 * Repeats until the cgroup is empty (a process being killed may still fork
 * once), for at most 2 s.
 */
function killMembers(dir: string): void {
  let killFile = true;
  try {
    writeFileSync(join(dir, "cgroup.kill"), "1");
  } catch {
    killFile = false;
  }
  for (let tries = 0; tries < 200; tries++) {
    const pids = membersOf(dir);
    if (pids.length === 0) return;
    if (!killFile) for (const pid of pids) killIfMember(pid, dir);
    Bun.sleepSync(10);
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
    if (membersOf(dir).includes(pid)) pidfdSignal(pidfd, SIGNALS.SIGKILL);
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
      if (code !== "EBUSY" || tries >= 200) return `could not remove the sandbox's cgroup ${dir}: ${messageOf(error)}`;
      Bun.sleepSync(10);
    }
  }
}

function openDir(dir: string): number {
  return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC);
}

/** Takes the exclusive lock on `fd`, waiting for it or not; whether it was taken. */
function lock(fd: number, wait: boolean): boolean {
  try {
    syscall("flock", fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    return true;
  } catch {
    return false;
  }
}

/** The pids /proc/locks names as holding a flock on `dir`; 0 for one in another pid namespace. */
function flockHolders(dir: string): number[] {
  const { dev, ino } = statSync(dir, { bigint: true });
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  const file = `${major.toString(16).padStart(2, "0")}:${minor.toString(16).padStart(2, "0")}:${ino}`;
  return readFileSync("/proc/locks", "latin1")
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1] === "FLOCK" && fields[5] === file)
    .map((fields) => Number(fields[4]));
}

/**
 * Whether the cgroup `dir` (open as `fd`) is a dead run's: nobody holds its
 * lock, or only its own members or the dead do (the command of a killed run
 * may have locked it to look alive). Its own stage 1 is never a member.
 */
function deadRuns(dir: string, fd: number): boolean {
  if (lock(fd, false)) return true;
  const members = new Set(membersOf(dir));
  const holders = flockHolders(dir);
  return holders.length > 0 && holders.every((pid) => pid > 0 && (members.has(pid) || !processStat(pid)));
}

/**
 * Cgroups left by a cordon that was killed (SIGKILL gives no chance to
 * remove them), and whatever still runs in them: the command of a killed
 * landlock-only run may have outlived it. Also the empty leaves of killed
 * runs that had vacated `parent`. Best effort.
 */
function removeStale(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(parent, name);
    try {
      if (LEAF_NAME.test(name) && membersOf(dir).length === 0) removeDir(dir);
      if (!CGROUP_NAME.test(name)) continue;
      const fd = openDir(dir);
      try {
        if (!deadRuns(dir, fd)) continue;
        killMembers(dir);
        removeDir(dir);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Gone meanwhile, or not ours to touch.
    }
  }
}

/**
 * A killed run that had vacated `parent` left it handing controllers out
 * (a cgroup in that state takes no new leaf for stage 1): with no child
 * cgroup left to use them, they are turned off again.
 */
function resetHandedOut(parent: string): void {
  const handedOut = controllersHandedOut(parent);
  if (handedOut.length === 0) return;
  if (readdirSync(parent, { withFileTypes: true }).some((entry) => entry.isDirectory())) return;
  writeFileSync(join(parent, "cgroup.subtree_control"), handedOut.map((controller) => `-${controller}`).join(" "));
}

/**
 * cgroup v2: a cgroup that holds processes cannot hand controllers out. cordon
 * is alone in `parent` (host/cgroups.ts checked): it moves itself into a
 * leaf, then `parent` hands out what the sandbox needs. Returns what undoes it.
 */
function vacate(planned: PlannedCgroup, name: string): () => string[] {
  const leaf = join(planned.parent, `${name}-stage1`);
  const control = join(planned.parent, "cgroup.subtree_control");
  resetHandedOut(planned.parent);
  const handedOut = controllersHandedOut(planned.parent);
  const enable = planned.controllers.filter((controller) => !handedOut.includes(controller));
  let moved = false;
  let enabled = false;
  const undo = () => {
    try {
      if (enabled) writeFileSync(control, enable.map((controller) => `-${controller}`).join(" "));
      if (moved) writeFileSync(join(planned.parent, "cgroup.procs"), String(process.pid));
    } catch (error) {
      return [`could not move cordon back into ${planned.parent}: ${messageOf(error)}`];
    }
    return [removeDir(leaf) ?? []].flat();
  };
  try {
    mkdirSync(leaf, { mode: 0o755 });
    writeFileSync(join(leaf, "cgroup.procs"), String(process.pid));
    moved = true;
    if (enable.length > 0) writeFileSync(control, enable.map((controller) => `+${controller}`).join(" "));
    enabled = enable.length > 0;
  } catch (error) {
    undo();
    throw error;
  }
  return undo;
}

/** `cordon-<pid>-<8 hex digits>`, new each time. */
function newName(): string {
  return `cordon-${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Makes and locks a new cgroup in `parent`. Between mkdir and flock another
 * run may take it for a dead run's and remove it: then again, with a new name.
 */
function makeLocked(parent: string): { dir: string; lockFd: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = join(parent, newName());
    mkdirSync(dir, { mode: 0o755 });
    let lockFd: number | undefined;
    try {
      lockFd = openDir(dir);
      if (lock(lockFd, true) && fstatSync(lockFd).ino === statSync(dir).ino) return { dir, lockFd };
    } catch {
      // Removed meanwhile.
    }
    if (lockFd !== undefined) closeSync(lockFd);
  }
  throw new CordonError(`the sandbox's cgroup in ${parent} was removed while it was being made, three times`);
}

function make(planned: PlannedCgroup): MadeCgroup {
  const { dir, lockFd } = makeLocked(planned.parent);
  const made = { planned, dir, lockFd };
  for (const setting of planned.settings) {
    try {
      writeFileSync(join(dir, setting.file), setting.value);
    } catch (error) {
      if (setting.optional && (error as NodeJS.ErrnoException).code === "ENOENT") continue;
      removeDir(dir);
      closeSync(lockFd);
      throw new CordonError(`could not set ${setting.file} to ${setting.value} in ${dir}: ${messageOf(error)}`);
    }
  }
  return made;
}

/**
 * v1 keeps no count of the times the limit was reached (failcnt stays 0 on
 * current kernels when the OOM killer acts first): a peak usage within
 * 2 MiB of the limit says it was.
 */
function reachedV1Limit(dir: string): boolean {
  const read = (file: string) => Number(readSmallFile(join(dir, file))?.toString("latin1").trim() ?? "0");
  return read("memory.max_usage_in_bytes") >= read("memory.limit_in_bytes") - 2 * 1024 * 1024;
}

function reachedPidsLimit(dir: string): boolean {
  const read = (file: string) => readSmallFile(join(dir, file))?.toString("latin1").trim();
  const peak = read("pids.peak");
  return peak === undefined || Number(peak) >= Number(read("pids.max"));
}

/**
 * What the cgroups counted. An OOM kill counts only when the sandbox had
 * reached its own limit (v2 memory.events oom, v1 its peak): one caused by
 * the host running out, or by a limit above cordon, is not the sandbox's.
 */
function eventsOf(made: MadeCgroup[]): CgroupEvents {
  let oomKills = 0;
  let forksRefused = 0;
  for (const { planned, dir } of made) {
    if (planned.controllers.includes("memory")) {
      const v2 = planned.version === 2;
      const counters = readCounters(join(dir, v2 ? "memory.events" : "memory.oom_control"));
      if (v2 ? (counters.get("oom") ?? 0) > 0 : reachedV1Limit(dir)) {
        oomKills += (counters.get("oom_kill") ?? 0) + (counters.get("oom_group_kill") ?? 0);
      }
    }
    // v1 counts a refused fork in the forker's cgroup whichever limit refused it: only a peak at our own counts.
    if (planned.controllers.includes("pids") && reachedPidsLimit(dir)) {
      forksRefused += readCounters(join(dir, "pids.events")).get("max") ?? 0;
    }
  }
  return { oomKills, forksRefused };
}

/** Makes the planned cgroups and opens their cgroup.procs. Throws a CordonError, having left nothing, if it cannot. */
export function createSandboxCgroups(planned: readonly PlannedCgroup[]): SandboxCgroups {
  const name = newName();
  const made: MadeCgroup[] = [];
  const procsFds: number[] = [];
  const undo: (() => string[])[] = [];
  const remove = () => {
    for (const fd of procsFds.splice(0)) closeSync(fd);
    const problems = made.splice(0).flatMap(({ dir, lockFd }) => {
      const problem = removeDir(dir);
      closeSync(lockFd);
      return problem ?? [];
    });
    return [...problems, ...undo.splice(0).flatMap((step) => step())];
  };
  try {
    for (const cgroup of planned) {
      removeStale(cgroup.parent);
      if (cgroup.vacate) undo.push(vacate(cgroup, name));
      made.push(make(cgroup));
      procsFds.push(openSync(join(made.at(-1)!.dir, "cgroup.procs"), constants.O_WRONLY | O_CLOEXEC));
    }
  } catch (error) {
    const failed = planned[made.length]?.parent;
    remove();
    if (error instanceof CordonError) throw error;
    throw new CordonError(`could not make the sandbox's cgroup in ${failed}: ${messageOf(error)}`);
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
