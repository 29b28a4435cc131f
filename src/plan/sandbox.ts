// Policy + host facts -> the complete plan of one run: mounts, Landlock rules,
// the seccomp program, the environment, what the run creates on the host, and
// every degradation. Pure. `run` executes the plan and `explain` prints it.
import { limitDegradations, limitsPlanFor, type LimitsPlan } from "./limits.ts";
import { SIGNALS } from "../../ffi/constants.ts";
import { FS_RIGHT_SINCE, NET_RIGHTS_SINCE } from "../../ffi/landlock.ts";
import type { SockFilter } from "../../ffi/seccomp.ts";
import { CordonError } from "../errors.ts";
import type { CordonFile } from "../host/cordon-files.ts";
import { hostVariables } from "../host/environment.ts";
import { cacheRoot, cacheVariables, offlineVariables } from "../policy/caches.ts";
import type { HostFacts } from "../host/facts.ts";
import type { Exclusion } from "../landlock/deny.ts";
import { landlockRulesFor, type LandlockPlan, type PathFact } from "../landlock/rules.ts";
import { CATALOG, hiddenNames, landlockOnlyLosses, unaccepted, type Degradation } from "../policy/degradations.ts";
import { environmentRemovals, type RemovedVariable } from "../policy/environment.ts";
import { isWithin, type ExpectedIdentity } from "../policy/paths.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import type { EnvChanges } from "../policy/schema.ts";
import { assembleSeccompProgram } from "../seccomp/assemble.ts";
import { seccompSpecFor } from "../seccomp/profile.ts";
import { denyWriteWithGit, gitGuardFor, type GitGuardPlan } from "./git-guard.ts";
import { denyMountsFor, type DenyAction, type DenyMountPlan } from "./deny-mounts.ts";
import { mountPlanFor, sandboxTmpfsFor, type MountOp, type NetworkAccess } from "./mounts.ts";
import { sessionPlanFor, type Session, type SessionPlan } from "./session.ts";
import { redactionPlanFor, type PlannedRedaction } from "./redacted-copies.ts";
import { hostStateFor, stateFilesIn, type HostState } from "./state.ts";

export type SandboxMode = "bwrap" | "landlock";

/** Stage 2 checks, before exec, that a planned bind is really at `path`, on the file it was planned from. */
export interface MountCheck {
  path: string;
  /** The bind's source: what stage 2 must find at `path`. */
  source: string;
  identity: ExpectedIdentity;
  readOnly: boolean;
}

/** A deny mount with the identity stage 2 must find at its anchor and at each component. */
export interface PlannedDenyMount {
  path: string;
  action: DenyAction;
  anchor: string;
  components: { path: string; identity: ExpectedIdentity }[];
}

/** The policy's environment changes, and the caller's variables the command does not get (names only). */
export interface PlannedEnvironment extends EnvChanges {
  removed: RemovedVariable[];
}

export interface SandboxPlan {
  mode: SandboxMode;
  cwd: string;
  network: NetworkAccess;
  /** What bwrap mounts: the root, /proc, /dev, tmpfs, write roots, allowed sockets. */
  mounts: MountOp[];
  /** Host sockets stage 2 covers with an empty file (bwrap mode). */
  socketCovers: SocketCover[];
  mountChecks: MountCheck[];
  /** What stage 2 mounts by descriptor for the deny paths (bwrap mode), shallowest first. */
  denyMounts: PlannedDenyMount[];
  /** Where each walk starts, with its identity. */
  denyAnchors: { path: string; identity: ExpectedIdentity }[];
  /** Deny paths that need no mount, and why. */
  denyCovered: DenyMountPlan["covered"];
  /** Missing read-denied paths that Landlock keeps rightless should they appear. */
  denyLandlockReads: string[];
  landlock: LandlockPlan;
  seccomp: SockFilter[];
  env: PlannedEnvironment;
  /** What the run creates on the host before the command starts, and removes after it. */
  hostState: HostState;
  /** Delivered to the command when stage 1 dies; 0 where bwrap's --die-with-parent covers it. */
  parentDeathSignal: number;
  /** The command's session: cordon's when it is interactive on the terminal, else a new one (stage 2 setsid). */
  terminal: SessionPlan;
  /** Guarantees this mode or this kernel cannot give for this policy. */
  degradations: Degradation[];
  /** The secure defaults' files presented as redacted copies, and how this mode does it. */
  redactions: PlannedRedaction[];
  /** Host unix sockets: what the plan keeps out of reach, what it lets through, and what stays open. */
  sockets: SocketExposure;
  /** protectGit: what git executes or trusts, prevented (mounts) or repaired (after the run), and the scan after it. */
  git: GitGuardPlan;
  /** The timeout, the tmpfs size and the rlimits stage 2 sets (plan/limits.ts). */
  limits: LimitsPlan;
}

/** A host socket file to cover; `hex` holds its path's bytes, which need not be UTF-8. */
export interface SocketCover {
  shown: string;
  hex: string;
}

export interface SocketExposure {
  /** Directories replaced by an empty tmpfs, with every socket in them (bwrap mode). */
  emptied: string[];
  /** Host socket files covered one by one (bwrap mode). */
  covered: string[];
  /** Host socket files the policy allows. */
  allowed: string[];
  /** What stays reachable, in plain words. */
  open: string[];
}

/**
 * What reaches host daemons over unix sockets, stated for `explain`. bwrap
 * mode empties /run, /tmp and /dev/shm and covers each listed socket file
 * elsewhere; Landlock from ABI 9 refuses connect(2) to any socket file
 * outside the write roots. Abstract names live in the network namespace.
 */
function socketExposure(
  mode: SandboxMode,
  network: NetworkAccess,
  abi: number,
  mounts: readonly MountOp[],
  covers: readonly SocketCover[],
  allowed: string[],
): SocketExposure {
  const resolveUnix = abi >= FS_RIGHT_SINCE.RESOLVE_UNIX;
  const covered = covers.map((cover) => cover.shown);
  const emptied = mounts.filter((op) => op.kind === "tmpfs").map((op) => op.dest);
  const open = ["socket files inside the write roots"];
  if (mode === "landlock" && !resolveUnix) {
    open.push(
      `every host socket file the user can reach (Landlock ABI ${abi} has no unix-socket right; ` +
        `ABI ${FS_RIGHT_SINCE.RESOLVE_UNIX} adds it)`,
    );
  } else if (mode === "bwrap" && !resolveUnix) {
    open.push(
      "outside /run, /tmp, /dev/shm and the write roots: a socket file a host program binds after the run " +
        "starts, one renamed or moved since it was bound, one bound in another mount namespace (a container's " +
        "volume, seen at another path), or one bound by a relative name",
    );
  }
  if (mode === "landlock" || network !== "none") {
    open.push(
      "abstract unix names (@name) are shared with the host's network namespace: Landlock keeps the command " +
        "from connecting to a host's, but it can bind a name that a host program connects to later",
    );
  }
  return { emptied, covered, allowed, open };
}

/**
 * What the policy asks for that landlock-only mode cannot give here; auto
 * mode refuses to fall back while any remains (unless accepted by name).
 * Landlock before ABI 9 cannot stop connect(2) to a unix socket file: a
 * systemd or D-Bus socket of the same user runs commands outside any
 * sandbox, with or without network.
 */
export function landlockOnlyDegradations(
  policy: ResolvedPolicy,
  facts: Pick<HostFacts, "unixSockets" | "foreignSockets" | "landlock">,
): Degradation[] {
  if (policy.allowDegraded.includes("unix-sockets") || facts.landlock.abi >= FS_RIGHT_SINCE.RESOLVE_UNIX) return [];
  const sockets = [...facts.unixSockets, ...facts.foreignSockets.map((socket) => socket.shown)];
  const hiddenByPolicy = (socket: string) =>
    policy.denyRead.some((deny) => deny.path === socket || (deny.kind === "dir" && isWithin(socket, deny.path)));
  const hiddenSockets = sockets.filter(hiddenByPolicy);
  const outsideRoots = (socket: string) => !policy.writeRoots.some((root) => isWithin(socket, root));
  const reachable = sockets.filter(
    (socket) => outsideRoots(socket) && !hiddenByPolicy(socket) && !policy.allowSockets.includes(socket),
  );
  const degradations: Degradation[] = [];
  const unixSockets = CATALOG["unix-sockets"];
  if (hiddenSockets.length > 0) {
    degradations.push({ ...unixSockets, consequence: `hiding the unix sockets ${preview(hiddenSockets)}` });
  }
  if (reachable.length > 0) {
    degradations.push({
      ...unixSockets,
      consequence: `keeping host unix sockets out of reach (${preview(reachable)})`,
    });
  }
  return degradations;
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
function coveredByNamespaces(degradation: Degradation, network: NetworkAccess): Degradation {
  const { name } = degradation;
  const covered = name === "truncate" || name === "ioctl-dev" || (name === "scopes" && network === "none");
  if (!covered) return degradation;
  return {
    ...degradation,
    weakensSecurity: false,
    consequence: `${degradation.consequence} (bwrap's mounts and namespaces cover this)`,
  };
}

/**
 * What Landlock adds to bwrap mode's mounts. A mount would follow a symlink,
 * so a denied symlink itself (its target is mounted over) is kept from being
 * removed or replaced: its directory loses the rights to change entries. And
 * a read-denied path that does not exist yet and has no placeholder cannot
 * carry a mount: were it created during the run (by the host), Landlock
 * gives it no rights, since no rule reaches it.
 */
function bwrapExclusions(policy: ResolvedPolicy, deny: DenyMountPlan): Exclusion[] {
  return [
    ...[...policy.denyWrite, ...policy.denyRead]
      .filter((entry) => entry.kind === "symlink")
      .map((entry) => ({ path: entry.path, deny: "write" as const })),
    ...deny.landlockReadDenies.map((path) => ({ path, deny: "read" as const })),
  ];
}

/** Directories bwrap replaces with the sandbox's own: host files below them are out of sight. */
function replacedInSandbox(tmpfs: readonly string[], runtimeDirs: readonly string[]): string[] {
  return ["/proc", "/dev", ...tmpfs, ...runtimeDirs];
}

/**
 * The host sockets stage 2 covers with an empty file in bwrap mode: every
 * one that bwrap's mounts leave in sight as the host's own file (the last
 * mount over it binds a host path: the root, or a working directory bound
 * back under /tmp), outside the write roots, the read-denied directories and
 * the allowed sockets. Compared byte for byte (latin1), so a path that is not
 * UTF-8 is placed like any other; stage 2 opens it by its bytes.
 */
function socketCoversFor(policy: ResolvedPolicy, facts: HostFacts, mounts: readonly MountOp[]): SocketCover[] {
  const bytes = (path: string) => Buffer.from(path).toString("latin1");
  const byDest = mounts.map((op) => ({ dest: bytes(op.dest), hostView: op.kind === "bind" || op.kind === "ro-bind" }));
  const inHostView = (path: string) => byDest.findLast((op) => isWithin(path, op.dest))?.hostView === true;
  const ownOrHidden = [
    ...policy.writeRoots,
    ...policy.denyRead.filter((deny) => deny.kind !== "file").map((deny) => deny.path),
  ].map(bytes);
  const allowed = new Set(policy.allowSockets.map(bytes));
  const sockets = [
    ...facts.unixSockets.map((path) => ({ shown: path, hex: Buffer.from(path).toString("hex"), canonical: true })),
    ...facts.foreignSockets,
  ];
  return sockets.filter((socket) => {
    const path = Buffer.from(socket.hex, "hex").toString("latin1");
    if (socket.canonical) {
      return !allowed.has(path) && inHostView(path) && !ownOrHidden.some((dir) => isWithin(path, dir));
    }
    // A path as listed may reach anywhere through its symlinks: always covered (stage 2 covers only a socket).
    return true;
  });
}

function identifiedDenyMounts(
  deny: DenyMountPlan,
  identityOf: (path: string) => ExpectedIdentity,
): Pick<SandboxPlan, "denyMounts" | "denyAnchors"> {
  const denyMounts = deny.mounts.map((mount) => ({
    ...mount,
    components: mount.components.map((path) => ({ path, identity: identityOf(path) })),
  }));
  const anchors = [...new Set(deny.mounts.map((mount) => mount.anchor))];
  return { denyMounts, denyAnchors: anchors.map((path) => ({ path, identity: identityOf(path) })) };
}

/** The degradation a denied file with other names brings: a mount or a rule covers one name only. */
function hardLinkDegradations(policy: ResolvedPolicy, redactions: readonly PlannedRedaction[]): Degradation[] {
  // A redacted file counts where the copy stands for it; one with nothing secret in it is left as it is.
  const covered = new Set(redactions.filter((r) => r.how === "copy" || r.how === "hidden").map((r) => r.path));
  const redacted = policy.redact.filter((file) => covered.has(file.path));
  const linked = [...policy.denyWrite, ...policy.denyRead, ...redacted].filter((deny) => (deny.links ?? 1) > 1);
  if (linked.length === 0) return [];
  const names = linked.map((deny) => `${deny.path} has ${deny.links} hard links`);
  return [
    {
      ...CATALOG["hard-links"],
      consequence: `${preview(names)}: its other names are not covered (a mount or a Landlock rule covers one name)`,
    },
  ];
}

/** How a write root reaches one of cordon's files, or undefined when it does not. */
function reachOf(file: CordonFile, root: string): string | undefined {
  if (isWithin(file.path, root)) return `${file.name} lies inside the write root ${root}`;
  if (file.directory && isWithin(root, file.path)) return `the write root ${root} lies inside ${file.name}`;
  return undefined;
}

/**
 * The degradation a write root that reaches cordon's own files brings: the
 * command could replace the cordon that later runs start outside any
 * sandbox. Whatever the mode: refused unless accepted by name.
 */
function cordonWritableDegradations(policy: ResolvedPolicy, files: readonly CordonFile[]): Degradation[] {
  const reached = files.flatMap((file) =>
    policy.writeRoots.map((root) => reachOf(file, root)).filter((reach) => reach !== undefined),
  );
  if (reached.length === 0) return [];
  return [
    {
      ...CATALOG["cordon-writable"],
      consequence:
        `${preview(reached)}: the command could replace the cordon ` + "that later runs start outside any sandbox",
    },
  ];
}

/** landlock-only mode enforces denies with rules on the siblings of each denied path. */
function landlockOnlyExclusions(policy: ResolvedPolicy, hiddenFiles: readonly string[]): Exclusion[] {
  return [
    ...hiddenFiles.map((path): Exclusion => ({ path, deny: "read" })),
    // As root (without capabilities, still the owner) /dev/sda and other
    // users' terminals would be readable through the grant on /.
    { path: "/dev", deny: "device" },
    ...policy.denyWrite.map((deny): Exclusion => ({ path: deny.path, deny: "write" })),
    ...policy.denyRead.map((deny): Exclusion => ({ path: deny.path, deny: "read" })),
  ];
}

/** Landlock-only mode lists the names in hidden directories: their parents stay listable (deny.ts). */
function hiddenNamesDegradations(policy: ResolvedPolicy): Degradation[] {
  const dirs = policy.denyRead.filter((entry) => entry.kind === "dir").map((entry) => entry.path);
  return dirs.length > 0 ? [hiddenNames(dirs)] : [];
}

/** The degradations `--strict` refuses: those not accepted by name. */
export function unacceptedDegradations(plan: SandboxPlan, allowDegraded: readonly string[]): Degradation[] {
  return unaccepted(plan.degradations, allowDegraded);
}

function networkAccessOf(policy: Pick<ResolvedPolicy, "network" | "allowConnect" | "allowBind">): NetworkAccess {
  if (policy.network === "all") return "all";
  return policy.allowConnect.length + policy.allowBind.length > 0 ? "tcp" : "none";
}

/**
 * The identity stage 2 must find at a path: one this run creates, or the one
 * the host facts recorded. A path with neither vanished after the policy was
 * resolved: planning it without an identity would grant whatever is there by
 * the time stage 2 looks.
 */
function requiredIdentity(path: string, facts: HostFacts, state: HostState): ExpectedIdentity {
  if (state.created.includes(path)) return "created";
  const identity = facts.identities.get(path);
  if (!identity) throw new CordonError(`${path} disappeared while cordon planned the run`, { hint: "run it again" });
  return identity;
}

function mountChecksFor(mounts: readonly MountOp[], facts: HostFacts, state: HostState): MountCheck[] {
  return mounts.flatMap((op): MountCheck[] => {
    if ((op.kind !== "bind" && op.kind !== "ro-bind") || op.why === "root") return [];
    const identity = requiredIdentity(op.source, facts, state);
    return [{ path: op.dest, source: op.source, identity, readOnly: op.kind === "ro-bind" }];
  });
}

/** Directories granted whole, with the identity stage 2 must find there. */
function directories(paths: readonly string[], identityOf: (path: string) => ExpectedIdentity | undefined): PathFact[] {
  return paths.map((path) => {
    const identity = identityOf(path);
    return identity ? { path, kind: "dir", identity } : { path, kind: "dir" };
  });
}

/**
 * The device nodes the command may open. bwrap's /dev/pts is a private devpts
 * instance (the host's holds other terminals), and bwrap binds the terminal
 * behind stdout at /dev/console, the name `tty` reports there. In a new
 * session the user's terminal is granted under no name; /dev/tty stays, as it
 * names only a controlling terminal, which the new session lacks (ENXIO).
 */
function devicesFor(mode: SandboxMode, session: Session, facts: HostFacts): PathFact[] {
  const ownTerminal = session === "inherit";
  if (mode === "landlock") return [...facts.devices, ...(ownTerminal ? facts.terminals : [])];
  const stdoutTerminal = ownTerminal && facts.terminals.length > 0;
  return [
    ...facts.devices,
    { path: "/dev/pts", kind: "dir" },
    ...(stdoutTerminal ? [{ path: "/dev/console", kind: "file" as const }] : []),
  ];
}

/** The policy's changes plus what cordon sets itself, and the caller's variables that are removed. */
/**
 * The command's environment: the policy's changes, then cordon's own
 * (`own`: copies' variables, TMPDIR), over package managers' defaults that
 * the caller or the policy may override (caches, offline without network).
 */
function environmentFor(
  policy: ResolvedPolicy,
  facts: Pick<HostFacts, "environment">,
  network: NetworkAccess,
  own: Record<string, string>,
): PlannedEnvironment {
  const caller = hostVariables(facts.environment);
  const callerSet = Object.fromEntries(caller.map(({ name, value }) => [name, value]));
  const root = cacheRoot(policy.cwd, policy.writeRoots);
  const defaults = {
    ...(network === "all" ? {} : offlineVariables({ ...callerSet, ...policy.env.set })),
    ...(root ? cacheVariables(policy.caches, root) : {}),
  };
  const set = { ...defaults, ...policy.env.set, ...own };
  return { ...policy.env, set, removed: environmentRemovals(caller, { ...policy.env, set }) };
}

export function planSandbox(
  resolved: ResolvedPolicy,
  facts: HostFacts,
  mode: SandboxMode,
  stateDir: string,
): SandboxPlan {
  const bwrap = mode === "bwrap";
  const tmpfs = sandboxTmpfsFor(resolved.tmp);
  const replaced = replacedInSandbox(tmpfs, facts.runtimeDirs);
  // tmp "host" in bwrap mode: the command's TMPDIR is the run's private directory, bound in, as in landlock-only mode.
  const privateTmpdir = !bwrap || resolved.tmp === "host" ? stateFilesIn(stateDir).tmpdir : undefined;
  const redaction = redactionPlanFor({ policy: resolved, sources: facts.redactSources, bwrap, replaced, stateDir });
  const copied = redaction.redactions.filter((r) => r.how === "copy").map((r) => r.path);
  const git = gitGuardFor(resolved, mode, copied);
  // bwrap mode holds git's protected paths like any write-denied path. A path presented as a redacted
  // copy is already read-only under that mount: a second one there would find the copy, not the file.
  const policy = bwrap
    ? { ...resolved, denyWrite: denyWriteWithGit(resolved, git).filter((entry) => !copied.includes(entry.path)) }
    : resolved;
  // Landlock cannot confine chmod and its kin to the write roots; with none, seccomp refuses them all.
  const lockMetadata = !bwrap && policy.writeRoots.length === 0;
  const shmGranted = policy.allowDegraded.includes("shm");
  const network = networkAccessOf(policy);
  const abi = facts.landlock.abi;
  if (network === "tcp" && abi < NET_RIGHTS_SINCE) {
    // Without port rules the TCP sockets seccomp lets through would reach every port.
    throw new CordonError(
      `--allow-connect/--allow-bind need Landlock ABI ${NET_RIGHTS_SINCE} (Linux 6.7); this kernel has ABI ${abi}`,
      { hint: "drop the port rules, or use --net; the command was not run" },
    );
  }
  const mounts = bwrap
    ? mountPlanFor({
        writeRoots: policy.writeRoots,
        denyRead: policy.denyRead,
        cwd: policy.cwd,
        runtimeDirs: facts.runtimeDirs,
        // Name resolution needs resolv.conf, which often lives under /run.
        runtimeFiles: network !== "none" && facts.resolvConf ? [facts.resolvConf] : [],
        allowedSockets: policy.allowSockets,
        copies: redaction.binds,
        ...(privateTmpdir === undefined ? {} : { hostTmp: { tmpdir: privateTmpdir } }),
        tmpSize: policy.limits.tmpSize,
      })
    : [];
  const socketCovers = bwrap ? socketCoversFor(policy, facts, mounts) : [];
  const deny: DenyMountPlan = bwrap
    ? denyMountsFor({
        policy,
        replaced,
        reboundReadOnly: mounts.filter((op) => "why" in op && op.why === "working-directory").map((op) => op.dest),
        coveredSockets: new Set(socketCovers.map((cover) => cover.shown)),
      })
    : { mounts: [], placeholders: [], covered: [], landlockReadDenies: [] };
  const placeholders = deny.placeholders.map((placeholder) => placeholder.path);
  const deniedDirs = new Set(
    [...policy.denyWrite, ...policy.denyRead].filter((d) => d.kind === "dir").map((d) => d.path),
  );
  const lockedDirs = deny.mounts
    .filter((mount) => mount.anchor !== "/" && mount.action !== "pin" && deniedDirs.has(mount.path))
    .map((mount) => mount.path);
  const hostState = hostStateFor(placeholders, lockedDirs, stateDir, redaction.copies);
  const identityOf = (path: string) => requiredIdentity(path, facts, hostState);
  const terminal = sessionPlanFor(facts.controllingTerminal);
  const landlock = landlockRulesFor(
    {
      readRoots: [{ path: "/", kind: "dir" }],
      // Inside bwrap, /tmp (unless tmp is "host") and /dev/shm are private tmpfs mounts.
      // Write roots and the private TMPDIR keep the identity stage 1 resolved or created.
      writeRoots: [
        ...directories(policy.writeRoots, identityOf),
        ...(bwrap ? directories(tmpfs, () => undefined) : []),
        ...(privateTmpdir === undefined ? [] : directories([privateTmpdir], identityOf)),
      ],
      devices: devicesFor(mode, terminal.session, facts),
      sockets: policy.allowSockets.map((path) => ({ path, kind: "file" as const })),
      // bwrap mode's /dev/shm is a private tmpfs, already a write root; the host's only when accepted by name.
      shm: !bwrap && shmGranted ? [{ path: "/dev/shm", kind: "dir" }] : [],
      network: { allow: network === "all", connectPorts: policy.allowConnect, bindPorts: policy.allowBind },
      // bwrap mode enforces denies with mounts; landlock-only mode with rules on their siblings.
      exclusions: bwrap ? bwrapExclusions(policy, deny) : landlockOnlyExclusions(policy, redaction.hidden),
      listDirectory: facts.listDirectory,
    },
    abi,
  );
  return {
    mode,
    cwd: policy.cwd,
    network,
    mounts,
    mountChecks: mountChecksFor(mounts, facts, hostState),
    ...identifiedDenyMounts(deny, identityOf),
    denyCovered: deny.covered,
    denyLandlockReads: deny.landlockReadDenies,
    landlock,
    seccomp: assembleSeccompProgram(seccompSpecFor({ arch: facts.arch, network, mode, lockMetadata })),
    env: environmentFor(policy, facts, network, { ...redaction.env, TMPDIR: privateTmpdir ?? "/tmp" }),
    hostState,
    // In bwrap mode, bwrap's --die-with-parent covers this.
    parentDeathSignal: bwrap ? 0 : SIGNALS.SIGKILL,
    socketCovers,
    sockets: socketExposure(mode, network, abi, mounts, socketCovers, policy.allowSockets),
    terminal,
    degradations: [
      ...(bwrap
        ? landlock.degradations.map((degradation) => coveredByNamespaces(degradation, network))
        : [
            ...landlock.degradations,
            ...landlockOnlyLosses(facts.uid, abi, lockMetadata, shmGranted),
            ...hiddenNamesDegradations(policy),
          ]),
      ...hardLinkDegradations(policy, redaction.redactions),
      ...cordonWritableDegradations(policy, facts.cordon),
      ...limitDegradations(policy.limits, facts.cgroups, policy.writeRoots),
    ],
    redactions: redaction.redactions,
    git,
    limits: limitsPlanFor(policy.limits, bwrap, facts.cgroups),
  };
}
