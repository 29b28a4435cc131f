// Policy + host facts -> the complete plan of one run. `run` executes it and
// `explain` prints it: both come from this one function.
import type { SockFilter } from "../../ffi/seccomp.ts";
import type { MountCheck } from "../launch/wire.ts";
import type { Exclusion } from "../landlock/deny.ts";
import { landlockRulesFor, type Degradation, type LandlockPlan, type PathFact } from "../landlock/rules.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { assembleSeccompProgram } from "../seccomp/assemble.ts";
import { seccompSpecFor } from "../seccomp/profile.ts";
import type { EnvChanges } from "../stage1/environment.ts";
import { listDirectory, type HostFacts } from "./facts.ts";
import { CordonError } from "../errors.ts";
import { NET_RIGHTS_SINCE } from "../../ffi/landlock.ts";
import { isWithin } from "../policy/paths.ts";
import { mountPlanFor, SANDBOX_TMPFS, type MountOp, type NetworkAccess } from "./mounts.ts";

export type SandboxMode = "bwrap" | "landlock";


export interface SandboxPlan {
  mode: SandboxMode;
  cwd: string;
  network: NetworkAccess;
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
    name: "unix-sockets",
    feature: "unix socket files",
    consequence: "connecting to unix socket files outside the write roots (docker.sock, session bus, agents) is not blocked (Landlock ABI < 9)",
    weakensSecurity: true,
  },
  {
    layer: "namespaces",
    name: "metadata",
    feature: "metadata outside the write roots",
    consequence: "Landlock has no right for chmod, chown, utimes or xattrs: the command can change the mode, times and attributes of files it owns outside the write roots (their contents stay protected)",
    weakensSecurity: true,
  },
  {
    layer: "namespaces",
    name: "process-isolation",
    feature: "process isolation",
    consequence: "host processes stay visible in /proc; a daemon the command detaches may outlive cordon if cordon is SIGKILLed",
    weakensSecurity: true,
  },
];

/**
 * What the policy asks for that landlock-only mode cannot give here; auto
 * mode refuses to fall back while any remains (unless accepted by name).
 * Landlock before ABI 9 cannot stop connect(2) to a unix socket file: a
 * systemd or D-Bus socket of the same user runs commands outside any sandbox.
 */
export function landlockOnlyLosses(policy: ResolvedPolicy, facts: Pick<HostFacts, "unixSockets">): string[] {
  if (policy.allowDegraded.includes("unix-sockets")) return [];
  const hiddenSockets = policy.denyRead.filter((deny) => facts.unixSockets.includes(deny.path)).map((deny) => deny.path);
  const reachable = networkAccessOf(policy) === "all"
    ? []
    : facts.unixSockets.filter((socket) => !policy.writeRoots.some((root) => isWithin(socket, root)) && !hiddenSockets.includes(socket));
  const losses: string[] = [];
  if (hiddenSockets.length > 0) losses.push(`hiding the unix sockets ${preview(hiddenSockets)}`);
  if (reachable.length > 0) losses.push(`keeping host unix sockets out of reach (${preview(reachable)})`);
  return losses;
}

function preview(paths: readonly string[]): string {
  return paths.length > 3 ? `${paths.slice(0, 3).join(", ")} and ${paths.length - 3} more` : paths.join(", ");
}

/**
 * In bwrap mode the mounts and namespaces already give what some Landlock
 * rights would: read-only mounts refuse truncation, /dev holds only harmless
 * devices, and a private network and PID namespace keep abstract sockets and
 * signals in (unless the network namespace is shared).
 */
function coveredByNamespaces(gap: Degradation, network: NetworkAccess): Degradation {
  const covered = gap.name === "truncate" || gap.name === "ioctl-dev" || (gap.name === "scopes" && network === "none");
  return covered ? { ...gap, weakensSecurity: false, consequence: `${gap.consequence} (bwrap's mounts and namespaces cover this)` } : gap;
}

/**
 * A mount would follow a symlink, so in bwrap mode a denied symlink itself
 * (its target is mounted over) is kept from being removed or replaced by
 * Landlock: its directory loses the rights to change entries.
 */
function symlinkExclusions(policy: ResolvedPolicy): Exclusion[] {
  return [...policy.denyWrite, ...policy.denyRead]
    .filter((deny) => deny.kind === "symlink")
    .map((deny) => ({ path: deny.path, deny: "write" as const }));
}

/** The weakened guarantees `--strict` refuses: those not accepted by name. */
export function unacceptedGaps(plan: SandboxPlan, allowDegraded: readonly string[]): Degradation[] {
  return plan.gaps.filter((gap) => gap.weakensSecurity && !allowDegraded.includes(gap.name));
}

const dirs = (paths: readonly string[]): PathFact[] => paths.map((path) => ({ path, kind: "dir" as const }));

export function networkAccessOf(policy: Pick<ResolvedPolicy, "network" | "allowConnect" | "allowBind">): NetworkAccess {
  if (policy.network === "all") return "all";
  return policy.allowConnect.length + policy.allowBind.length > 0 ? "tcp" : "none";
}

/** Every path a bind mount may take as its source: the inodes stage 2 checks come from these. */
export function bindSources(policy: ResolvedPolicy, paths: Pick<RunPaths, "tmpdir" | "emptyDir" | "emptyFile">): string[] {
  const existingDenyWrite = policy.denyWrite.filter((deny) => deny.kind === "dir" || deny.kind === "file").map((deny) => deny.path);
  return [paths.tmpdir, paths.emptyDir, paths.emptyFile, policy.cwd, ...policy.writeRoots, ...existingDenyWrite];
}

export function planSandbox(policy: ResolvedPolicy, facts: HostFacts, mode: SandboxMode, paths: RunPaths): SandboxPlan {
  const bwrap = mode === "bwrap";
  const network = networkAccessOf(policy);
  if (network === "tcp" && facts.landlockAbi < NET_RIGHTS_SINCE) {
    // Without port rules the TCP sockets seccomp lets through would reach every port.
    throw new CordonError(`--allow-connect/--allow-bind need Landlock ABI ${NET_RIGHTS_SINCE} (Linux 6.7); this kernel has ABI ${facts.landlockAbi}`, {
      hint: "drop the port rules, or use --net; the command was not run",
    });
  }
  const landlock = landlockRulesFor(
    {
      readRoots: dirs(["/"]),
      // Inside bwrap, /tmp and /dev/shm are private tmpfs mounts.
      writeRoots: dirs(bwrap ? [...policy.writeRoots, ...SANDBOX_TMPFS] : [...policy.writeRoots, paths.tmpdir]),
      // bwrap's /dev/pts is a private devpts instance; the host's holds other terminals.
      devices: bwrap ? [...facts.devices, { path: "/dev/pts", kind: "dir" }] : [...facts.devices, ...facts.terminals],
      network: { allow: network === "all", connectPorts: policy.allowConnect, bindPorts: policy.allowBind },
      // bwrap mode enforces denies with mounts; landlock-only mode with rules on their siblings.
      exclusions: bwrap ? symlinkExclusions(policy) : [
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
  // Write roots and the private TMPDIR keep the identity stage 1 resolved.
  landlock.pathRules = landlock.pathRules.map((rule) => {
    const identity = rule.grant === "write" && !rule.walked ? paths.inodes.get(rule.path) : undefined;
    return identity ? { ...rule, identity } : rule;
  });
  const mounts = bwrap
    ? mountPlanFor({
        writeRoots: policy.writeRoots,
        denyWrite: policy.denyWrite,
        denyRead: policy.denyRead,
        cwd: policy.cwd,
        network,
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
  const seccomp = assembleSeccompProgram(seccompSpecFor({ arch: facts.arch, network, mode }));
  return {
    mode,
    cwd: policy.cwd,
    network,
    mounts,
    mountChecks,
    landlock,
    seccomp,
    env: { ...policy.env, set: { ...policy.env.set, TMPDIR: bwrap ? "/tmp" : paths.tmpdir } },
    gaps: bwrap ? landlock.dropped.map((gap) => coveredByNamespaces(gap, network)) : [...landlock.dropped, ...LANDLOCK_ONLY_GAPS],
  };
}
