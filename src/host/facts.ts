// Everything cordon learns about the host, gathered in one step before
// planning so that planning stays pure. run, explain, doctor and selftest all
// start here, so none of them can see a different host than the others.
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { HOST_ARCH, type KernelArch } from "../../ffi/syscalls.ts";
import type { DirEntry } from "../landlock/deny.ts";
import type { PathFact } from "../landlock/rules.ts";
import type { Identity } from "../policy/paths.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { CGROUP_CONTROLLERS, cgroupControllersFor } from "../policy/limits.ts";
import { readOpenDescriptors, type OpenDescriptor } from "./descriptors.ts";
import { readCgroupFacts, type CgroupFacts } from "./cgroups.ts";
import { cordonFiles, type CordonFile } from "./cordon-files.ts";
import { hostEnvironment, type EnvEntry } from "./environment.ts";
import { readRedactedFiles } from "./secret-files.ts";
import { attemptBwrap, locateBwrap, type BwrapAttempt, type BwrapLocation } from "./bwrap.ts";
import { DEVICE_PATHS, identitiesOf, listDirectory, pathFact, runtimeDirs, terminalsOfStdio } from "./filesystem.ts";
import { hostUnixSockets, type ForeignSocket } from "./sockets.ts";
import { landlockAvailability, type LandlockAvailability } from "./landlock.ts";
import { controllingTerminal, type ControllingTerminal } from "./terminal.ts";
import {
  detectContainer,
  kernelRelease,
  readSeccompFacts,
  readUsernsSysctls,
  type ContainerFacts,
  type SeccompFacts,
  type UsernsSysctls,
} from "./system.ts";
import { STARTUP_DESCRIPTORS } from "./startup-descriptors.ts";

export interface HostFacts {
  arch: KernelArch;
  kernel: string;
  uid: number;
  landlock: LandlockAvailability;
  bwrap: BwrapLocation;
  /** A real bwrap attempt, when it was asked for; run never probes ahead (it simply tries). */
  bwrapAttempt?: BwrapAttempt;
  /** The device nodes a command may open (null, tty, ...). */
  devices: PathFact[];
  /**
   * The terminal devices behind descriptors 0-2. Landlock-only mode grants
   * those alone, never all of /dev/pts: another terminal of the same user
   * could otherwise be read and written.
   */
  terminals: PathFact[];
  /** cordon's controlling terminal, and which of descriptors 0-2 is it: the command's session follows. */
  controllingTerminal: ControllingTerminal;
  /** /run and /var/run where they are real directories. */
  runtimeDirs: string[];
  /** Pathname unix sockets bound on the host, in any network namespace in sight, whose files exist. */
  unixSockets: string[];
  /** Such sockets whose paths are not UTF-8. */
  foreignSockets: ForeignSocket[];
  /** Where /etc/resolv.conf really is, when a symlink leads elsewhere (often under /run). */
  resolvConf?: string;
  /** Descriptors above 2 open in this process: when its JavaScript began, and now (host/descriptors.ts). */
  descriptors: { atStart: readonly OpenDescriptor[]; now: readonly OpenDescriptor[] };
  /** dev:ino of the policy's working directory, write roots, and each path down to each deny path. */
  identities: ReadonlyMap<string, Identity>;
  /** Lists a directory without following symlinks (landlock-only mode's deny compiler walks with it). */
  listDirectory: (dir: string) => DirEntry[] | undefined;
  seccomp: SeccompFacts;
  sysctls: UsernsSysctls;
  container: ContainerFacts;
  /** Where cordon's own executable and package are: no write root may reach them. */
  cordon: CordonFile[];
  /** The caller's environment, read once: the plan decides what of it the command gets, the run passes that. */
  environment: EnvEntry[];
  /** The text of each file the policy presents as a redacted copy; undefined where it cannot be read whole. */
  redactSources: ReadonlyMap<string, string | undefined>;
  /** Where the sandbox can get a cgroup of its own, for the controllers the policy's limits need (all: doctor). */
  cgroups: CgroupFacts;
}

interface HostQuestions {
  /** The policy whose paths need identities (run, explain); doctor and selftest have none. */
  policy?: ResolvedPolicy;
  /** --bwrap PATH, instead of the trusted locations. */
  bwrap?: string;
  /** Attempt a real sandbox with bwrap (doctor, explain, selftest). */
  attemptBwrap?: boolean;
  env?: Record<string, string | undefined>;
}

/** Each path from / down to `path`, / included. */
function withAncestors(path: string, into: Set<string>): void {
  for (let at = path; !into.has(at); at = dirname(at)) {
    into.add(at);
    if (at === "/") return;
  }
}

/**
 * The paths whose identity stage 2 checks: the working directory, the write
 * roots, and every component on the way to each deny path that exists (a
 * missing one: to its deepest existing ancestor).
 */
function policyPaths(policy: ResolvedPolicy): Set<string> {
  const paths = new Set<string>();
  for (const path of [policy.cwd, ...policy.writeRoots, ...policy.allowSockets, ...resolvConfPath()]) {
    withAncestors(path, paths);
  }
  // git's protected paths and the project files become deny mounts in bwrap mode (plan/git-guard.ts).
  for (const deny of [...policy.denyWrite, ...policy.denyRead, ...policy.git.protect, ...policy.projectFiles]) {
    if (deny.kind === "dir" || deny.kind === "file") withAncestors(deny.path, paths);
    else if (deny.kind === "missing" && deny.existing !== undefined) withAncestors(deny.existing, paths);
  }
  return paths;
}

export function gatherHostFacts(questions: HostQuestions = {}): HostFacts {
  const bwrap = locateBwrap(questions.bwrap);
  return {
    arch: HOST_ARCH,
    kernel: kernelRelease(),
    uid: process.getuid?.() ?? -1,
    landlock: landlockAvailability(questions.env),
    bwrap,
    bwrapAttempt: questions.attemptBwrap && bwrap.found ? attemptBwrap(bwrap.path) : undefined,
    devices: DEVICE_PATHS.map(pathFact).filter((fact): fact is PathFact => fact !== undefined),
    terminals: terminalsOfStdio(),
    controllingTerminal: controllingTerminal(),
    runtimeDirs: runtimeDirs(),
    ...socketFacts(),
    ...resolvConfFact(),
    descriptors: { atStart: STARTUP_DESCRIPTORS, now: readOpenDescriptors() },
    identities: questions.policy ? identitiesOf(policyPaths(questions.policy)) : new Map(),
    listDirectory,
    seccomp: readSeccompFacts(),
    sysctls: readUsernsSysctls(),
    container: detectContainer(),
    cordon: cordonFiles(questions.env),
    environment: hostEnvironment(),
    redactSources: readRedactedFiles(questions.policy?.redact ?? []),
    cgroups: readCgroupFacts(questions.policy ? cgroupControllersFor(questions.policy.limits) : CGROUP_CONTROLLERS),
  };
}

function socketFacts(): Pick<HostFacts, "unixSockets" | "foreignSockets"> {
  const sockets = hostUnixSockets();
  return { unixSockets: sockets.paths, foreignSockets: sockets.foreign };
}

function resolvConfPath(): string[] {
  try {
    const real = realpathSync("/etc/resolv.conf");
    return real === "/etc/resolv.conf" ? [] : [real];
  } catch {
    return [];
  }
}

function resolvConfFact(): Pick<HostFacts, "resolvConf"> {
  const [real] = resolvConfPath();
  return real ? { resolvConf: real } : {};
}
