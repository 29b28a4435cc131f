// Policy + host facts -> the complete plan of one run. `run` executes it and
// `explain` prints it: both come from this one function.
import type { SockFilter } from "../../ffi/seccomp.ts";
import { landlockRulesFor, type Degradation, type LandlockPlan } from "../landlock/rules.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { assembleSeccompProgram } from "../seccomp/assemble.ts";
import { seccompSpecFor } from "../seccomp/profile.ts";
import type { EnvChanges } from "../stage1/environment.ts";
import type { HostFacts } from "./facts.ts";

export type SandboxMode = "landlock";

export interface SandboxPlan {
  mode: SandboxMode;
  cwd: string;
  landlock: LandlockPlan;
  seccomp: SockFilter[];
  env: EnvChanges;
  /** Guarantees this mode or this kernel cannot give for this policy. */
  gaps: Degradation[];
}

/** What landlock-only mode cannot enforce whatever the policy. */
export const LANDLOCK_ONLY_GAPS: Degradation[] = [
  {
    layer: "namespaces",
    feature: "unix socket files",
    consequence: "connecting to unix socket files outside the write roots (docker.sock, session bus, agents) is not blocked (Landlock ABI < 9)",
    weakensSecurity: true,
  },
  {
    layer: "namespaces",
    feature: "process isolation",
    consequence: "host processes stay visible in /proc, and leftovers that escape the session may outlive cordon if it is SIGKILLed",
    weakensSecurity: true,
  },
];

export function planSandbox(policy: ResolvedPolicy, facts: HostFacts, tmpdir: string): SandboxPlan {
  const landlock = landlockRulesFor(
    {
      readRoots: [{ path: "/", kind: "dir" }],
      writeRoots: [...policy.writeRoots, tmpdir].map((path) => ({ path, kind: "dir" as const })),
      devices: facts.devices,
      network: { allow: policy.network === "all", connectPorts: [], bindPorts: [] },
    },
    facts.landlockAbi,
  );
  const seccomp = assembleSeccompProgram(seccompSpecFor({ arch: facts.arch, network: policy.network, mode: "landlock" }));
  return {
    mode: "landlock",
    cwd: policy.cwd,
    landlock,
    seccomp,
    env: { clear: false, set: { TMPDIR: tmpdir }, unset: [] },
    gaps: [...landlock.dropped, ...LANDLOCK_ONLY_GAPS],
  };
}
