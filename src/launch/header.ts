// Serializes the parts of a SandboxPlan that stage 2 applies.
import { SIGNALS } from "../../ffi/constants.ts";
import { encodeSockFilters } from "../../ffi/seccomp.ts";
import type { SandboxPlan } from "../plan/sandbox.ts";
import { encodeLaunch } from "./wire.ts";

export interface LaunchOptions {
  preserveFds: number;
}

export function launchMessageFor(plan: SandboxPlan, argv: Uint8Array[], envp: Uint8Array[], options: LaunchOptions): Uint8Array {
  const { landlock } = plan;
  return encodeLaunch({
    header: {
      version: 1,
      landlock: {
        abi: landlock.abi,
        handledFs: landlock.handledFs.toString(),
        handledNet: landlock.handledNet.toString(),
        scoped: landlock.scoped.toString(),
        restrictFlags: landlock.restrictFlags,
        pathRules: landlock.pathRules.map((rule) => ({
          path: rule.path, access: rule.access.toString(), optional: rule.optional,
          // Devices may be symlinks (bwrap's /dev/ptmx); every other rule path is canonical.
          noSymlinks: rule.grant !== "device",
          ...(rule.identity ? { dev: rule.identity.dev.toString(), ino: rule.identity.ino.toString() } : {}),
        })),
        netRules: landlock.netRules.map((rule) => ({ port: rule.port, access: rule.access.toString() })),
      },
      mountChecks: plan.mountChecks,
      preserveFds: options.preserveFds,
      // In bwrap mode, bwrap's --die-with-parent covers this.
      parentDeathSignal: plan.mode === "landlock" ? SIGNALS.SIGKILL : 0,
      parentPid: process.pid,
    },
    seccomp: encodeSockFilters(plan.seccomp),
    argv,
    envp,
  });
}
