// The bwrap mount plan (src/plan/mounts.ts): ordered by construction, rendered in one place. Pure.
import { describe, expect, test } from "bun:test";
import {
  bwrapArguments,
  depthOf,
  mountArgs,
  mountPlanFor,
  namespaceArgs,
  type MountInput,
  type MountOp,
} from "../../src/plan/mounts.ts";

function input(overrides: Partial<MountInput> = {}): MountInput {
  return {
    writeRoots: ["/ws"],
    denyRead: [],
    cwd: "/ws",
    runtimeDirs: ["/run"],
    runtimeFiles: [],
    allowedSockets: [],
    tmpSize: 1024 ** 3,
    ...overrides,
  };
}

const within = (path: string, root: string) => path === root || root === "/" || path.startsWith(`${root}/`);
const isBind = (op: MountOp): op is Extract<MountOp, { source: string }> => op.kind === "bind" || op.kind === "ro-bind";
const isSystem = (op: MountOp) => op.kind === "proc" || op.kind === "dev" || op.kind === "tmpfs";
const at = (ops: MountOp[], dest: string) => ops.filter((op) => op.dest === dest);
const indexOf = (ops: MountOp[], match: (op: MountOp) => boolean) => {
  const index = ops.findIndex(match);
  expect(index).toBeGreaterThanOrEqual(0);
  return index;
};

/**
 * What the sandbox sees at `path` once every mount is applied in order: the
 * host path behind it, or undefined where a tmpfs, proc or dev hides it.
 */
function visibleSource(ops: MountOp[], path: string): string | undefined {
  let last: MountOp | undefined;
  for (const op of ops) if (within(path, op.dest)) last = op;
  if (!last || !isBind(last)) return undefined;
  const rest = path.slice(last.dest === "/" ? 0 : last.dest.length);
  return last.source === "/" ? path : `${last.source}${rest}`;
}

/** The ordering rules: shallower first; at equal depth proc/dev/tmpfs before binds. */
function expectOrdered(ops: MountOp[]): void {
  for (let i = 1; i < ops.length; i++) {
    const [before, after] = [ops[i - 1]!, ops[i]!];
    expect(depthOf(before.dest)).toBeLessThanOrEqual(depthOf(after.dest));
    if (depthOf(before.dest) === depthOf(after.dest) && isSystem(after)) expect(isSystem(before)).toBe(true);
  }
}

const RICH = input({
  writeRoots: ["/home/u/proj/sub", "/ws", "/tmp", "/run/user/1000/work"],
  cwd: "/tmp/x",
  // Deepest first on purpose: the order must not depend on the input's.
  denyRead: [
    { path: "/home/u/proj/sub/.env", kind: "file" },
    { path: "/home/u/.ssh", kind: "dir" },
  ],
  allowedSockets: ["/srv/deep/down/d.sock", "/run/user/1000/bus"],
});

describe("mountPlanFor: order by construction", () => {
  test("a deeper destination always comes after a shallower one", () => {
    const ops = mountPlanFor(RICH);
    expectOrdered(ops);
    expect(ops[0]).toEqual({ kind: "ro-bind", source: "/", dest: "/", why: "root" });
    for (const [i, op] of ops.entries()) {
      for (const later of ops.slice(i + 1)) {
        // Whatever contains a destination is mounted before it.
        if (later.dest !== op.dest) expect(within(op.dest, later.dest)).toBe(false);
      }
    }
  });

  test("the same plan whatever the order of the input lists", () => {
    const reversed = mountPlanFor({
      ...RICH,
      writeRoots: [...RICH.writeRoots].reverse(),
      denyRead: [...RICH.denyRead].reverse(),
      allowedSockets: [...RICH.allowedSockets].reverse(),
    });
    expect(reversed).toEqual(mountPlanFor(RICH));
  });

  test("at equal depth system mounts (proc, dev, tmpfs) come before binds", () => {
    const ops = mountPlanFor(input({ writeRoots: ["/aaa", "/dev/shm", "/run"], cwd: "/aaa" }));
    expectOrdered(ops);
    const depthOne = ops.filter((op) => depthOf(op.dest) === 1);
    expect(depthOne.map((op) => op.kind)).toEqual(["dev", "proc", "tmpfs", "tmpfs", "bind", "bind"]);
    expect(indexOf(ops, (op) => op.kind === "tmpfs" && op.dest === "/dev/shm")).toBeLessThan(
      indexOf(ops, (op) => op.kind === "bind" && op.dest === "/dev/shm"),
    );
  });

  test("a user bind of /tmp lands after (on top of) the /tmp tmpfs", () => {
    const ops = mountPlanFor(input({ writeRoots: ["/tmp"], cwd: "/tmp" }));
    expect(at(ops, "/tmp").map((op) => op.kind)).toEqual(["tmpfs", "bind"]);
    expect(visibleSource(ops, "/tmp/file")).toBe("/tmp/file");
  });
});

// Deny paths are stage 2's mounts, planned by denyMountsFor (test/plan/deny-mounts.test.ts) and
// checked against this plan in test/plan/sandbox.test.ts.
describe("mountPlanFor: deny paths are not bwrap's", () => {
  test("no read-denied path, file, directory, missing or symlink, becomes a bwrap mount", () => {
    const denyRead: MountInput["denyRead"] = [
      { path: "/ws/.env", kind: "file" },
      { path: "/home/u/.ssh", kind: "dir" },
      { path: "/ws/later", kind: "missing" },
      { path: "/ws/link", kind: "symlink" },
    ];
    const ops = mountPlanFor(input({ denyRead }));
    expect(ops).toEqual(mountPlanFor(input()));
    for (const { path } of denyRead) expect(at(ops, path)).toEqual([]);
    // Without stage 2's mounts the host's files show through.
    expect(visibleSource(ops, "/home/u/.ssh/id_ed25519")).toBe("/home/u/.ssh/id_ed25519");
  });
});

describe("mountPlanFor: runtime directories and allowed sockets", () => {
  test("/run is an empty tmpfs: the plan has no network input at all", () => {
    // --net means IP networking: host sockets under /run stay out of sight whatever the network.
    const ops = mountPlanFor(input());
    expect(at(ops, "/run")).toEqual([{ kind: "tmpfs", dest: "/run" }]);
    expect(visibleSource(ops, "/run/docker.sock")).toBeUndefined();
  });

  test("an allowed socket is bound back where a tmpfs would hide it; inside a write root it is visible already", () => {
    const allowed = ["/run/user/1000/bus", "/srv/daemon.sock", "/ws/app.sock"];
    const ops = mountPlanFor(input({ allowedSockets: allowed }));
    expect(visibleSource(ops, "/run/user/1000/bus")).toBe("/run/user/1000/bus");
    expect(at(ops, "/srv/daemon.sock")).toEqual([
      { kind: "ro-bind", source: "/srv/daemon.sock", dest: "/srv/daemon.sock", why: "allowed-socket" },
    ]);
    expect(at(ops, "/ws/app.sock")).toEqual([]);
  });

  test("a runtime file is bound back above the runtime tmpfs, unless read-denied", () => {
    const conf = "/run/systemd/resolve/stub-resolv.conf";
    const ops = mountPlanFor(input({ runtimeFiles: [conf] }));
    expect(visibleSource(ops, conf)).toBe(conf);
    expect(visibleSource(ops, "/run/systemd/resolve/io.systemd.Resolve")).toBeUndefined();
    expect(indexOf(ops, (op) => op.dest === conf)).toBeGreaterThan(indexOf(ops, (op) => op.dest === "/run"));
    for (const deny of [
      { path: conf, kind: "file" as const },
      { path: "/run/systemd", kind: "dir" as const },
    ]) {
      expect(at(mountPlanFor(input({ runtimeFiles: [conf], denyRead: [deny] })), conf)).toEqual([]);
    }
  });
});

describe("mountPlanFor: the working directory", () => {
  const wd = (ops: MountOp[]) => ops.filter((op) => isBind(op) && op.why === "working-directory");

  test("under /tmp outside every write root it gets a ro-bind, on top of the tmpfs", () => {
    const ops = mountPlanFor(input({ cwd: "/tmp/build/x" }));
    expect(wd(ops)).toEqual([
      { kind: "ro-bind", source: "/tmp/build/x", dest: "/tmp/build/x", why: "working-directory" },
    ]);
    expect(visibleSource(ops, "/tmp/build/x/file")).toBe("/tmp/build/x/file");
    expect(wd(mountPlanFor(input({ cwd: "/dev/shm/x" })))).toHaveLength(1);
  });

  test("inside a write root, or outside the private tmpfs mounts, it gets none", () => {
    expect(wd(mountPlanFor(input({ writeRoots: ["/tmp/build"], cwd: "/tmp/build/x" })))).toEqual([]);
    expect(wd(mountPlanFor(input({ writeRoots: ["/ws"], cwd: "/home/u" })))).toEqual([]);
    expect(wd(mountPlanFor(input({ writeRoots: [], cwd: "/tmpfoo" })))).toEqual([]);
  });

  // The runtime dirs (/run) are an empty tmpfs too: a working directory there (a USB disk at
  // /run/media) is bound back, or bwrap fails with "Can't chdir".
  test("under a runtime dir hidden by a tmpfs it stays visible", () => {
    const ops = mountPlanFor(input({ cwd: "/run/user/1000/x" }));
    expect(visibleSource(ops, "/run/user/1000/x")).toBe("/run/user/1000/x");
  });
});

describe('mountPlanFor: tmp "host" (runok\'s /tmp)', () => {
  const hostTmp = { tmpdir: "/tmp/cordon-1-x/tmp" };

  test("/tmp is the host's, read-only through the root; /dev/shm stays private; TMPDIR is bound writable", () => {
    const ops = mountPlanFor(input({ writeRoots: ["/tmp/p/allowed"], cwd: "/tmp/p/allowed", hostTmp }));
    expect(at(ops, "/tmp")).toEqual([]);
    expect(at(ops, "/dev/shm")).toEqual([{ kind: "tmpfs", dest: "/dev/shm", size: 1024 ** 3 }]);
    expect(visibleSource(ops, "/tmp/p/other")).toBe("/tmp/p/other");
    expect(at(ops, hostTmp.tmpdir)).toEqual([
      { kind: "bind", source: hostTmp.tmpdir, dest: hostTmp.tmpdir, why: "private-tmpdir" },
    ]);
    expectOrdered(ops);
  });

  test("a working directory under the host's /tmp needs no bind of its own", () => {
    const ops = mountPlanFor(input({ writeRoots: ["/tmp/p/allowed"], cwd: "/tmp/p", hostTmp }));
    expect(ops.filter((op) => isBind(op) && op.why === "working-directory")).toEqual([]);
  });
});

describe("mountPlanFor: tmpfs sizes (limits.tmpSize)", () => {
  test("the private /tmp and /dev/shm each get the size; the emptied runtime directories none", () => {
    const ops = mountPlanFor(input({ tmpSize: 64 * 1024 ** 2 }));
    expect(at(ops, "/tmp")).toEqual([{ kind: "tmpfs", dest: "/tmp", size: 64 * 1024 ** 2 }]);
    expect(at(ops, "/dev/shm")).toEqual([{ kind: "tmpfs", dest: "/dev/shm", size: 64 * 1024 ** 2 }]);
    expect(at(ops, "/run")).toEqual([{ kind: "tmpfs", dest: "/run" }]);
  });

  test("bwrap's --size comes right before the --tmpfs it sizes", () => {
    expect(mountArgs([{ kind: "tmpfs", dest: "/tmp", size: 1048576 }])).toEqual([
      "--size",
      "1048576",
      "--tmpfs",
      "/tmp",
    ]);
  });
});

describe("rendering", () => {
  test("mountArgs renders each kind of operation", () => {
    const ops: MountOp[] = [
      { kind: "ro-bind", source: "/a", dest: "/b", why: "allowed-socket" },
      { kind: "bind", source: "/c", dest: "/d", why: "write-root" },
      { kind: "proc", dest: "/proc" },
      { kind: "dev", dest: "/dev" },
      { kind: "tmpfs", dest: "/tmp" },
    ];
    expect(mountArgs(ops)).toEqual([
      "--ro-bind",
      "/a",
      "/b",
      "--bind",
      "/c",
      "/d",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--tmpfs",
      "/tmp",
    ]);
    expect(mountArgs([])).toEqual([]);
  });

  test('--share-net only when network is not "none"', () => {
    for (const network of ["none", "tcp", "all"] as const) {
      const args = namespaceArgs({ network, cwd: "/ws" });
      expect(args.filter((arg) => arg === "--share-net")).toHaveLength(network === "none" ? 0 : 1);
      expect(args).toContain("--disable-userns");
      expect(args.slice(-2)).toEqual(["--chdir", "/ws"]);
    }
  });

  test("exactly one --info-fd, with the given number, at the end", () => {
    for (const infoFd of [3, 11]) {
      const plan = { network: "all" as const, cwd: "/tmp/x", mounts: mountPlanFor(input({ cwd: "/tmp/x" })) };
      const args = bwrapArguments(plan, infoFd);
      expect(args.filter((arg) => arg === "--info-fd")).toHaveLength(1);
      expect(args.slice(-2)).toEqual(["--info-fd", String(infoFd)]);
      expect(args.slice(0, -2)).toEqual([...namespaceArgs(plan), ...mountArgs(plan.mounts)]);
    }
  });

  // The namespace options as on main today; a branch in progress makes them
  // "--cap-drop ALL --cap-add CAP_SYS_ADMIN --cap-add CAP_SETPCAP" (stage 2 mounts the deny
  // paths itself), and this golden changes with it.
  test("golden: a small plan's full bwrap argument list, with no deny path in it", () => {
    const mounts = mountPlanFor(
      input({ denyRead: [{ path: "/ws/.git", kind: "dir" }], allowedSockets: ["/srv/d.sock", "/ws/a.sock"] }),
    );
    expect(bwrapArguments({ network: "none", cwd: "/ws", mounts }, 7)).toEqual([
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--cap-drop",
      "ALL",
      "--cap-add",
      "CAP_SYS_ADMIN",
      "--cap-add",
      "CAP_SETPCAP",
      "--chdir",
      "/ws",
      "--ro-bind",
      "/",
      "/",
      "--dev",
      "/dev",
      "--proc",
      "/proc",
      "--tmpfs",
      "/run",
      "--size",
      "1073741824",
      "--tmpfs",
      "/tmp",
      "--bind",
      "/ws",
      "/ws",
      "--size",
      "1073741824",
      "--tmpfs",
      "/dev/shm",
      "--ro-bind",
      "/srv/d.sock",
      "/srv/d.sock",
      "--info-fd",
      "7",
    ]);
  });
});
