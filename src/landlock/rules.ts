// Turns the filesystem and network intent of a policy into Landlock rules for
// one ABI. Pure: host facts (is this path a directory?) come in as data.
import { FILE_RIGHTS, type FsRight } from "../../ffi/landlock.ts";
import { abiDegradations, TCP_PORTS_REQUESTED, type Degradation } from "../policy/degradations.ts";
import { CordonError } from "../errors.ts";
import type { ExpectedIdentity } from "../policy/paths.ts";
import { denyCosts } from "./deny-costs.ts";
import {
  excludedRights,
  placeGrant,
  TooManyRules,
  type Exclusion,
  type ListDirectory,
  type Placement,
} from "./deny.ts";
import {
  ALL_FS_RIGHTS,
  fsMask,
  fsRightsAt,
  netMask,
  netRightsAt,
  restrictFlagsAt,
  scopeMask,
  scopesAt,
} from "./abi.ts";

export type PathKind = "dir" | "file";

export interface PathFact {
  path: string;
  kind: PathKind;
  /** dev:ino stage 1 saw; the rule on this path carries it so stage 2 can refuse a swapped-in file. */
  identity?: ExpectedIdentity;
}

/** What a path is granted; everything not granted is denied once handled. */
type Grant = "read" | "write" | "device" | "socket" | "shm";

export interface LandlockIntent {
  readRoots: PathFact[];
  writeRoots: PathFact[];
  /** Device nodes that must stay usable (null, tty, pts); skipped when absent. */
  devices: PathFact[];
  /** Host unix sockets the command may connect to (Landlock ABI 9 restricts the rest). */
  sockets?: PathFact[];
  /** The host's /dev/shm, in landlock-only mode when `shm` is accepted; skipped when absent. */
  shm?: PathFact[];
  network: { allow: boolean; connectPorts: number[]; bindPorts: number[] };
  /** Denied paths under the grants, compiled into rules on their siblings (deny.ts). */
  exclusions?: Exclusion[];
  /** Lists the directories on the way to each exclusion (a host fact). */
  listDirectory?: ListDirectory;
}

/** Past this many rules cordon refuses rather than dropping any. */
export const MAX_PATH_RULES = 20_000;

interface LandlockPathRule {
  path: string;
  access: bigint;
  grant: Grant;
  /** Skip the rule instead of failing when the path is missing at apply time. */
  optional: boolean;
  /** Found by walking the tree while planning. */
  walked: boolean;
  /**
   * Whether stage 2 may follow symlinks to open it: only device nodes (bwrap's
   * /dev/ptmx is a link); every other rule path is canonical, so a symlink
   * there now was swapped in.
   */
  followSymlinks: boolean;
  /** dev:ino stage 1 saw; stage 2 refuses a different file at this path (swapped since). */
  identity?: ExpectedIdentity;
}

interface LandlockNetRule {
  port: number;
  access: bigint;
}

export interface LandlockPlan {
  abi: number;
  handledFs: bigint;
  handledNet: bigint;
  scoped: bigint;
  restrictFlags: number;
  pathRules: LandlockPathRule[];
  netRules: LandlockNetRule[];
  /** What this ABI cannot enforce, and what compiling the denies costs. */
  degradations: Degradation[];
}

const READ_RIGHTS: FsRight[] = ["EXECUTE", "READ_FILE", "READ_DIR"];
// Write roots never grant device nodes (MAKE_CHAR, MAKE_BLOCK) or device ioctls.
const WRITE_RIGHTS: FsRight[] = ALL_FS_RIGHTS.filter(
  (right) => right !== "MAKE_CHAR" && right !== "MAKE_BLOCK" && right !== "IOCTL_DEV",
);
const DEVICE_RIGHTS: FsRight[] = ["READ_FILE", "WRITE_FILE", "TRUNCATE", "IOCTL_DEV", "READ_DIR"];
// POSIX shared memory and semaphores: files created, mapped, resized and removed
// directly in /dev/shm (sem_open links its temporary file within it); nothing to execute.
const SHM_RIGHTS: FsRight[] = ["READ_FILE", "WRITE_FILE", "TRUNCATE", "READ_DIR", "MAKE_REG", "REMOVE_FILE"];

const GRANT_RIGHTS: Record<Grant, FsRight[]> = {
  read: READ_RIGHTS,
  write: WRITE_RIGHTS,
  device: DEVICE_RIGHTS,
  socket: ["RESOLVE_UNIX"],
  shm: SHM_RIGHTS,
};

export function rightsForGrant(grant: Grant, kind: PathKind, handled: bigint): bigint {
  const rights = kind === "file" ? GRANT_RIGHTS[grant].filter((r) => FILE_RIGHTS.includes(r)) : GRANT_RIGHTS[grant];
  return fsMask(rights) & handled;
}

function abiDegradationsFor(abi: number, intent: LandlockIntent): Degradation[] {
  const wantsPorts = intent.network.connectPorts.length + intent.network.bindPorts.length > 0;
  return abiDegradations(abi).map((degradation) =>
    degradation.name === "tcp-ports" && wantsPorts ? TCP_PORTS_REQUESTED : degradation,
  );
}

/** The Landlock ruleset for `intent` on a kernel that speaks `abi`. */
export function landlockRulesFor(intent: LandlockIntent, abi: number): LandlockPlan {
  const handledFs = fsMask(fsRightsAt(abi));
  const netRestricted = !intent.network.allow;
  const handledNet = netRestricted ? netMask(netRightsAt(abi)) : 0n;

  const exclusions = intent.exclusions ?? [];
  const excluded = (deny: Exclusion["deny"]) => excludedRights(deny, handledFs);
  const list = intent.listDirectory ?? (() => undefined);
  const placement: Placement = { rules: [], withheld: [], unlisted: [] };
  const pathRules: LandlockPathRule[] = [];
  // Inside a write root a sandboxed command can swap what a walked rule names;
  // elsewhere (and under bwrap's own /tmp or /dev) the listing is the host's, not the sandbox's.
  const swappable = (path: string) => intent.writeRoots.some((root) => path.startsWith(`${root.path}/`));
  const walkedIdentity = (rule: { path: string; walked: boolean; identity?: ExpectedIdentity }) =>
    rule.walked && swappable(rule.path) ? rule.identity : undefined;
  const add = (facts: PathFact[], grant: Grant, optional: boolean) => {
    for (const fact of facts) {
      const access = rightsForGrant(grant, fact.kind, handledFs);
      if (access === 0n) continue;
      const from = placement.rules.length;
      placeGrant({ path: fact.path, kind: fact.kind, access }, exclusions, excluded, list, MAX_PATH_RULES, placement);
      for (const rule of placement.rules.slice(from)) {
        const identity = !rule.walked && rule.path === fact.path ? fact.identity : walkedIdentity(rule);
        const { identity: _listed, ...placed } = rule;
        pathRules.push({
          ...placed,
          grant,
          optional: optional && !rule.walked,
          followSymlinks: grant === "device",
          ...(identity ? { identity } : {}),
        });
      }
    }
  };
  try {
    add(intent.readRoots, "read", false);
    add(intent.writeRoots, "write", false);
    add(intent.devices, "device", true);
    add(intent.sockets ?? [], "socket", false);
    add(intent.shm ?? [], "shm", true);
  } catch (error) {
    if (!(error instanceof TooManyRules)) throw error;
    throw new CordonError(`the deny paths need more than ${error.limit} Landlock rules in landlock-only mode`, {
      hint:
        "the directories on the way to the denied paths have too many entries; deny " +
        "fewer or shallower paths, or use bwrap mode",
    });
  }

  const netRules: LandlockNetRule[] = [];
  if (handledNet !== 0n) {
    const ports = new Map<number, bigint>();
    const grant = (port: number, right: bigint) => ports.set(port, (ports.get(port) ?? 0n) | right);
    intent.network.connectPorts.forEach((port) => grant(port, netMask(["CONNECT_TCP"])));
    intent.network.bindPorts.forEach((port) => grant(port, netMask(["BIND_TCP"])));
    for (const [port, access] of [...ports].sort((a, b) => a[0] - b[0])) netRules.push({ port, access });
  }

  return {
    abi,
    handledFs,
    handledNet,
    scoped: scopeMask(scopesAt(abi)),
    restrictFlags: restrictFlagsAt(abi),
    pathRules,
    netRules,
    degradations: [...abiDegradationsFor(abi, intent), ...denyCosts(placement, exclusions)],
  };
}
