// Landlock-only mode: no namespaces. Stage 2 is our direct child; Landlock and
// seccomp are the whole sandbox.
import { closeSync, openSync } from "node:fs";
import { launchMessageFor } from "../launch/header.ts";
import type { SandboxPlan } from "../plan/sandbox.ts";
import { applyEnvChanges, hostEnvironment } from "./environment.ts";
import { launchDescriptor } from "./handoff.ts";
import { stage2Command } from "./self.ts";
import type { StderrTap } from "./stderr-tap.ts";
import { becomeSubreaper, SignalForwarder, supervise } from "./supervise.ts";

export async function runLandlockOnly(plan: SandboxPlan, argv: Uint8Array[], preserveFds: number, tap?: StderrTap): Promise<number> {
  becomeSubreaper();
  const envp = applyEnvChanges(hostEnvironment(), plan.env);
  const launchFd = launchDescriptor(launchMessageFor(plan, argv, envp, { preserveFds }));
  // Preserved descriptors keep their numbers (3..3+N-1); the plan sits just above them.
  const preserved = Array.from({ length: preserveFds }, (_, i) => 3 + i);
  const launchSlot = 3 + preserveFds;
  const exeSlot = 4 + preserveFds;
  // Through a descriptor of this very binary, as in bwrap mode: the file that runs is the one that planned.
  const exeFd = openSync("/proc/self/exe", "r");
  const forwarder = new SignalForwarder();
  let child;
  try {
    child = Bun.spawn({
      cmd: stage2Command(`/proc/self/fd/${exeSlot}`, launchSlot),
      cwd: plan.cwd,
      // Stage 2 starts clean: no LD_PRELOAD, BUN_OPTIONS or BUN_BE_BUN reaches it.
      env: {},
      stdio: ["inherit", "inherit", tap ? "pipe" : "inherit", ...preserved, launchFd, exeFd],
    });
  } finally {
    closeSync(launchFd);
    closeSync(exeFd);
  }
  const relayed = tap && child.stderr instanceof ReadableStream ? tap.relay(child.stderr) : Promise.resolve();
  const status = await supervise(child, forwarder).status;
  await relayed;
  return status;
}
