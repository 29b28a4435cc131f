// Where this host lets cordon give a sandbox a cgroup of its own, for the
// limits only a cgroup can hold for a whole sandbox: memory and processes.
// Read from /proc/self/cgroup and /proc/self/mountinfo, plus access(2) on
// the candidate directories; nothing is created here (stage1/cgroup.ts does).
//
// The sandbox's cgroup always goes inside cordon's own: everything its
// caller's cgroup imposes (limits, cpusets, the eBPF programs systemd
// attaches for DeviceAllow= or IPAddressDeny=) holds for it too.
// cgroup v2 lets a cgroup hold processes or hand out controllers, not both
// (but for the root): so cordon can use its own cgroup only when it is the
// root, or when cordon is alone in it and may write it (a delegated scope,
// `systemd-run --scope`, a container's entrypoint). Then stage 1 first moves
// itself into a leaf beside the sandbox's (`vacate`).
// cgroup v1 (hybrid hosts) has no such rule: inside cordon's own, if it may
// write it.
import { accessSync, constants, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CgroupController } from "../policy/limits.ts";
import { isWithin } from "../policy/paths.ts";

/** A directory the sandbox's cgroup can be made in, for some controllers. */
export interface CgroupHome {
  version: 1 | 2;
  parent: string;
  controllers: CgroupController[];
  /** v2: cordon is alone in `parent` and must move itself into a leaf before it can hand controllers out. */
  vacate: boolean;
}

/** A controller the sandbox cannot get, and why, in words for doctor and the warning. */
export interface CgroupAbsence {
  controller: CgroupController;
  why: string;
}

export interface CgroupFacts {
  homes: CgroupHome[];
  missing: CgroupAbsence[];
  /** Where cgroup file systems are mounted: a write root there would let the command lift its limits. */
  mountPoints: string[];
}

/** One line of /proc/self/cgroup: `0::/path` (v2) or `4:memory:/path` (v1). */
interface Membership {
  controllers: string[];
  path: string;
}

interface CgroupMount {
  version: 1 | 2;
  mountPoint: string;
  /** The cgroup the mount shows at its mount point ("/" unless a subtree was mounted). */
  root: string;
  /** v1: the controllers of its hierarchy. */
  controllers: string[];
}

export function parseMemberships(text: string): Membership[] {
  return text
    .split("\n")
    .map((line) => /^\d+:([^:]*):(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ controllers: match[1] === "" ? [] : match[1]!.split(","), path: match[2]! }));
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (!before || !after) continue;
    const fields = before.split(" ");
    const [type, , superOptions = ""] = after.split(" ");
    if (type !== "cgroup2" && type !== "cgroup") continue;
    mounts.push({
      version: type === "cgroup2" ? 2 : 1,
      mountPoint: unescapeMountField(fields[4] ?? ""),
      root: unescapeMountField(fields[3] ?? ""),
      controllers: type === "cgroup" ? superOptions.split(",") : [],
    });
  }
  return mounts;
}

/** The directory of cgroup `path` under `mount`, or undefined when the mount does not show it. */
function directoryOf(mount: CgroupMount, path: string): string | undefined {
  if (!isWithin(path, mount.root)) return undefined;
  const below = mount.root === "/" ? path : path.slice(mount.root.length);
  // join() keeps a trailing slash: the root cgroup is the mount point itself.
  return join(mount.mountPoint, below).replace(/(.)\/$/, "$1");
}

/** What cordon needs of a directory and the files it reads there; a seam for tests. */
export interface CgroupFileSystem {
  read(path: string): string | undefined;
  writable(path: string): boolean;
}

const realFileSystem: CgroupFileSystem = {
  read(path) {
    try {
      return readFileSync(path, "latin1");
    } catch {
      return undefined;
    }
  },
  writable(path) {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** Where a cgroup may be made and processes moved into it: the directory and its cgroup.procs. */
function mayWrite(fs: CgroupFileSystem, dir: string): boolean {
  return fs.writable(dir) && fs.writable(join(dir, "cgroup.procs"));
}

const words = (text: string | undefined) => (text ?? "").trim().split(/\s+/).filter(Boolean);

/** The controllers cgroup `dir` hands out to its children (cgroup.subtree_control). */
export function controllersHandedOut(dir: string): string[] {
  return words(realFileSystem.read(join(dir, "cgroup.subtree_control")));
}

/** The processes in cgroup `dir` (cgroup.procs). */
export function membersOf(dir: string): number[] {
  return words(realFileSystem.read(join(dir, "cgroup.procs"))).map(Number);
}

type Found = { home: Omit<CgroupHome, "controllers"> } | { why: string };

function v1Home(fs: CgroupFileSystem, mount: CgroupMount, own: Membership | undefined, controller: string): Found {
  const dir = own && directoryOf(mount, own.path);
  if (!dir) return { why: `cordon's own ${controller} cgroup (cgroup v1) is not under ${mount.mountPoint}` };
  if (!mayWrite(fs, dir)) return { why: `cordon may not write its own ${controller} cgroup ${dir} (cgroup v1)` };
  return { home: { version: 1, parent: dir, vacate: false } };
}

function v2Home(
  fs: CgroupFileSystem,
  mount: CgroupMount,
  own: Membership | undefined,
  controller: string,
  selfPid: number,
): Found {
  const dir = own && directoryOf(mount, own.path);
  if (!dir) return { why: `cordon's own cgroup is not under ${mount.mountPoint}` };
  // Every cgroup but the root has a cgroup.type (a cgroup namespace's root included).
  if (fs.read(join(dir, "cgroup.type")) === undefined) {
    if (words(fs.read(join(dir, "cgroup.subtree_control"))).includes(controller) && mayWrite(fs, dir)) {
      return { home: { version: 2, parent: dir, vacate: false } };
    }
    return { why: `the root cgroup ${dir} does not hand out the ${controller} controller to cordon` };
  }
  if (!mayWrite(fs, dir) || !fs.writable(join(dir, "cgroup.subtree_control"))) {
    return { why: `cordon may not write its own cgroup ${dir}` };
  }
  if (!words(fs.read(join(dir, "cgroup.controllers"))).includes(controller)) {
    return { why: `cordon's own cgroup ${dir} was given no ${controller} controller` };
  }
  if (words(fs.read(join(dir, "cgroup.procs"))).some((pid) => pid !== String(selfPid))) {
    return { why: `cordon shares its cgroup ${dir} with other processes, so it cannot hand out ${controller}` };
  }
  return { home: { version: 2, parent: dir, vacate: true } };
}

/** Groups each controller's home by directory: one cgroup per directory, holding all its controllers. */
function groupHomes(found: Map<CgroupController, Found>): Omit<CgroupFacts, "mountPoints"> {
  const homes: CgroupHome[] = [];
  const missing: CgroupAbsence[] = [];
  for (const [controller, result] of found) {
    if ("why" in result) {
      missing.push({ controller, why: result.why });
      continue;
    }
    const same = homes.find((home) => home.parent === result.home.parent && home.version === result.home.version);
    if (same) same.controllers.push(controller);
    else homes.push({ ...result.home, controllers: [controller] });
  }
  return { homes, missing };
}

/** For each of `controllers`, where the sandbox's cgroup can go, or why it cannot have one. */
export function cgroupFactsFrom(
  memberships: Membership[],
  mounts: CgroupMount[],
  controllers: readonly CgroupController[],
  fs: CgroupFileSystem = realFileSystem,
  selfPid: number = process.pid,
): CgroupFacts {
  const unified = mounts.find((mount) => mount.version === 2);
  const v2Own = memberships.find((membership) => membership.controllers.length === 0);
  const found = new Map<CgroupController, Found>();
  for (const controller of controllers) {
    const v1 = mounts.find((mount) => mount.version === 1 && mount.controllers.includes(controller));
    if (v1) {
      const own = memberships.find((membership) => membership.controllers.includes(controller));
      found.set(controller, v1Home(fs, v1, own, controller));
    } else if (unified) {
      found.set(controller, v2Home(fs, unified, v2Own, controller, selfPid));
    } else {
      found.set(controller, { why: `no cgroup file system with the ${controller} controller is mounted` });
    }
  }
  return { ...groupHomes(found), mountPoints: mounts.map((mount) => mount.mountPoint) };
}

/** This process's cgroup facts, for the controllers asked (none: nothing is read). */
export function readCgroupFacts(controllers: readonly CgroupController[]): CgroupFacts {
  if (controllers.length === 0) return { homes: [], missing: [], mountPoints: [] };
  const read = (path: string) => realFileSystem.read(path) ?? "";
  return cgroupFactsFrom(
    parseMemberships(read("/proc/self/cgroup")),
    parseCgroupMounts(read("/proc/self/mountinfo")),
    controllers,
  );
}
