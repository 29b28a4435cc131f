// Which mode a run uses, as one pure function of the requested mode and what
// is known about the host. `run` asks it twice at most (before starting bwrap,
// and after bwrap failed to start); `explain` asks it once with doctor's bwrap
// probe standing in for the attempt. Both therefore decide the same way.
import type { BwrapLocation } from "../host/bwrap.ts";
import type { Degradation } from "../policy/degradations.ts";
import { isWithin } from "../policy/paths.ts";
import type { SandboxMode } from "./sandbox.ts";

type RequestedMode = "auto" | "bwrap" | "landlock";

export interface ModeInputs {
  requested: RequestedMode;
  /** 0 when Landlock is unavailable: stage 2 needs it in every mode. */
  landlockAbi: number;
  /** Why the ABI is 0, when it is. */
  landlockNote?: string;
  /** Where bwrap is; undefined when it was not looked for. */
  bwrap: BwrapLocation | undefined;
  /** Everything the sandbox can write: a bwrap there could have been planted by an earlier run. */
  writable?: readonly string[];
  /** Whether bwrap gets the command started: undefined until tried (run) or probed (explain). */
  bwrapStarts?: boolean;
  /** What landlock-only mode cannot enforce of this policy (landlockOnlyDegradations). */
  landlockOnly: readonly Degradation[];
}

export type ModeDecision =
  | { kind: "run"; mode: SandboxMode; reason: string }
  | { kind: "refuse"; attempted: SandboxMode; reason: string; hint: string };

const USERNS_FIX =
  "allow unprivileged user namespaces (Ubuntu 24.04: sysctl " +
  "kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for " +
  "bwrap; Docker: --security-opt seccomp=unconfined --security-opt " +
  "apparmor=unconfined); `cordon doctor` shows what fails";
const ACCEPT_LOSS = "or accept the loss explicitly with --mode landlock (or --allow-degraded unix-sockets)";

export function decideMode(input: ModeInputs): ModeDecision {
  const { requested, bwrap } = input;
  const losses = input.landlockOnly;
  if (input.landlockAbi === 0) {
    return {
      kind: "refuse",
      attempted: requested === "landlock" ? "landlock" : "bwrap",
      reason:
        `Landlock is unavailable${input.landlockNote ? ` (${input.landlockNote})` : ""}, ` +
        `and stage 2 needs it in every mode`,
      hint:
        "cordon needs Landlock (Linux 5.13 or newer, with lsm=landlock in the kernel " +
        "command line); the command was not run",
    };
  }
  const lost = losses.map((loss) => loss.consequence).join(", ");
  if (requested === "landlock") {
    // Asking for landlock-only mode is accepting what it loses; the run's warning names it.
    return {
      kind: "run",
      mode: "landlock",
      reason: losses.length > 0 ? `--mode landlock was requested, accepting: ${lost}` : "--mode landlock was requested",
    };
  }
  if (bwrap?.found) {
    const inside = input.writable?.find((root) => isWithin(bwrap.real, root));
    if (inside) {
      return {
        kind: "refuse",
        attempted: "bwrap",
        reason: `refusing bwrap at ${bwrap.real}: it lies inside ${inside}, which the sandbox can write`,
        hint:
          "install bubblewrap system-wide (apt-get install bubblewrap) or pass --bwrap " +
          "with a path outside the write roots",
      };
    }
  }
  if (bwrap && !bwrap.found && bwrap.explicit) {
    return {
      kind: "refuse",
      attempted: "bwrap",
      reason: bwrap.reason,
      hint: "pass --bwrap an absolute path to a bubblewrap binary",
    };
  }
  if (!bwrap?.found) {
    const why = bwrap?.reason ?? "bubblewrap was not looked for";
    if (requested === "bwrap") {
      return {
        kind: "refuse",
        attempted: "bwrap",
        reason: `--mode bwrap: ${why}`,
        hint: "apt-get install bubblewrap, or pass --bwrap PATH",
      };
    }
    if (losses.length > 0) {
      return {
        kind: "refuse",
        attempted: "landlock",
        reason: `${why}, and landlock-only mode would lose: ${lost}`,
        hint: `install bubblewrap, ${ACCEPT_LOSS}; the command was not run`,
      };
    }
    return {
      kind: "run",
      mode: "landlock",
      reason: `${why}; auto mode uses landlock-only mode, which loses nothing this policy asks for`,
    };
  }
  if (input.bwrapStarts !== false) {
    const how = input.bwrapStarts === true ? "it works here" : "auto mode tries it first";
    return {
      kind: "run",
      mode: "bwrap",
      reason:
        requested === "bwrap" ? `--mode bwrap was requested (${bwrap.path})` : `${bwrap.path} was found and ${how}`,
    };
  }
  const failure = `bubblewrap (${bwrap.path}) fails before the command starts`;
  if (requested === "bwrap") {
    return {
      kind: "refuse",
      attempted: "bwrap",
      reason: failure,
      hint: `if it could not create namespaces, ${USERNS_FIX}; the command was not run`,
    };
  }
  if (losses.length > 0) {
    return {
      kind: "refuse",
      attempted: "bwrap",
      reason: `${failure}, and landlock-only mode would lose: ${lost}`,
      hint: `${USERNS_FIX}; ${ACCEPT_LOSS}; the command was not run`,
    };
  }
  return {
    kind: "run",
    mode: "landlock",
    reason: `${failure}; auto mode falls back to landlock-only mode, which loses nothing this policy asks for`,
  };
}
