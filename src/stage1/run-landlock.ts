// Landlock-only mode: no namespaces. Stage 2 is our direct child; Landlock and
// seccomp are the whole sandbox.
import { closeSync, openSync } from "node:fs";
import { launchMessageFor, type LaunchInput } from "../launch/encode.ts";
import { slotsFor } from "../launch/wire.ts";
import type { SandboxCgroups } from "./cgroup.ts";
import { memoryFile } from "./handoff.ts";
import { stage2Command } from "./self.ts";
import { becomeSubreaper, preservedDescriptors, SignalForwarder, supervise, type Ending } from "./supervise.ts";

export async function runLandlockOnly(launch: LaunchInput, cgroups?: SandboxCgroups): Promise<Ending> {
  becomeSubreaper();
  const slot = slotsFor(launch.preserveFds);
  const cgroupFds = cgroups?.procsFds ?? [];
  // After the launch message and the binary: the slots bwrap mode uses there are not needed here.
  const cgroupSlots = cgroupFds.map((_, index) => slot.exe + 1 + index);
  const launchFd = memoryFile("cordon-launch", launchMessageFor({ ...launch, cgroupSlots }));
  const exeFd = openSync("/proc/self/exe", "r");
  const forwarder = new SignalForwarder();
  let child;
  try {
    child = Bun.spawn({
      cmd: stage2Command(slot, false),
      cwd: launch.plan.cwd,
      // Stage 2 starts clean: no LD_PRELOAD, BUN_OPTIONS or BUN_BE_BUN reaches it.
      env: {},
      stdio: [
        "inherit",
        "inherit",
        "inherit",
        ...preservedDescriptors(launch.preserveFds),
        launchFd,
        exeFd,
        ...cgroupFds,
      ],
    });
  } finally {
    closeSync(launchFd);
    closeSync(exeFd);
  }
  return supervise(child, forwarder, { ...launch.plan.limits, cgroups });
}
