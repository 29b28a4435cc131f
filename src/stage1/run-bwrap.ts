// bwrap mode: stage 1 runs bubblewrap, which re-invokes this same binary as
// stage 2 inside new namespaces, through a descriptor of the binary itself
// (so it is found even in a hidden /tmp or after being replaced on disk).
// bwrap's own stderr is a memory file until stage 2 starts: a failure's
// message becomes part of cordon's diagnosis instead of a raw line before it.
import { closeSync, openSync, writeSync } from "node:fs";
import { SIGNALS } from "../../ffi/constants.ts";
import { changeSignalMask, SIG_BLOCK, SIG_SETMASK, signalBit } from "../../ffi/libc.ts";
import { readAll } from "../bytes.ts";
import { launchMessageFor, type LaunchInput } from "../launch/encode.ts";
import { slotsFor } from "../launch/wire.ts";
import { bwrapArguments } from "../plan/mounts.ts";
import { memoryFile } from "./handoff.ts";
import { stage2Command } from "./self.ts";
import { childPids } from "../host/processes.ts";
import type { SandboxCgroups } from "./cgroup.ts";
import { becomeSubreaper, preservedDescriptors, SignalForwarder, supervise, type Ending } from "./supervise.ts";

type BwrapOutcome =
  | ({ started: true } & Ending)
  /** bwrap failed before stage 2 ran: the command did not start. */
  | { started: false; bwrapStatus: number; bwrapMessage: string };

/**
 * What bwrap (or stage 2, before it had the real stderr back) wrote to the
 * capture after the command started is about the run: it goes to the user as
 * it is, never interpreted and never silenced.
 */
function passOn(bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(2, bytes, offset);
}

export async function runInBwrap(
  launch: LaunchInput,
  bwrapPath: string,
  cgroups?: SandboxCgroups,
): Promise<BwrapOutcome> {
  becomeSubreaper();
  const { plan, preserveFds } = launch;
  const slot = slotsFor(preserveFds);
  const cgroupFds = cgroups?.procsFds ?? [];
  const cgroupSlots = cgroupFds.map((_, index) => slot.stderr + 1 + index);
  const owned: number[] = [];
  try {
    const launchFd = memoryFile("cordon-launch", launchMessageFor({ ...launch, cgroupSlots }));
    owned.push(launchFd);
    const exeFd = openSync("/proc/self/exe", "r");
    owned.push(exeFd);
    const statusFd = memoryFile("cordon-status");
    owned.push(statusFd);
    const infoFd = memoryFile("cordon-bwrap-info");
    owned.push(infoFd);
    // bwrap reads its arguments from a descriptor: no argv limit for long deny lists.
    const argsFd = memoryFile(
      "cordon-bwrap-args",
      Buffer.from(
        bwrapArguments(plan, slot.info)
          .map((arg) => `${arg}\0`)
          .join(""),
      ),
    );
    owned.push(argsFd);
    const bwrapStderr = memoryFile("cordon-bwrap-stderr");
    owned.push(bwrapStderr);

    // Ctrl-C reaches the whole foreground process group. The outer bwrap must
    // not die of it (the sandbox would be SIGKILLed with it): it inherits
    // SIGINT and SIGQUIT blocked, and stage 2 unblocks them for the command.
    const terminalSignals = signalBit(SIGNALS.SIGINT) | signalBit(SIGNALS.SIGQUIT);
    const forwarder = new SignalForwarder();
    const previousMask = changeSignalMask(SIG_BLOCK, terminalSignals);
    let child;
    try {
      child = Bun.spawn({
        cmd: [bwrapPath, "--args", String(slot.args), "--", ...stage2Command(slot, true)],
        cwd: "/",
        // bwrap and stage 2 start clean: no LD_PRELOAD, BUN_OPTIONS or BUN_BE_BUN.
        env: {},
        // Bun fills a closed fd 2 with /dev/null at start-up, so 2 is always there to hand on.
        stdio: [
          "inherit",
          "inherit",
          bwrapStderr,
          ...preservedDescriptors(preserveFds),
          launchFd,
          exeFd,
          statusFd,
          infoFd,
          argsFd,
          2,
          ...cgroupFds,
        ],
      });
    } finally {
      changeSignalMask(SIG_SETMASK, previousMask);
    }
    // The sandbox's PID 1 (bwrap's init) ignores signals: deliver them to its children.
    const sandboxInit = () => {
      const match = /"child-pid":\s*(\d+)/.exec(readAll(infoFd).toString());
      return match ? Number(match[1]) : undefined;
    };
    const commandPids = () => {
      const init = sandboxInit();
      return init === undefined ? [child.pid] : childPids(init);
    };
    // The timeout's SIGTERM goes to the command and everything it started, not to bwrap's two processes:
    // SIGTERM to the outer bwrap would SIGKILL the sandbox at once, without the grace period.
    const machinery = () => [child.pid, ...[sandboxInit()].filter((pid) => pid !== undefined)];
    const deadline = { ...plan.limits, machinery, cgroups, throughSandboxInit: true };
    const ending = await supervise(child, forwarder, deadline, commandPids);
    const progress = readAll(statusFd).toString();
    const captured = readAll(bwrapStderr);
    if (!progress.startsWith("S")) {
      return { started: false, bwrapStatus: ending.status, bwrapMessage: captured.toString().trim() };
    }
    passOn(captured);
    return { started: true, ...ending };
  } finally {
    for (const fd of owned) closeSync(fd);
  }
}
