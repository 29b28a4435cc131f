// The sandbox cgroups the limit tests look for: where `cordon doctor` says
// they go on this host, and removing a cgroup a test made (its members first).
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { cordon } from "./cordon.ts";

/** Where `cordon doctor` says the sandbox's cgroups go here, per controller, for the caller or nobody. */
export function cgroupHomes(asNobody = false): Map<string, string> {
  const doctor = cordon(["doctor", "--json"], { asNobody });
  const report = JSON.parse(doctor.stdout) as { checks: { id: string; details: Record<string, string> }[] };
  const detail = report.checks.find((check) => check.id === "limits")?.details["cgroup"] ?? "";
  const homes = new Map<string, string>();
  for (const entry of detail.split("; ").filter(Boolean)) {
    const [, parent, controllers] = /^v\d (.*): (.*)$/.exec(entry) ?? [];
    for (const controller of controllers?.split(" ") ?? []) homes.set(controller, parent!);
  }
  return homes;
}

/** SIGKILLs what runs in the cgroup `dir` and its children, then removes them (retrying while members exit). */
export function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroup(join(dir, entry.name));
  }
  for (let tries = 0; tries < 200 && existsSync(dir); tries++) {
    // A threaded cgroup lists its members in cgroup.threads only.
    for (const file of ["cgroup.procs", "cgroup.threads"]) {
      try {
        for (const pid of readFileSync(join(dir, file), "latin1").split("\n").filter(Boolean)) {
          process.kill(Number(pid), "SIGKILL");
        }
      } catch {
        // Not readable here, or gone already.
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      Bun.sleepSync(10);
    }
  }
}
