// Where the sandbox's cgroup may go (src/host/cgroups.ts), on made-up hosts:
// cgroup v2 with and without delegation, a limit in between, v1 hierarchies,
// a container's subtree mount. The file system is a table.
import { describe, expect, test } from "bun:test";
import { cgroupFactsFrom, parseCgroupMounts, parseMemberships, type CgroupFileSystem } from "../../src/host/cgroups.ts";

/** A cgroup tree: each directory's files; `writable` lists what the caller may write. */
function fakeFs(files: Record<string, string>, writable: string[]): CgroupFileSystem {
  return {
    read: (path) => files[path],
    writable: (path) => writable.some((dir) => path === dir || path === `${dir}/cgroup.procs`),
  };
}

const V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
const HYBRID_MOUNTS = [
  "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
  "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
  "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
].join("\n");

const USER_SCOPE = "/user.slice/user-1000.slice/user@1000.service/app.slice/run-1.scope";
const APP = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice";

describe("parsing", () => {
  test("/proc/self/cgroup: the v2 line has no controllers, v1 lines list theirs", () => {
    expect(parseMemberships("9:name=systemd:/\n8:pids:/a\n4:memory:/b/c\n0::/d\n")).toEqual([
      { controllers: ["name=systemd"], path: "/" },
      { controllers: ["pids"], path: "/a" },
      { controllers: ["memory"], path: "/b/c" },
      { controllers: [], path: "/d" },
    ]);
  });

  test("mountinfo: cgroup mounts only, with their roots and (v1) controllers; octal escapes undone", () => {
    const mounts = parseCgroupMounts(
      `${HYBRID_MOUNTS}\n22 1 0:21 / /proc rw - proc proc rw\n50 1 0:26 /ctr /my\\040cg rw - cgroup2 cgroup2 rw`,
    );
    expect(mounts.map((mount) => [mount.version, mount.mountPoint, mount.root, mount.controllers])).toEqual([
      [1, "/sys/fs/cgroup/memory", "/", ["rw", "memory"]],
      [1, "/sys/fs/cgroup/pids", "/", ["rw", "pids"]],
      [2, "/sys/fs/cgroup/unified", "/", []],
      [2, "/my cg", "/ctr", []],
    ]);
  });
});

describe("cgroup v2", () => {
  const mounts = parseCgroupMounts(V2_MOUNT);
  const inScope = parseMemberships(`0::${USER_SCOPE}\n`);

  const SCOPE = `/sys/fs/cgroup${USER_SCOPE}`;
  /** A delegated scope cordon is alone in (pid 42), with memory and pids given to it. */
  const scopeFiles = {
    [`${SCOPE}/cgroup.type`]: "domain\n",
    [`${SCOPE}/cgroup.controllers`]: "cpu memory pids\n",
    [`${SCOPE}/cgroup.subtree_control`]: "\n",
    [`${SCOPE}/cgroup.procs`]: "42\n",
    [`${APP}/cgroup.subtree_control`]: "cpu memory pids\n",
  };
  const delegated = fakeFs(scopeFiles, [SCOPE, `${SCOPE}/cgroup.subtree_control`, APP]);

  test("alone in a delegated scope: the cgroup goes inside it, once cordon has vacated it", () => {
    expect(cgroupFactsFrom(inScope, mounts, ["memory", "pids"], delegated, 42)).toEqual({
      homes: [{ version: 2, parent: SCOPE, controllers: ["memory", "pids"], vacate: true }],
      missing: [],
      mountPoints: ["/sys/fs/cgroup"],
    });
  });

  test("never beside cordon's own cgroup: the slice above may hand out memory, the sandbox stays inside", () => {
    // Not alone (pid 7 shares the scope): the writable slice above is not taken, whatever it hands out.
    const shared = fakeFs({ ...scopeFiles, [`${SCOPE}/cgroup.procs`]: "42\n7\n" }, [SCOPE, APP]);
    const facts = cgroupFactsFrom(inScope, mounts, ["memory"], shared, 42);
    expect(facts.homes).toEqual([]);
    expect(facts.missing[0]!.why).toContain("cordon may not write its own cgroup");
    const sharedWritable = fakeFs({ ...scopeFiles, [`${SCOPE}/cgroup.procs`]: "42\n7\n" }, [
      SCOPE,
      `${SCOPE}/cgroup.subtree_control`,
      APP,
    ]);
    expect(cgroupFactsFrom(inScope, mounts, ["memory"], sharedWritable, 42).missing[0]!.why).toBe(
      `cordon shares its cgroup ${SCOPE} with other processes, so it cannot hand out memory`,
    );
  });

  test("a controller not given to cordon's cgroup is named", () => {
    const facts = cgroupFactsFrom(
      inScope,
      mounts,
      ["pids"],
      fakeFs({ ...scopeFiles, [`${SCOPE}/cgroup.controllers`]: "cpu" }, [SCOPE, `${SCOPE}/cgroup.subtree_control`]),
      42,
    );
    expect(facts.missing[0]!.why).toBe(`cordon's own cgroup ${SCOPE} was given no pids controller`);
  });

  test("a login session (root's cgroups, not delegated): none, and why", () => {
    const session = "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope";
    const facts = cgroupFactsFrom(
      parseMemberships("0::/user.slice/user-1000.slice/session-2.scope\n"),
      mounts,
      ["memory"],
      fakeFs(
        { [`${session}/cgroup.type`]: "domain", "/sys/fs/cgroup/user.slice/cgroup.subtree_control": "memory" },
        [],
      ),
    );
    expect(facts.homes).toEqual([]);
    expect(facts.missing).toEqual([{ controller: "memory", why: `cordon may not write its own cgroup ${session}` }]);
  });

  test("the root cgroup may hold processes and hand out controllers: the cgroup goes right in it", () => {
    const fs = fakeFs({ "/sys/fs/cgroup/cgroup.subtree_control": "memory pids" }, ["/sys/fs/cgroup"]);
    expect(cgroupFactsFrom(parseMemberships("0::/\n"), mounts, ["pids"], fs).homes).toEqual([
      { version: 2, parent: "/sys/fs/cgroup", controllers: ["pids"], vacate: false },
    ]);
    const without = cgroupFactsFrom(parseMemberships("0::/\n"), mounts, ["memory"], fakeFs({}, ["/sys/fs/cgroup"]));
    expect(without.missing[0]!.why).toBe(
      "the root cgroup /sys/fs/cgroup does not hand out the memory controller to cordon",
    );
  });

  test("a container's subtree mount: paths are taken below the mount's root; its root is no real root", () => {
    const container = parseCgroupMounts("50 1 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw");
    const files = {
      "/sys/fs/cgroup/cgroup.type": "domain",
      "/sys/fs/cgroup/cgroup.controllers": "memory",
      "/sys/fs/cgroup/cgroup.procs": "1\n",
    };
    const fs = fakeFs(files, ["/sys/fs/cgroup", "/sys/fs/cgroup/cgroup.subtree_control"]);
    expect(cgroupFactsFrom(parseMemberships("0::/docker/abc\n"), container, ["memory"], fs, 1).homes).toEqual([
      { version: 2, parent: "/sys/fs/cgroup", controllers: ["memory"], vacate: true },
    ]);
    const outside = cgroupFactsFrom(parseMemberships("0::/elsewhere\n"), container, ["memory"], fs, 1);
    expect(outside.missing[0]!.why).toContain("not under /sys/fs/cgroup");
  });
});

describe("cgroup v1 (hybrid hosts)", () => {
  const mounts = parseCgroupMounts(HYBRID_MOUNTS);
  const memberships = parseMemberships("8:pids:/\n4:memory:/process_api/x\n0::/\n");

  test("each controller's cgroup goes inside cordon's own, where it may write", () => {
    const fs = fakeFs({}, ["/sys/fs/cgroup/memory/process_api/x", "/sys/fs/cgroup/pids"]);
    expect(cgroupFactsFrom(memberships, mounts, ["memory", "pids"], fs)).toEqual({
      homes: [
        { version: 1, parent: "/sys/fs/cgroup/memory/process_api/x", controllers: ["memory"], vacate: false },
        { version: 1, parent: "/sys/fs/cgroup/pids", controllers: ["pids"], vacate: false },
      ],
      missing: [],
      mountPoints: ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified"],
    });
  });

  test("a controller on v1 is never looked for on v2; not writable: named", () => {
    const facts = cgroupFactsFrom(memberships, mounts, ["memory", "pids"], fakeFs({}, ["/sys/fs/cgroup/unified"]));
    expect(facts.homes).toEqual([]);
    expect(facts.missing.map((absence) => absence.why)).toEqual([
      "cordon may not write its own memory cgroup /sys/fs/cgroup/memory/process_api/x (cgroup v1)",
      "cordon may not write its own pids cgroup /sys/fs/cgroup/pids (cgroup v1)",
    ]);
  });
});

test("no cgroup file system at all, and nothing asked: nothing read", () => {
  expect(cgroupFactsFrom([], [], ["memory"], fakeFs({}, [])).missing[0]!.why).toBe(
    "no cgroup file system with the memory controller is mounted",
  );
  expect(cgroupFactsFrom([], [], [], fakeFs({}, []))).toEqual({ homes: [], missing: [], mountPoints: [] });
});
