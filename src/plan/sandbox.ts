// Policy + host facts -> the complete plan of one run. `run` executes it and
// `explain` prints it: both come from this one function.
import type { SockFilter } from "../../ffi/seccomp.ts";
import { landlockRulesFor, type Degradation, type LandlockPlan, type PathFact } from "../landlock/rules.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { assembleSeccompProgram } from "../seccomp/assemble.ts";
import { seccompSpecFor } from "../seccomp/profile.ts";
import type { EnvChanges } from "../stage1/environment.ts";
import { listDirectory, type HostFacts } from "./facts.ts";
import { mountPlanFor, SANDBOX_TMPFS, type MountOp } from "./mounts.ts";

export type SandboxMode = "bwrap" | "landlock";

/** What stage 2 checks before exec: the plan's mount is really at `path`. */
export interface MountCheck {
  path: string;
  dev: string;
  ino: string;
  readOnly: boolean;
}

export interface SandboxPlan {
  mode: SandboxMode;
  cwd: string;
  network: "none" | "all";
  mounts: MountOp[];
  mountChecks: MountCheck[];
  landlock: LandlockPlan;
  seccomp: SockFilter[];
  env: EnvChanges;
  /** Guarantees this mode or this kernel cannot give for this policy. */
  gaps: Degradation[];
}

/** Per-run host paths: landlock-only's private TMPDIR, bwrap's empty stand-ins. */
export interface RunPaths {
  tmpdir: string;
  emptyDir: string;
  emptyFile: string;
  /** dev:ino of each bind source, gathered before planning. */
  inodes: ReadonlyMap<string, { dev: bigint; ino: bigint }>;
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
    feature: "metadata outside the write roots",
    consequence: "Landlock has no right for chmod, chown, utimes or xattrs: the command can change the mode, times and attributes of files it owns outside the write roots (their contents stay protected)",
    weakensSecurity: true,
  },
  {
    layer: "namespaces",
    feature: "process isolation",
    consequence: "host processes stay visible in /proc; a daemon the command detaches may outlive cordon if cordon is SIGKILLed",
    weakensSecurity: true,
  },
];

/**
 * Policy features landlock-only mode cannot enforce (yet); each refuses a run
 * there. Denies are enforced by Landlock alone (src/landlock/deny.ts).
 */
export function landlockOnlyLosses(_policy: ResolvedPolicy): string[] {
  return [];
}

const dirs = (paths: readonly string[]): PathFact[] => paths.map((path) => ({ path, kind: "dir" as const }));

export function planSandbox(policy: ResolvedPolicy, facts: HostFacts, mode: SandboxMode, paths: RunPaths): SandboxPlan {
  const bwrap = mode === "bwrap";
  const landlock = landlockRulesFor(
    {
      readRoots: dirs(["/"]),
      // Inside bwrap, /tmp and /dev/shm are private tmpfs mounts.
      writeRoots: dirs(bwrap ? [...policy.writeRoots, ...SANDBOX_TMPFS] : [...policy.writeRoots, paths.tmpdir]),
      // bwrap's /dev/pts is a private devpts instance; the host's holds other terminals.
      devices: bwrap ? [...facts.devices, { path: "/dev/pts", kind: "dir" }] : [...facts.devices, ...facts.terminals],
      network: { allow: policy.network === "all", connectPorts: [], bindPorts: [] },
      // bwrap mode enforces denies with mounts; landlock-only mode with rules on their siblings.
      exclusions: bwrap ? [] : [
        // As root (without capabilities, still the owner) /dev/sda and other
        // users' terminals would be readable through the grant on /.
        { path: "/dev", deny: "device" as const },
        ...policy.denyWrite.map((deny) => ({ path: deny.path, deny: "write" as const })),
        ...policy.denyRead.map((deny) => ({ path: deny.path, deny: deny.kind === "dir" ? ("read" as const) : ("read-file" as const) })),
      ],
      listDirectory,
    },
    facts.landlockAbi,
  );
  const mounts = bwrap
    ? mountPlanFor({
        writeRoots: policy.writeRoots,
        denyWrite: policy.denyWrite,
        denyRead: policy.denyRead,
        cwd: policy.cwd,
        network: policy.network,
        runtimeDirs: facts.runtimeDirs,
        unixSockets: facts.unixSockets,
        emptyDir: paths.emptyDir,
        emptyFile: paths.emptyFile,
      })
    : [];
  const mountChecks = mounts.flatMap((op): MountCheck[] => {
    if ((op.kind !== "bind" && op.kind !== "ro-bind") || op.why === "root") return [];
    const inode = paths.inodes.get(op.source);
    if (!inode) throw new Error(`no inode was gathered for ${op.source}`);
    return [{ path: op.dest, dev: inode.dev.toString(), ino: inode.ino.toString(), readOnly: op.kind === "ro-bind" }];
  });
  const seccomp = assembleSeccompProgram(seccompSpecFor({ arch: facts.arch, network: policy.network, mode }));
  return {
    mode,
    cwd: policy.cwd,
    network: policy.network,
    mounts,
    mountChecks,
    landlock,
    seccomp,
    env: { ...policy.env, set: { ...policy.env.set, TMPDIR: bwrap ? "/tmp" : paths.tmpdir } },
    gaps: bwrap ? landlock.dropped : [...landlock.dropped, ...LANDLOCK_ONLY_GAPS],
  };
}
