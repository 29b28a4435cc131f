// Finding processes by a marker argument in their command line.
import { readdirSync, readFileSync } from "node:fs";

/** Whether `file` of /proc/PID holds `marker`; false when it is gone or not ours to read. */
function holds(pid: string, file: "cmdline" | "environ", marker: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/${file}`, "latin1").includes(marker);
  } catch {
    return false;
  }
}

/**
 * Pids (other than ours) whose command line contains `marker`, or whose
 * environment does (CORDON_TEST_MARK=marker: a `sleep` an attack started
 * carries no marker in its arguments, and was left behind by the hundred).
 */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    if (holds(entry, "cmdline", marker) || holds(entry, "environ", `CORDON_TEST_MARK=${marker}`)) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/** SIGKILLs processes this test started and identified by `marker`. */
export function killMarked(marker: string): void {
  for (const pid of processesWith(marker)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
