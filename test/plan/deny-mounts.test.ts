// bwrap mode's deny paths as stage 2's mounts (src/plan/deny-mounts.ts): which
// action each path gets, where its walk starts, the pins on the way, and the
// placeholders for paths that do not exist yet. Pure.
import { describe, expect, test } from "bun:test";
import {
  denyMountsFor,
  OUTSIDE_WRITE_ROOTS,
  type DenyAction,
  type DenyMount,
  type DenyMountPlan,
} from "../../src/plan/deny-mounts.ts";
import type { ResolvedPolicy } from "../../src/policy/resolve.ts";

type ResolvedPath = ResolvedPolicy["denyWrite"][number];

/** What bwrap replaces without network: /proc, /dev, the private tmpfs mounts and /run. */
const REPLACED = ["/proc", "/dev", "/tmp", "/dev/shm", "/run"];

interface Input {
  writeRoots?: string[];
  denyWrite?: ResolvedPath[];
  denyRead?: ResolvedPath[];
  replaced?: string[];
  reboundReadOnly?: string[];
  coveredSockets?: string[];
}

function planOf({
  writeRoots = ["/ws"],
  denyWrite = [],
  denyRead = [],
  replaced = REPLACED,
  reboundReadOnly = [],
  coveredSockets = [],
}: Input): DenyMountPlan {
  return denyMountsFor({
    policy: { writeRoots, denyWrite, denyRead },
    replaced,
    reboundReadOnly,
    coveredSockets: new Set(coveredSockets),
  });
}

const file = (path: string): ResolvedPath => ({ path, kind: "file", origin: path });
const dir = (path: string): ResolvedPath => ({ path, kind: "dir", origin: path });
const symlink = (path: string): ResolvedPath => ({ path, kind: "symlink", origin: path });
const missing = (path: string, existing?: string): ResolvedPath =>
  existing === undefined ? { path, kind: "missing", origin: path } : { path, kind: "missing", origin: path, existing };

/** Every path from just below `anchor` down to `path`. */
function below(anchor: string, path: string): string[] {
  const parts = path.slice(anchor === "/" ? 1 : anchor.length + 1).split("/");
  return parts.map((_, i) => `${anchor === "/" ? "" : anchor}/${parts.slice(0, i + 1).join("/")}`);
}

const mount = (path: string, action: DenyAction, anchor = "/ws"): DenyMount => ({
  path,
  action,
  anchor,
  components: below(anchor, path),
});
const summary = (plan: DenyMountPlan) => plan.mounts.map(({ path, action }) => `${action} ${path}`);
const within = (path: string, root: string) => path === root || root === "/" || path.startsWith(`${root}/`);

describe("denyMountsFor: pins", () => {
  test("each directory between the write root and the path is pinned, at depths 1 to 3", () => {
    expect(planOf({ denyWrite: [file("/ws/a")] }).mounts).toEqual([mount("/ws/a", "read-only")]);
    expect(planOf({ denyWrite: [file("/ws/a/b")] }).mounts).toEqual([
      mount("/ws/a", "pin"),
      mount("/ws/a/b", "read-only"),
    ]);
    expect(planOf({ denyRead: [dir("/ws/a/b/c")] }).mounts).toEqual([
      mount("/ws/a", "pin"),
      mount("/ws/a/b", "pin"),
      mount("/ws/a/b/c", "hide-dir"),
    ]);
  });

  test("nested write roots: the walk and the pins start at the outermost root", () => {
    for (const writeRoots of [
      ["/ws", "/ws/sub"],
      ["/ws/sub", "/ws"],
    ]) {
      const plan = planOf({ writeRoots, denyRead: [file("/ws/sub/pkg/.env")] });
      // The inner root is a directory the command can rename like any other.
      expect(plan.mounts).toEqual([
        mount("/ws/sub", "pin"),
        mount("/ws/sub/pkg", "pin"),
        mount("/ws/sub/pkg/.env", "hide-file"),
      ]);
    }
  });

  test("a write root itself, when denied, is walked from the root above it, or from /", () => {
    expect(planOf({ writeRoots: ["/ws", "/ws/sub"], denyWrite: [dir("/ws/sub")] }).mounts).toEqual([
      mount("/ws/sub", "read-only"),
    ]);
    expect(planOf({ denyWrite: [dir("/ws")] }).mounts).toEqual([mount("/ws", "read-only", "/")]);
  });

  // The command cannot rename anything outside the write roots.
  test("outside every write root nothing is pinned, and the walk starts at /", () => {
    const plan = planOf({ denyRead: [dir("/home/u/.ssh")] });
    expect(plan.mounts).toEqual([mount("/home/u/.ssh", "hide-dir", "/")]);
    expect(plan.mounts[0]!.components).toEqual(["/home", "/home/u", "/home/u/.ssh"]);
  });
});

describe("denyMountsFor: actions", () => {
  test("deny-read: a file is hidden by an empty file, a directory by an empty directory", () => {
    expect(summary(planOf({ denyRead: [file("/ws/.env"), dir("/ws/secrets")] }))).toEqual([
      "hide-file /ws/.env",
      "hide-dir /ws/secrets",
    ]);
  });

  test("deny-write: a file or a directory is bound read-only onto itself", () => {
    expect(summary(planOf({ denyWrite: [file("/ws/package.json"), dir("/ws/.git")] }))).toEqual([
      "read-only /ws/.git",
      "read-only /ws/package.json",
    ]);
  });

  test("the stronger action wins on one path, whatever the order", () => {
    for (const [denyWrite, denyRead] of [
      [[dir("/ws/.git")], [dir("/ws/.git")]],
      [[dir("/ws/.git"), dir("/ws/.git")], [dir("/ws/.git")]],
    ]) {
      expect(summary(planOf({ denyWrite, denyRead }))).toEqual(["hide-dir /ws/.git"]);
    }
    // A read-only directory on the way to a hidden file is not weakened to a pin.
    expect(summary(planOf({ denyWrite: [dir("/ws/.git")], denyRead: [file("/ws/.git/config")] }))).toEqual([
      "read-only /ws/.git",
      "hide-file /ws/.git/config",
    ]);
    expect(summary(planOf({ denyRead: [file("/ws/.git/config")], denyWrite: [dir("/ws/.git")] }))).toEqual([
      "read-only /ws/.git",
      "hide-file /ws/.git/config",
    ]);
  });

  test("a symlink gets no mount (a mount would follow it), no placeholder and no covered entry", () => {
    for (const list of ["denyWrite", "denyRead"] as const) {
      const plan = planOf({ [list]: [symlink("/ws/link"), symlink("/home/u/link")] });
      expect(plan).toEqual({ mounts: [], placeholders: [], covered: [], landlockReadDenies: [] });
    }
    // Its target, listed on its own, gets its mount.
    expect(summary(planOf({ denyWrite: [symlink("/ws/link"), dir("/ws/target")] }))).toEqual(["read-only /ws/target"]);
  });
});

describe("denyMountsFor: placeholders", () => {
  test("only the first missing component gets one, hidden; the components below it get nothing", () => {
    const plan = planOf({ denyWrite: [missing("/ws/a/b/c", "/ws")] });
    expect(plan.placeholders).toEqual([{ path: "/ws/a", for: "/ws/a/b/c" }]);
    expect(plan.mounts).toEqual([mount("/ws/a", "hide-dir")]);
    expect(plan.covered).toEqual([]);
  });

  test("below an existing directory: that directory is pinned, the first missing one hidden", () => {
    const plan = planOf({ denyRead: [missing("/ws/x/y/z", "/ws/x")] });
    expect(plan.placeholders).toEqual([{ path: "/ws/x/y", for: "/ws/x/y/z" }]);
    expect(plan.mounts).toEqual([mount("/ws/x", "pin"), mount("/ws/x/y", "hide-dir")]);
  });

  test("one placeholder for several missing paths that share it, named after the first", () => {
    const plan = planOf({
      denyWrite: [missing("/ws/a/b", "/ws"), missing("/ws/a/c/d", "/ws")],
      denyRead: [missing("/ws/a", "/ws")],
    });
    expect(plan.placeholders).toEqual([{ path: "/ws/a", for: "/ws/a/b" }]);
    expect(plan.mounts).toEqual([mount("/ws/a", "hide-dir")]);
  });

  test("a missing path without `existing` starts below its write root", () => {
    expect(planOf({ denyWrite: [missing("/ws/q/r")] }).placeholders).toEqual([{ path: "/ws/q", for: "/ws/q/r" }]);
  });

  test("none below a write-denied or read-denied directory: nothing can be created there", () => {
    for (const sealing of [{ denyWrite: [dir("/ws/.git")] }, { denyRead: [dir("/ws/.git")] }]) {
      const plan = planOf({
        ...sealing,
        denyWrite: [...(sealing.denyWrite ?? []), missing("/ws/.git/hooks/new", "/ws/.git")],
      });
      expect(plan.placeholders).toEqual([]);
      expect(plan.mounts.map((candidate) => candidate.path)).toEqual(["/ws/.git"]);
      expect(plan.covered).toEqual([
        { path: "/ws/.git/hooks/new", reason: "below /ws/.git, which the sandbox cannot change" },
      ]);
    }
  });

  test("a pinned directory is no seal: the command can still create entries in it", () => {
    const plan = planOf({ denyWrite: [file("/ws/x/f"), missing("/ws/x/new/k", "/ws/x")] });
    expect(plan.placeholders).toEqual([{ path: "/ws/x/new", for: "/ws/x/new/k" }]);
    expect(summary(plan)).toEqual(["pin /ws/x", "read-only /ws/x/f", "hide-dir /ws/x/new"]);
  });
});

describe("denyMountsFor: covered without a mount", () => {
  test("a missing path outside every write root: nothing there is writable", () => {
    for (const list of ["denyWrite", "denyRead"] as const) {
      const plan = planOf({ [list]: [missing("/home/u/.gnupg", "/home/u"), missing("/opt/x/y", "/")] });
      expect(plan.mounts).toEqual([]);
      expect(plan.placeholders).toEqual([]);
      expect(plan.covered).toEqual([
        { path: "/home/u/.gnupg", reason: OUTSIDE_WRITE_ROOTS },
        { path: "/opt/x/y", reason: OUTSIDE_WRITE_ROOTS },
      ]);
    }
  });

  test("paths under a directory the sandbox replaces, outside every write root", () => {
    const plan = planOf({
      denyWrite: [dir("/run/user/1000"), missing("/run/user/1000/new", "/run/user/1000")],
      denyRead: [file("/tmp/secret"), dir("/dev/shm/x"), missing("/tmp/later", "/tmp")],
    });
    expect(plan.mounts).toEqual([]);
    expect(plan.placeholders).toEqual([]);
    expect(plan.covered).toEqual([
      { path: "/run/user/1000", reason: "the sandbox has its own /run" },
      { path: "/run/user/1000/new", reason: "the sandbox has its own /run" },
      { path: "/tmp/secret", reason: "the sandbox has its own /tmp" },
      { path: "/dev/shm/x", reason: "the sandbox has its own /dev" },
      { path: "/tmp/later", reason: "the sandbox has its own /tmp" },
    ]);
  });

  test("under a replaced directory but inside a write root the path is mounted like any other", () => {
    const plan = planOf({
      writeRoots: ["/tmp/w"],
      denyWrite: [dir("/tmp/w/.git")],
      denyRead: [missing("/tmp/w/a/b", "/tmp/w")],
    });
    expect(plan.mounts).toEqual([mount("/tmp/w/.git", "read-only", "/tmp/w"), mount("/tmp/w/a", "hide-dir", "/tmp/w")]);
    expect(plan.placeholders).toEqual([{ path: "/tmp/w/a", for: "/tmp/w/a/b" }]);
    expect(plan.covered).toEqual([]);
  });

  test("with the host's network namespace /run is the host's, and needs its mount", () => {
    const replaced = REPLACED.filter((path) => path !== "/run");
    expect(summary(planOf({ denyWrite: [dir("/run/user/1000")], replaced }))).toEqual(["read-only /run/user/1000"]);
  });
});

describe("denyMountsFor: order", () => {
  const MANY = {
    writeRoots: ["/ws", "/home/u/cache"],
    denyWrite: [
      file("/ws/a/b/c/d"),
      dir("/ws/.git"),
      missing("/ws/n/o/p", "/ws/n"),
      file("/home/u/cache/x/y"),
      dir("/etc/cordon"),
    ],
    denyRead: [dir("/home/u/.ssh"), file("/ws/a/b/.env"), dir("/ws/.git/objects")],
  };

  test("shallowest path first, and every ancestor before its descendants", () => {
    const { mounts } = planOf(MANY);
    const depth = (path: string) => path.split("/").length;
    for (const [i, current] of mounts.entries()) {
      if (i > 0) expect(depth(mounts[i - 1]!.path)).toBeLessThanOrEqual(depth(current.path));
      for (const later of mounts.slice(i + 1)) {
        if (later.anchor === current.anchor) expect(within(current.path, later.path)).toBe(false);
      }
      // Every mount's ancestors below a write root are mounts themselves, earlier in the list.
      for (const ancestor of current.components.slice(0, -1)) {
        if (current.anchor === "/") continue;
        const index = mounts.findIndex((candidate) => candidate.path === ancestor);
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(i);
      }
    }
  });

  test("the same mounts whatever the order of the input lists", () => {
    const reversed = planOf({
      writeRoots: [...MANY.writeRoots].reverse(),
      denyWrite: [...MANY.denyWrite].reverse(),
      denyRead: [...MANY.denyRead].reverse(),
    });
    expect(reversed.mounts).toEqual(planOf(MANY).mounts);
  });

  // Suspected bug (src/plan/deny-mounts.ts, the final sort): mounts are ordered by the number
  // of components below their anchor, not by depth from /, so a mount walked from / (a
  // deny-write of a directory that holds a write root: `-w ~/proj --deny-write ~`) can sort
  // after a mount inside that write root (~/proj/.git, one component below its anchor). Stage 2
  // would then bind ~ read-only onto itself after ~/proj/.git, on top of it.
  test("an ancestor is mounted before its descendants, whatever their anchors", () => {
    const { mounts } = planOf({
      writeRoots: ["/home/u/proj"],
      denyWrite: [dir("/home/u"), dir("/home/u/proj/.git")],
    });
    const index = (path: string) => mounts.findIndex((candidate) => candidate.path === path);
    expect(index("/home/u")).toBeGreaterThanOrEqual(0);
    expect(index("/home/u")).toBeLessThan(index("/home/u/proj/.git"));
  });
});

describe("denyMountsFor: missing read-denied paths left to Landlock", () => {
  test("outside every write root, and below a write-denied directory (the host could create them)", () => {
    const plan = planOf({
      denyWrite: [dir("/ws/conf")],
      denyRead: [
        { path: "/ws/conf/app/.env", kind: "missing", origin: "x", existing: "/ws/conf" },
        { path: "/home/u/.config/gh", kind: "missing", origin: "y", existing: "/home/u/.config" },
      ],
    });
    expect(plan.landlockReadDenies.sort()).toEqual(["/home/u/.config/gh", "/ws/conf/app/.env"]);
    expect(plan.placeholders).toEqual([]);
  });

  test("a missing read-denied path with a placeholder is not left to Landlock", () => {
    const plan = planOf({ denyRead: [{ path: "/ws/.env", kind: "missing", origin: "x", existing: "/ws" }] });
    expect(plan.landlockReadDenies).toEqual([]);
    expect(plan.placeholders.map(({ path }) => path)).toEqual(["/ws/.env"]);
  });
});
