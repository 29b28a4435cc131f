// The process tree as /proc shows it: who is whose child, and in what state.
// Read-only; stage 1's sweep (stage1/sweep.ts) decides what to do with it.
import { readdirSync, readFileSync } from "node:fs";

/** Every child of process `pid` (default: this one), from all of its threads. */
export function childPids(pid: number | "self" = "self"): number[] {
  const pids = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const task of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "latin1").split(" ")) {
        if (child.trim()) pids.add(Number(child));
      }
    } catch {
      // The thread ended while we looked.
    }
  }
  return [...pids];
}

interface ProcessStat {
  /** The command name (comm), as the process set it. */
  name: string;
  /** R, S, D, T, t, Z, X, ... */
  state: string;
  parent: number;
  /** Clock ticks after boot when it started (field 22): tells a reused pid apart. */
  startTime: string;
}

/** State and parent of `pid` from /proc/PID/stat; undefined once it is gone. */
export function processStat(pid: number): ProcessStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it follow the last ")".
  const close = stat.lastIndexOf(")");
  const fields = stat.slice(close + 2).split(" ");
  return {
    name: stat.slice(stat.indexOf("(") + 1, close),
    state: fields[0] ?? "?",
    parent: Number(fields[1]),
    startTime: fields[19] ?? "",
  };
}
