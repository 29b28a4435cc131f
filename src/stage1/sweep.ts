// When cordon returns, no process of the sandbox exists. cordon is the
// subreaper of everything it starts, so the sandbox is exactly its
// descendants. Each pass walks them top-down and SIGKILLs every process the
// moment it is found: a pending SIGKILL cannot be undone (a SIGSTOP can, by
// a SIGCONT from a sibling), and a process with one pending cannot fork.
// Orphans of the killed re-parent to cordon and are found by the next pass;
// passes repeat until cordon has no child left.
//
// A pid can be reused once its process is reaped, so every signal goes
// through a pidfd, and a process counts as ours only while its parent,
// checked through its own pidfd after the read, still exists: then the
// parent's pid was not reused, and neither was the pid named by its
// children list.
import { SIGNALS } from "../../ffi/constants.ts";
import { closeFd, pidfdOpen, pidfdSignal, reapIfExited } from "../../ffi/libc.ts";
import { childPids, processStat } from "../host/processes.ts";

/** How long the sandbox's processes get to be gone after the command ended (one in state D takes its time). */
const SWEEP_DEADLINE_MS = 5_000;

export interface SweepOutcome {
  /** How many processes of the sandbox were still running when the command's status was known. */
  killed: number;
  /** Descendants still there at the deadline, each with SIGKILL pending: the run must not report success. */
  survivors: { pid: number; state: string }[];
}

/**
 * Whether a process counts as one the command left running: not a zombie,
 * and not bwrap's own PID 1, which may still be exiting after the outer
 * bwrap returned. (The count is what `-v` reports; every process is killed.)
 */
function leftByCommand(stat: ReturnType<typeof processStat>): boolean {
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X" && stat.name !== "bwrap";
}

/**
 * One pass: every descendant reachable now, each signalled (SIGKILL unless
 * told otherwise) as it is found, but the `spared` (bwrap's own processes,
 * whose children are still walked). Returns how many were new.
 */
function killPass(
  self: number,
  handles: Map<number, number>,
  counted: Set<number>,
  signal: number = SIGNALS.SIGKILL,
  spared: ReadonlySet<number> = new Set(),
): number {
  let found = 0;
  // The parent's pid names the same process as long as its pidfd can still be signalled (zombies included).
  const parentStillThere = (parent: number) => parent === self || pidfdSignal(handles.get(parent)!, 0);
  const queue = [self];
  const visited = new Set<number>();
  while (queue.length > 0) {
    const parent = queue.shift()!;
    if (visited.has(parent)) continue;
    visited.add(parent);
    const children = childPids(parent === self ? "self" : parent);
    if (!parentStillThere(parent)) continue;
    for (const pid of children) {
      if (handles.has(pid)) {
        queue.push(pid);
        continue;
      }
      const pidfd = pidfdOpen(pid);
      if (pidfd < 0) continue;
      const stat = processStat(pid);
      if (!stat || stat.parent !== parent || !parentStillThere(parent)) {
        // Gone, re-parented (to us: the next pass finds it), or not ours.
        closeFd(pidfd);
        continue;
      }
      if (!spared.has(pid)) pidfdSignal(pidfd, signal);
      handles.set(pid, pidfd);
      if (leftByCommand(stat)) counted.add(pid);
      found++;
      queue.push(pid);
    }
  }
  return found;
}

/**
 * Sends `signal` to every descendant of this process but the `spared`, in one
 * top-down pass, and returns how many got it: the timeout's SIGTERM, and its
 * SIGKILL while the command still runs (reaping is the sweep's, after it).
 */
export function signalDescendants(signal: number, spared: ReadonlySet<number> = new Set()): number {
  const handles = new Map<number, number>();
  const reached = new Set<number>();
  try {
    killPass(process.pid, handles, reached, signal, spared);
    for (const pid of spared) reached.delete(pid);
    return reached.size;
  } finally {
    for (const pidfd of handles.values()) closeFd(pidfd);
  }
}

/** Kills every descendant of this process and reaps them; see the file's comment. */
export function sweepDescendants(): SweepOutcome {
  const self = process.pid;
  const deadline = performance.now() + SWEEP_DEADLINE_MS;
  const handles = new Map<number, number>();
  const counted = new Set<number>();
  try {
    for (;;) {
      const found = killPass(self, handles, counted);
      // Orphans of the killed re-parent to us (the subreaper): reap them all.
      for (const pid of childPids()) reapIfExited(pid);
      const left = childPids();
      if (left.length === 0) return { killed: counted.size, survivors: [] };
      if (performance.now() > deadline) {
        killPass(self, handles, counted);
        const survivors = childPids().map((pid) => ({ pid, state: processStat(pid)?.state ?? "?" }));
        return { killed: counted.size, survivors };
      }
      // Nothing new: what is left is dying (or stuck in the kernel); give it a moment.
      if (found === 0) Bun.sleepSync(1);
    }
  } finally {
    for (const pidfd of handles.values()) closeFd(pidfd);
  }
}
