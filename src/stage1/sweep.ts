// When cordon returns, no process of the sandbox exists. cordon is the
// subreaper of everything it starts, so the sandbox is exactly its
// descendants. They are frozen first (SIGSTOP, top-down, until a pass finds
// no one new: a stopped process cannot fork), then killed together, then
// reaped; and the whole pass repeats until none is left. Each process is
// signalled through a pidfd taken while its parent was known to be one of
// ours, so a recycled pid never gets the signal meant for a sandbox process.
import { SIGNALS } from "../../ffi/constants.ts";
import { closeFd, pidfdOpen, pidfdSignal, reapIfExited } from "../../ffi/libc.ts";
import { childPids, processStat } from "../host/processes.ts";

/** How long the sandbox's processes get to die after SIGKILL (a process in D state takes its time). */
const SWEEP_DEADLINE_MS = 5_000;

export interface SweepOutcome {
  /** How many processes of the sandbox were still running when the command's status was known. */
  killed: number;
  /** Descendants that still exist after the deadline: the run must not report success. */
  survivors: number[];
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Every live descendant, each stopped and held by a pidfd, found top-down until a pass adds no one. */
function freezeDescendants(self: number): Map<number, number> {
  const frozen = new Map<number, number>();
  const ours = (pid: number) => pid === self || frozen.has(pid);
  for (let grew = true; grew;) {
    grew = false;
    for (const parent of [self, ...frozen.keys()]) {
      for (const pid of childPids(parent === self ? "self" : parent)) {
        if (frozen.has(pid)) continue;
        const pidfd = pidfdOpen(pid);
        if (pidfd < 0) continue;
        // Taken after the pidfd: if `pid` is still a child of ours now, the pidfd names that child.
        const stat = processStat(pid);
        if (!stat || !ours(stat.parent)) {
          closeFd(pidfd);
          continue;
        }
        pidfdSignal(pidfd, SIGNALS.SIGSTOP);
        frozen.set(pid, pidfd);
        grew = true;
      }
    }
  }
  return frozen;
}

/**
 * Whether a process counts as one the command left running: not a zombie,
 * and not bwrap's own PID 1, which may still be exiting after the outer
 * bwrap returned. (The count is what `-v` reports; every process is killed.)
 */
function leftByCommand(stat: ReturnType<typeof processStat>): boolean {
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X" && stat.name !== "bwrap";
}

/** Kills every descendant of this process and reaps them; see the file's comment. */
export function sweepDescendants(): SweepOutcome {
  const self = process.pid;
  const deadline = performance.now() + SWEEP_DEADLINE_MS;
  const killed = new Set<number>();
  for (let round = 0; ; round++) {
    const frozen = freezeDescendants(self);
    for (const [pid, pidfd] of frozen) {
      if (leftByCommand(processStat(pid))) killed.add(pid);
      pidfdSignal(pidfd, SIGNALS.SIGKILL);
      closeFd(pidfd);
    }
    // Orphans of the killed re-parent to us (the subreaper): reap them all.
    for (const pid of childPids()) reapIfExited(pid);
    const left = childPids();
    if (left.length === 0) return { killed: killed.size, survivors: [] };
    if (performance.now() > deadline) return { killed: killed.size, survivors: left };
    sleep(round < 10 ? 1 : 10);
  }
}
