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

const EMPTY_DIR = "/state/empty-dir";
const EMPTY_FILE = "/state/empty-file";

function input(overrides: Partial<MountInput> = {}): MountInput {
  return {
    writeRoots: ["/ws"],
    denyWrite: [],
    denyRead: [],
    cwd: "/ws",
    network: "none",
    runtimeDirs: ["/run"],
    unixSockets: [],
    emptyDir: EMPTY_DIR,
    emptyFile: EMPTY_FILE,
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
  denyWrite: [
    { path: "/ws/a/b/c/d", kind: "missing" },
    { path: "/ws/.git", kind: "dir" },
    { path: "/ws", kind: "dir" },
  ],
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
      denyWrite: [...RICH.denyWrite].reverse(),
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

  test("deny-write and deny-read come after the write root that contains them", () => {
    const ops = mountPlanFor(RICH);
    const root = (dest: string) => indexOf(ops, (op) => op.kind === "bind" && op.dest === dest);
    const deny = (dest: string, why: string) => indexOf(ops, (op) => isBind(op) && op.dest === dest && op.why === why);
    expect(deny("/ws/.git", "deny-write")).toBeGreaterThan(root("/ws"));
    expect(deny("/ws/a/b/c/d", "deny-write")).toBeGreaterThan(root("/ws"));
    expect(deny("/home/u/proj/sub/.env", "deny-read")).toBeGreaterThan(root("/home/u/proj/sub"));
    // A deny-write of the write root itself: same depth, and still on top.
    expect(deny("/ws", "deny-write")).toBeGreaterThan(root("/ws"));
    expect(at(ops, "/ws").map((op) => op.kind)).toEqual(["bind", "ro-bind"]);
  });
});

describe("mountPlanFor: what each deny becomes", () => {
  test("a missing deny-write is the empty directory; an existing one is bound onto itself", () => {
    const ops = mountPlanFor(
      input({
        denyWrite: [
          { path: "/ws/new", kind: "missing" },
          { path: "/ws/.git", kind: "dir" },
          { path: "/ws/package.json", kind: "file" },
        ],
      }),
    );
    expect(at(ops, "/ws/new")).toEqual([{ kind: "ro-bind", source: EMPTY_DIR, dest: "/ws/new", why: "deny-write" }]);
    expect(at(ops, "/ws/.git")).toEqual([{ kind: "ro-bind", source: "/ws/.git", dest: "/ws/.git", why: "deny-write" }]);
    expect(at(ops, "/ws/package.json")).toEqual([
      { kind: "ro-bind", source: "/ws/package.json", dest: "/ws/package.json", why: "deny-write" },
    ]);
  });

  test("a deny-read file is the empty file; a directory or a missing path the empty directory", () => {
    const ops = mountPlanFor(
      input({
        denyRead: [
          { path: "/ws/.env", kind: "file" },
          { path: "/home/u/.ssh", kind: "dir" },
          { path: "/ws/later", kind: "missing" },
        ],
      }),
    );
    const deny = (dest: string, source: string): MountOp[] => [{ kind: "ro-bind", source, dest, why: "deny-read" }];
    expect(at(ops, "/ws/.env")).toEqual(deny("/ws/.env", EMPTY_FILE));
    expect(at(ops, "/home/u/.ssh")).toEqual(deny("/home/u/.ssh", EMPTY_DIR));
    expect(at(ops, "/ws/later")).toEqual(deny("/ws/later", EMPTY_DIR));
    expect(visibleSource(ops, "/home/u/.ssh/id_ed25519")).toBe(`${EMPTY_DIR}/id_ed25519`);
  });

  test("a denied symlink gets no mount (a mount would follow it); its target does", () => {
    for (const list of ["denyWrite", "denyRead"] as const) {
      const ops = mountPlanFor(
        input({
          [list]: [
            { path: "/ws/link", kind: "symlink" },
            { path: "/ws/target", kind: "dir" },
          ],
        }),
      );
      expect(at(ops, "/ws/link")).toEqual([]);
      expect(at(ops, "/ws/target")).toHaveLength(1);
    }
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
  const socketInput = (network: MountInput["network"]) =>
    input({
      network,
      denyRead: [
        { path: "/home/u/.gnupg", kind: "dir" },
        { path: "/ws/gone", kind: "missing" },
        { path: sockets.readDenied, kind: "file" },
      ],
      unixSockets: Object.values(sockets),
    });

  test("covers only sockets outside write roots and hidden dirs, not already a mount destination", () => {
    for (const network of ["none", "tcp"] as const) {
      const ops = mountPlanFor(socketInput(network));
      const covers = ops.filter((op) => isBind(op) && op.why === "host-socket");
      expect(covers).toEqual([
        { kind: "ro-bind", source: EMPTY_FILE, dest: sockets.reachable, why: "host-socket" },
        { kind: "ro-bind", source: EMPTY_FILE, dest: sockets.reachableDeep, why: "host-socket" },
      ]);
      // The read-denied socket keeps its one deny-read mount.
      expect(at(ops, sockets.readDenied)).toEqual([
        { kind: "ro-bind", source: EMPTY_FILE, dest: sockets.readDenied, why: "deny-read" },
      ]);
      expect(at(ops, "/run")).toEqual([{ kind: "tmpfs", dest: "/run" }]);
      // Seen from inside: only the socket in the write root is the host's.
      for (const socket of Object.values(sockets)) {
        expect(visibleSource(ops, socket) === socket).toBe(socket === sockets.inRoot);
      }
    }
  });

  test('with network "all": no runtime-dir tmpfs and no socket covers', () => {
    const ops = mountPlanFor(socketInput("all"));
    expect(ops.some((op) => isBind(op) && op.why === "host-socket")).toBe(false);
    expect(at(ops, "/run")).toEqual([]);
    expect(ops.filter((op) => op.kind === "tmpfs").map((op) => op.dest)).toEqual(["/tmp", "/dev/shm"]);
    expect(visibleSource(ops, sockets.inRun)).toBe(sockets.inRun);
    expect(visibleSource(ops, sockets.reachable)).toBe(sockets.reachable);
    // The denies still hold.
    expect(visibleSource(ops, sockets.readDenied)).toBe(EMPTY_FILE);
  });

  // Suspected bug (src/plan/mounts.ts, the `taken` set of the host-socket loop): a
  // write-denied socket outside the write roots is already a mount destination (its
  // deny-write ro-bind of itself), so it gets no cover and stays connectable: connect(2)
  // ignores read-only mounts. Adding a redundant deny-write weakens the sandbox; the
  // README says every host socket outside the write roots is covered without network.
  test.failing("a write-denied socket outside the write roots is still covered", () => {
    const ops = mountPlanFor(
      input({ denyWrite: [{ path: "/srv/d.sock", kind: "file" }], unixSockets: ["/srv/d.sock"] }),
    );
    expect(visibleSource(ops, "/srv/d.sock")).not.toBe("/srv/d.sock");
  });

  // Suspected bug (src/plan/mounts.ts, the deny-write loop): a deny-write of an existing
  // directory under /run (or /tmp) binds the host directory back on top of the tmpfs that hid
  // it, and its sockets count as hidden (they lie in a runtime dir), so none is covered.
  test.failing("a write-denied directory under /run does not bring its host sockets back", () => {
    const ops = mountPlanFor(
      input({ denyWrite: [{ path: "/run/user/1000", kind: "dir" }], unixSockets: ["/run/user/1000/bus"] }),
    );
    expect(visibleSource(ops, "/run/user/1000/bus")).not.toBe("/run/user/1000/bus");
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
      { kind: "ro-bind", source: "/a", dest: "/b", why: "deny-write" },
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

  test("golden: a small plan's full bwrap argument list", () => {
    const mounts = mountPlanFor(
      input({ denyWrite: [{ path: "/ws/.git", kind: "dir" }], unixSockets: ["/srv/d.sock", "/ws/a.sock"] }),
    );
    expect(bwrapArguments({ network: "none", cwd: "/ws", mounts }, 7)).toEqual([
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--cap-drop",
      "ALL",
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
      "/ws/.git",
      "/ws/.git",
      "--ro-bind",
      EMPTY_FILE,
      "/srv/d.sock",
      "--info-fd",
      "7",
    ]);
  });
});
