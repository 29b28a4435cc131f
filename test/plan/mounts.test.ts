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

const EMPTY_FILE = "/state/empty-file";

function input(overrides: Partial<MountInput> = {}): MountInput {
  return {
    writeRoots: ["/ws"],
    denyRead: [],
    cwd: "/ws",
    runtimeDirs: ["/run"],
    runtimeFiles: [],
    unixSockets: [],
    allowedSockets: [],
    emptyDirs: [],
    emptyFile: EMPTY_FILE,
    ...overrides,
  };
}

const within = (path: string, root: string) => path === root || root === "/" || path.startsWith(`${root}/`);
const isBind = (op: MountOp): op is Extract<MountOp, { source: string }> => op.kind === "bind" || op.kind === "ro-bind";
const isSystem = (op: MountOp) =>
  op.kind === "proc" || op.kind === "dev" || op.kind === "tmpfs" || op.kind === "empty-dir";
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
  unixSockets: ["/srv/deep/down/d.sock", "/srv/d.sock"],
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
      unixSockets: [...RICH.unixSockets].reverse(),
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

describe("mountPlanFor: host sockets and runtime directories", () => {
  const sockets = {
    inRoot: "/ws/app.sock",
    inTmp: "/tmp/.X11-unix/X0",
    inShm: "/dev/shm/s.sock",
    inRun: "/run/docker.sock",
    inHiddenDir: "/home/u/.gnupg/S.gpg-agent",
    inMissingHidden: "/ws/gone/x.sock",
    readDenied: "/home/u/bus.sock",
    reachable: "/srv/daemon.sock",
    reachableDeep: "/var/lib/thing/ctl.sock",
  };
  const socketInput = () =>
    input({
      denyRead: [
        { path: "/home/u/.gnupg", kind: "dir" },
        { path: "/ws/gone", kind: "missing" },
        { path: sockets.readDenied, kind: "file" },
      ],
      unixSockets: Object.values(sockets),
    });

  test("covers only sockets outside write roots and read-denied directories", () => {
    {
      const ops = mountPlanFor(socketInput());
      const covers = ops.filter((op) => isBind(op) && op.why === "host-socket");
      // A read-denied socket file is a socket like any other to bwrap; whether stage 2 may
      // still mount over it is planSandbox's to decide (test/plan/sandbox.test.ts).
      expect(covers.filter((op) => op.dest !== sockets.readDenied)).toEqual([
        { kind: "ro-bind", source: EMPTY_FILE, dest: sockets.reachable, why: "host-socket" },
        { kind: "ro-bind", source: EMPTY_FILE, dest: sockets.reachableDeep, why: "host-socket" },
      ]);
      expect(at(ops, "/run")).toEqual([{ kind: "tmpfs", dest: "/run" }]);
      // Seen from inside bwrap's mounts alone: the sockets in the write root are the host's, and
      // the one in the read-denied directory too, until stage 2 hides that directory.
      const hostOnes: string[] = [sockets.inRoot, sockets.inMissingHidden, sockets.inHiddenDir];
      for (const socket of Object.values(sockets)) {
        if (socket === sockets.readDenied) continue;
        expect(visibleSource(ops, socket) === socket).toBe(hostOnes.includes(socket));
      }
    }
  });

  test("the network plays no part: the plan has no network input at all", () => {
    // --net means IP networking: /run stays a tmpfs and every reachable socket stays covered.
    const ops = mountPlanFor(socketInput());
    expect(visibleSource(ops, sockets.inRun)).toBeUndefined();
    expect(visibleSource(ops, sockets.reachable)).toBe(EMPTY_FILE);
  });

  test("an allowed socket is bound back where a tmpfs or a cover would hide it, and never covered", () => {
    const allowed = ["/run/user/1000/bus", "/srv/daemon.sock", "/ws/app.sock"];
    const ops = mountPlanFor(input({ unixSockets: allowed, allowedSockets: allowed }));
    expect(visibleSource(ops, "/run/user/1000/bus")).toBe("/run/user/1000/bus");
    expect(visibleSource(ops, "/srv/daemon.sock")).toBe("/srv/daemon.sock");
    expect(ops.some((op) => isBind(op) && op.why === "host-socket")).toBe(false);
    // Inside a write root it is visible already.
    expect(at(ops, "/ws/app.sock")).toEqual([]);
  });

  test("a runtime file is bound back above the runtime tmpfs; its neighbours stay hidden", () => {
    const conf = "/run/systemd/resolve/stub-resolv.conf";
    const ops = mountPlanFor(input({ runtimeFiles: [conf], unixSockets: ["/run/systemd/resolve/io.systemd.Resolve"] }));
    expect(visibleSource(ops, conf)).toBe(conf);
    expect(visibleSource(ops, "/run/systemd/resolve/io.systemd.Resolve")).toBeUndefined();
    expect(indexOf(ops, (op) => op.dest === conf)).toBeGreaterThan(indexOf(ops, (op) => op.dest === "/run"));
  });

  test("an empty dir hides a directory whole, read-only, and covers nothing inside it", () => {
    const ops = mountPlanFor(input({ emptyDirs: ["/var/tmp"], unixSockets: ["/var/tmp/x.sock"] }));
    expect(at(ops, "/var/tmp")).toEqual([{ kind: "empty-dir", dest: "/var/tmp" }]);
    expect(visibleSource(ops, "/var/tmp/x.sock")).toBeUndefined();
    expect(mountArgs(at(ops, "/var/tmp"))).toEqual(["--tmpfs", "/var/tmp", "--remount-ro", "/var/tmp"]);
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

  // Suspected bug (src/plan/mounts.ts, `hiddenByTmpfs`): only /tmp and /dev/shm are
  // considered, but without network the runtime dirs (/run) are an empty tmpfs too, so a
  // working directory under /run vanishes and bwrap fails with "Can't chdir".
  test.failing("under a runtime dir hidden by a tmpfs it stays visible", () => {
    const ops = mountPlanFor(input({ cwd: "/run/user/1000/x" }));
    expect(visibleSource(ops, "/run/user/1000/x")).toBe("/run/user/1000/x");
  });
});

describe("rendering", () => {
  test("mountArgs renders each kind of operation", () => {
    const ops: MountOp[] = [
      { kind: "ro-bind", source: "/a", dest: "/b", why: "host-socket" },
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
      input({ denyRead: [{ path: "/ws/.git", kind: "dir" }], unixSockets: ["/srv/d.sock", "/ws/a.sock"] }),
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
      "--tmpfs",
      "/tmp",
      "--bind",
      "/ws",
      "/ws",
      "--tmpfs",
      "/dev/shm",
      "--ro-bind",
      EMPTY_FILE,
      "/srv/d.sock",
      "--info-fd",
      "7",
    ]);
  });
});
