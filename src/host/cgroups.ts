// Where this host lets cordon give a sandbox a cgroup of its own, for the
// limits only a cgroup can hold for a whole sandbox: memory and processes.
// Read from /proc/self/cgroup and /proc/self/mountinfo, plus access(2) on
// the candidate directories; nothing is created here (stage1/cgroup.ts does).
//
// cgroup v2: the sandbox's cgroup goes beside cordon's own, in the nearest
// ancestor that hands the controller out (cgroup.subtree_control) and that
// cordon may write. v2 lets a cgroup hold processes or hand out controllers,
// not both, so cordon's own cgroup cannot be the parent unless it is the
// root. Going up is allowed only past cgroups that limit nothing: the
// sandbox must stay inside every limit cordon itself is under.
// cgroup v1 (hybrid hosts): each controller is a hierarchy of its own, with
// no such rule, so the sandbox's cgroup goes inside cordon's own.
import { accessSync, constants, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CgroupController } from "../policy/limits.ts";

/** A directory the sandbox's cgroup can be made in, for some controllers. */
export interface CgroupHome {
  version: 1 | 2;
  parent: string;
  controllers: CgroupController[];
}

/** A controller the sandbox cannot get, and why, in words for doctor and the warning. */
export interface CgroupAbsence {
  controller: CgroupController;
  why: string;
}

export interface CgroupFacts {
  homes: CgroupHome[];
  missing: CgroupAbsence[];
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

/** Files whose value "max" means a cgroup limits nothing of its own (cpu.max begins with it). */
const LIMIT_FILES = ["memory.max", "memory.high", "memory.swap.max", "pids.max", "cpu.max"];

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
  const below = mount.root === "/" ? path : path.startsWith(`${mount.root}/`) ? path.slice(mount.root.length) : "";
  if (mount.root !== "/" && path !== mount.root && below === "") return undefined;
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

/** The first limit `dir` sets of its own, as `file value`; undefined when it limits nothing. */
function ownLimit(fs: CgroupFileSystem, dir: string): string | undefined {
  for (const file of LIMIT_FILES) {
    const value = fs.read(join(dir, file))?.trim();
    if (value !== undefined && value !== "max" && !value.startsWith("max ")) return `${file} ${value}`;
  }
  return undefined;
}

type Found = { home: Omit<CgroupHome, "controllers"> } | { why: string };

function v1Home(fs: CgroupFileSystem, mount: CgroupMount, own: Membership | undefined, controller: string): Found {
  const dir = own && directoryOf(mount, own.path);
  if (!dir) return { why: `cordon's own ${controller} cgroup (cgroup v1) is not under ${mount.mountPoint}` };
  if (!mayWrite(fs, dir)) return { why: `cordon may not write its own ${controller} cgroup ${dir} (cgroup v1)` };
  return { home: { version: 1, parent: dir } };
}

function v2Home(fs: CgroupFileSystem, mount: CgroupMount, own: Membership | undefined, controller: string): Found {
  const start = own && directoryOf(mount, own.path);
  if (!start) return { why: `cordon's own cgroup is not under ${mount.mountPoint}` };
  for (let dir = start; ; dir = dirname(dir)) {
    const handsOut = (fs.read(join(dir, "cgroup.subtree_control")) ?? "").trim().split(" ");
    if (handsOut.includes(controller) && mayWrite(fs, dir)) return { home: { version: 2, parent: dir } };
    const limit = ownLimit(fs, dir);
    if (limit) {
      return {
        why:
          `no cgroup between ${start} and its limit (${dir}: ${limit}) hands out ${controller} to cordon, ` +
          "and one beyond it would escape that limit",
      };
    }
    if (dir === mount.mountPoint || dir === "/") break;
  }
  return { why: `no cgroup that cordon may write, from ${start} up, hands out the ${controller} controller` };
}

/** Groups each controller's home by directory: one cgroup per directory, holding all its controllers. */
function groupHomes(found: Map<CgroupController, Found>): CgroupFacts {
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
      found.set(controller, v2Home(fs, unified, v2Own, controller));
    } else {
      found.set(controller, { why: `no cgroup file system with the ${controller} controller is mounted` });
    }
  }
  return groupHomes(found);
}

/** This process's cgroup facts, for the controllers asked (none: nothing is read). */
export function readCgroupFacts(controllers: readonly CgroupController[]): CgroupFacts {
  if (controllers.length === 0) return { homes: [], missing: [] };
  const read = (path: string) => realFileSystem.read(path) ?? "";
  return cgroupFactsFrom(
    parseMemberships(read("/proc/self/cgroup")),
    parseCgroupMounts(read("/proc/self/mountinfo")),
    controllers,
  );
}
