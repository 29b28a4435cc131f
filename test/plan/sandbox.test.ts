// The whole plan of one run (src/plan/sandbox.ts) and what it creates on the host
// (src/plan/state.ts), from hand-built policies and host facts. Pure.
import { describe, expect, test } from "bun:test";
import { SIGNALS } from "../../ffi/constants.ts";
import { CordonError } from "../../src/errors.ts";
import type { HostFacts } from "../../src/host/facts.ts";
import type { DirEntry, EntryKind } from "../../src/landlock/deny.ts";
import type { MountOp } from "../../src/plan/mounts.ts";
import { landlockOnlyDegradations, planSandbox, type SandboxMode, type SandboxPlan } from "../../src/plan/sandbox.ts";
import { hostStateFor } from "../../src/plan/state.ts";
import type { DegradationName } from "../../src/policy/degradations.ts";
import type { Identity } from "../../src/policy/paths.ts";
import type { ResolvedPolicy } from "../../src/policy/resolve.ts";

type ResolvedPath = ResolvedPolicy["denyWrite"][number];

const STATE = "/state/run-1";
const MODES: SandboxMode[] = ["bwrap", "landlock"];

function policyOf(overrides: Partial<ResolvedPolicy> = {}): ResolvedPolicy {
  return {
    cwd: "/ws",
    writeRoots: ["/ws"],
    denyWrite: [],
    denyRead: [],
    network: "none",
    allowConnect: [],
    allowBind: [],
    env: { clear: false, set: {}, unset: [] },
    mode: "auto",
    allowDegraded: [],
    reveal: [],
    ...overrides,
  };
}

/** Identities for what gatherHostFacts records: the cwd, the write roots, existing deny paths. */
function identitiesFor(policy: ResolvedPolicy): Map<string, Identity> {
  const denied = [...policy.denyWrite, ...policy.denyRead].filter(
    (deny) => deny.kind === "dir" || deny.kind === "file",
  );
  const paths = [policy.cwd, ...policy.writeRoots, ...denied.map((deny) => deny.path)];
  return new Map(paths.map((path, i) => [path, { dev: 64n, ino: BigInt(1000 + i) }]));
}

/** A fake host tree for landlock-only mode's deny compiler; parents are implied directories. */
function fakeLister(paths: Record<string, EntryKind>): (dir: string) => DirEntry[] | undefined {
  const kinds = new Map<string, EntryKind>([["/", "dir"]]);
  for (const [path, kind] of Object.entries(paths)) {
    const parts = path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) kinds.set(`/${parts.slice(0, i).join("/")}`, "dir");
    kinds.set(path, kind);
  }
  return (dir) => {
    if (kinds.get(dir) !== "dir") return undefined;
    const prefix = dir === "/" ? "/" : `${dir}/`;
    return [...kinds]
      .filter(([path]) => path !== "/" && path.startsWith(prefix) && !path.slice(prefix.length).includes("/"))
      .map(([path, kind]) => ({ name: path.slice(prefix.length), kind }));
  };
}

const TREE = fakeLister({
  "/bin/sh": "file",
  "/dev/null": "other",
  "/dev/sda": "other",
  "/etc/passwd": "file",
  "/home/u/.ssh/id_ed25519": "file",
  "/home/u/notes": "file",
  "/state/run-1/tmp": "dir",
  "/ws/.git/HEAD": "file",
  "/ws/.env": "file",
  "/ws/src/main.ts": "file",
});

function factsFor(policy: ResolvedPolicy, overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    arch: "x86_64",
    kernel: "6.8.0",
    uid: 1000,
    landlock: { abi: 6 },
    bwrap: { found: true, path: "/usr/bin/bwrap", real: "/usr/bin/bwrap" },
    devices: [
      { path: "/dev/null", kind: "file" },
      { path: "/dev/tty", kind: "file" },
    ],
    terminals: [{ path: "/dev/pts/3", kind: "file" }],
    runtimeDirs: ["/run"],
    unixSockets: [],
    openDescriptors: [],
    identities: identitiesFor(policy),
    listDirectory: TREE,
    seccomp: {},
    sysctls: {},
    container: {},
    ...overrides,
  };
}

const plan = (policy: ResolvedPolicy, mode: SandboxMode, overrides: Partial<HostFacts> = {}) =>
  planSandbox(policy, factsFor(policy, overrides), mode, STATE);

const missing = (path: string, existing: string): ResolvedPath => ({ path, kind: "missing", origin: path, existing });
const existing = (path: string, kind: "dir" | "file" | "symlink"): ResolvedPath => ({ path, kind, origin: path });
const isCheckedBind = (op: MountOp): op is Extract<MountOp, { source: string }> =>
  (op.kind === "bind" || op.kind === "ro-bind") && op.why !== "root";
const names = (plan: SandboxPlan) => plan.degradations.map((degradation) => degradation.name);

/** A policy that exercises every kind of mount at once. */
const RICH = policyOf({
  cwd: "/tmp/scratch",
  writeRoots: ["/ws", "/home/u/cache"],
  denyWrite: [
    existing("/ws/.git", "dir"),
    existing("/ws/package.json", "file"),
    existing("/ws/link", "symlink"),
    existing("/ws/target", "dir"),
    missing("/ws/new/deeper", "/ws"),
  ],
  denyRead: [existing("/home/u/.ssh", "dir"), existing("/ws/.env", "file"), missing("/ws/secret/key", "/ws")],
});
const RICH_SOCKETS = { unixSockets: ["/srv/d.sock", "/ws/app.sock"] };

describe("planSandbox: mount checks (bwrap mode)", () => {
  test("every bind except the root has exactly one check, with the identity of its source", () => {
    const facts = factsFor(RICH, RICH_SOCKETS);
    const result = planSandbox(RICH, facts, "bwrap", STATE);
    const binds = result.mounts.filter(isCheckedBind);
    expect(binds.map((op): string => op.why).sort()).toEqual(
      [
        ...["deny-read", "deny-read", "deny-read", "deny-write", "deny-write", "deny-write", "deny-write"],
        ...["host-socket", "working-directory", "write-root", "write-root"],
      ].sort(),
    );
    expect(result.mountChecks).toHaveLength(binds.length);
    for (const op of binds) {
      const checks = result.mountChecks.filter((check) => check.path === op.dest);
      expect(checks).toHaveLength(1);
      const [check] = checks;
      expect(check!.source).toBe(op.source);
      expect(check!.readOnly).toBe(op.kind === "ro-bind");
      const created = result.hostState.created.includes(op.source);
      expect(check!.identity).toEqual(created ? "created" : facts.identities.get(op.source)!);
      expect(check!.identity).toBeDefined();
    }
    // The stand-ins and placeholders are what the run creates; the rest is on the host.
    const createdDests = result.mountChecks.filter((check) => check.identity === "created").map((check) => check.path);
    expect(createdDests.sort()).toEqual(
      ["/home/u/.ssh", "/srv/d.sock", "/ws/.env", "/ws/new/deeper", "/ws/secret/key"].sort(),
    );
  });

  test("the root bind and the system mounts are never checked", () => {
    const result = plan(RICH, "bwrap", RICH_SOCKETS);
    expect(result.mountChecks.some((check) => check.path === "/")).toBe(false);
    for (const dest of ["/proc", "/dev", "/tmp", "/dev/shm", "/run"]) {
      expect(result.mountChecks.some((check) => check.path === dest)).toBe(false);
    }
  });

  test("a bind source missing from the facts (and not created) throws: it disappeared", () => {
    for (const gone of ["/home/u/cache", "/ws/.git", "/tmp/scratch"]) {
      const facts = factsFor(RICH);
      const identities = new Map(facts.identities);
      identities.delete(gone);
      const attempt = () => planSandbox(RICH, { ...facts, identities }, "bwrap", STATE);
      expect(attempt).toThrow(CordonError);
      expect(attempt).toThrow(`${gone} disappeared`);
    }
  });

  test("a write root missing from the facts is refused in both modes: its grant could land on a replacement", () => {
    for (const mode of ["bwrap", "landlock"] as const) {
      const facts = factsFor(RICH);
      const identities = new Map(facts.identities);
      identities.delete("/ws");
      const attempt = () => planSandbox(RICH, { ...facts, identities }, mode, STATE);
      expect(attempt).toThrow("/ws disappeared");
    }
  });

  // Suspected bug (src/plan/mounts.ts, the deny-write and deny-read loops, with
  // src/policy/resolve.ts keeping a deny-write equal to a deny-read directory, since
  // isHiddenBelow starts at the parent): a path both write- and read-denied (say
  // --deny-write ~/.ssh next to the secure default that hides it) gets two mounts at one
  // destination and two checks; the deny-write check expects the real directory where stage 2
  // finds the empty one, so every such run fails at "verifying mounts".
  test.failing("a path both write- and read-denied: each check expects what ends up at its path", () => {
    const policy = policyOf({ denyWrite: [existing("/ws/.git", "dir")], denyRead: [existing("/ws/.git", "dir")] });
    const result = plan(policy, "bwrap");
    for (const check of result.mountChecks) {
      const top = result.mounts.filter(isCheckedBind).findLast((op) => op.dest === check.path);
      expect(check.source).toBe(top!.source);
    }
  });
});

describe("planSandbox: modes", () => {
  test("landlock mode: no mounts or checks, SIGKILL on parent death, TMPDIR is the created private dir", () => {
    const policy = policyOf({ env: { clear: false, set: { TMPDIR: "/elsewhere", FOO: "bar" }, unset: [] } });
    const result = plan(policy, "landlock");
    expect(result.mode).toBe("landlock");
    expect(result.mounts).toEqual([]);
    expect(result.mountChecks).toEqual([]);
    expect(result.parentDeathSignal).toBe(SIGNALS.SIGKILL);
    expect(result.parentDeathSignal).toBe(9);
    expect(result.env.set).toEqual({ TMPDIR: result.hostState.tmpdir, FOO: "bar" });
    expect(result.hostState.tmpdir).toBe(`${STATE}/tmp`);
    const tmpRules = result.landlock.pathRules.filter((rule) => rule.path === result.hostState.tmpdir);
    expect(tmpRules).toHaveLength(1);
    expect(tmpRules[0]).toMatchObject({ grant: "write", identity: "created" });
    // No private tmpfs outside bwrap: the host's /tmp is not writable.
    expect(result.landlock.pathRules.some((rule) => rule.path === "/tmp")).toBe(false);
  });

  test("bwrap mode: no parent-death signal (bwrap covers it), TMPDIR /tmp, private tmpfs writable", () => {
    const policy = policyOf({ env: { clear: true, set: { TMPDIR: "/elsewhere" }, unset: ["X"] } });
    const result = plan(policy, "bwrap");
    expect(result.mode).toBe("bwrap");
    expect(result.parentDeathSignal).toBe(0);
    expect(result.env).toEqual({ clear: true, set: { TMPDIR: "/tmp" }, unset: ["X"] });
    for (const tmp of ["/tmp", "/dev/shm"]) {
      const rule = result.landlock.pathRules.find((candidate) => candidate.path === tmp);
      expect(rule).toMatchObject({ grant: "write" });
      expect(rule!.identity).toBeUndefined();
    }
    expect(result.landlock.pathRules.some((rule) => rule.path === result.hostState.tmpdir)).toBe(false);
  });

  test("write-root rules carry the identity from the facts, in both modes", () => {
    const policy = policyOf({ writeRoots: ["/ws", "/home/u/cache"], denyWrite: [existing("/ws/.git", "dir")] });
    const facts = factsFor(policy);
    for (const mode of MODES) {
      const result = planSandbox(policy, facts, mode, STATE);
      for (const root of policy.writeRoots) {
        const rules = result.landlock.pathRules.filter((rule) => rule.path === root && rule.grant === "write");
        expect(rules).toHaveLength(1);
        expect(rules[0]!.identity).toEqual(facts.identities.get(root)!);
      }
    }
  });

  test("only device rules follow symlinks", () => {
    for (const mode of MODES) {
      const result = plan(RICH, mode, RICH_SOCKETS);
      const devices = result.landlock.pathRules.filter((rule) => rule.grant === "device");
      expect(devices.length).toBeGreaterThan(0);
      for (const rule of result.landlock.pathRules) expect(rule.followSymlinks).toBe(rule.grant === "device");
    }
    // bwrap's /dev/pts is private; landlock-only mode grants only the terminals behind 0-2.
    const paths = (mode: SandboxMode) =>
      plan(RICH, mode)
        .landlock.pathRules.filter((rule) => rule.grant === "device")
        .map((rule) => rule.path);
    expect(paths("bwrap")).toEqual(["/dev/null", "/dev/tty", "/dev/pts"]);
    expect(paths("landlock")).toEqual(["/dev/null", "/dev/tty", "/dev/pts/3"]);
  });

  test("landlock mode enforces denies with rules, not mounts", () => {
    const policy = policyOf({ denyWrite: [existing("/ws/.git", "dir")], denyRead: [existing("/home/u/.ssh", "dir")] });
    const result = plan(policy, "landlock");
    expect(result.mounts).toEqual([]);
    const rules = result.landlock.pathRules;
    // The denied paths themselves get nothing; their siblings keep what the grant gives.
    expect(rules.some((rule) => rule.path === "/home/u/.ssh")).toBe(false);
    expect(rules.find((rule) => rule.path === "/ws/.git" && rule.grant === "write")).toBeUndefined();
    expect(rules.find((rule) => rule.path === "/ws/src")).toMatchObject({ grant: "write", walked: true });
    expect(rules.find((rule) => rule.path === "/home/u/notes")).toMatchObject({ grant: "read", walked: true });
  });
});

describe("hostStateFor and placeholders", () => {
  const policy = policyOf({
    denyWrite: [missing("/ws/a/b/c", "/ws"), missing("/ws/a/d", "/ws"), existing("/ws/.git", "dir")],
    denyRead: [missing("/ws/a/b/e", "/ws/a/b"), missing("/ws/x/y", "/ws"), missing("/ws/a/b/c", "/ws")],
  });

  test("bwrap mode: each missing component below `existing`, outermost first, deduplicated", () => {
    const state = hostStateFor(policy, "bwrap", STATE);
    expect(state).toEqual({
      dir: STATE,
      tmpdir: `${STATE}/tmp`,
      emptyDir: `${STATE}/empty-dir`,
      emptyFile: `${STATE}/empty-file`,
      placeholders: ["/ws/a", "/ws/a/b", "/ws/a/b/c", "/ws/a/d", "/ws/a/b/e", "/ws/x", "/ws/x/y"],
      created: [
        ...[`${STATE}/tmp`, `${STATE}/empty-dir`, `${STATE}/empty-file`],
        ...["/ws/a", "/ws/a/b", "/ws/a/b/c", "/ws/a/d", "/ws/a/b/e", "/ws/x", "/ws/x/y"],
      ],
    });
    // Outermost first: every placeholder's parent is either existing or created before it.
    const { placeholders } = state;
    for (const [i, path] of placeholders.entries()) {
      const parent = path.slice(0, path.lastIndexOf("/"));
      if (placeholders.includes(parent)) expect(placeholders.indexOf(parent)).toBeLessThan(i);
    }
    expect(new Set(placeholders).size).toBe(placeholders.length);
  });

  test("landlock mode never creates placeholders; a missing path without `existing` gets none", () => {
    const state = hostStateFor(policy, "landlock", STATE);
    expect(state.placeholders).toEqual([]);
    expect(state.created).toEqual([`${STATE}/tmp`, `${STATE}/empty-dir`, `${STATE}/empty-file`]);
    const unanchored = policyOf({ denyWrite: [{ path: "/ws/q", kind: "missing", origin: "/ws/q" }] });
    expect(hostStateFor(unanchored, "bwrap", STATE).placeholders).toEqual([]);
  });

  test("planSandbox uses exactly hostStateFor's state, and the missing denies' checks expect 'created'", () => {
    for (const mode of MODES) {
      expect(plan(policy, mode).hostState).toEqual(hostStateFor(policy, mode, STATE));
    }
    const result = plan(policy, "bwrap");
    for (const path of ["/ws/a/b/c", "/ws/a/d", "/ws/a/b/e", "/ws/x/y"]) {
      const checks = result.mountChecks.filter((check) => check.path === path);
      expect(checks.length).toBeGreaterThan(0);
      for (const check of checks) expect(check).toMatchObject({ source: `${STATE}/empty-dir`, identity: "created" });
    }
  });
});

describe("planSandbox: degradations", () => {
  const ABI_NAMES: DegradationName[] = ["refer", "truncate", "ioctl-dev", "tcp-ports", "scopes"];
  const abiDropped = (result: SandboxPlan) =>
    result.landlock.degradations.map((degradation) => degradation.name).filter((name) => ABI_NAMES.includes(name));

  test("landlock mode always names unix-sockets, metadata and process-isolation", () => {
    for (const abi of [1, 2, 4, 6, 8]) {
      for (const network of ["none", "all"] as const) {
        const result = plan(policyOf({ network }), "landlock", { landlock: { abi } });
        expect(names(result)).toEqual(expect.arrayContaining(["unix-sockets", "metadata", "process-isolation"]));
      }
    }
    expect(names(plan(policyOf(), "bwrap", { landlock: { abi: 8 } }))).toEqual([]);
  });

  test("ABI 2 lacks truncate, ioctl-dev, tcp-ports and scopes; ABI 1 refer as well", () => {
    for (const mode of MODES) {
      expect(abiDropped(plan(policyOf(), mode, { landlock: { abi: 2 } }))).toEqual([
        "truncate",
        "ioctl-dev",
        "tcp-ports",
        "scopes",
      ]);
      expect(abiDropped(plan(policyOf(), mode, { landlock: { abi: 1 } }))).toEqual(ABI_NAMES);
    }
  });

  test("bwrap mode: truncate and ioctl-dev (and scopes without network) do not weaken security", () => {
    const weakens = (result: SandboxPlan, name: DegradationName) =>
      result.degradations.find((degradation) => degradation.name === name)?.weakensSecurity;
    const none = plan(policyOf(), "bwrap", { landlock: { abi: 2 } });
    for (const name of ["truncate", "ioctl-dev", "scopes"] as const) {
      expect(weakens(none, name)).toBe(false);
      expect(none.degradations.find((degradation) => degradation.name === name)!.consequence).toContain("bwrap");
    }
    // Sharing the host's network namespace keeps abstract sockets reachable.
    expect(weakens(plan(policyOf({ network: "all" }), "bwrap", { landlock: { abi: 2 } }), "scopes")).toBe(true);
    const tcp = policyOf({ allowConnect: [443] });
    expect(weakens(plan(tcp, "bwrap", { landlock: { abi: 5 } }), "scopes")).toBe(true);
    // landlock-only mode has no mounts or namespaces to cover them.
    const landlock = plan(policyOf(), "landlock", { landlock: { abi: 2 } });
    for (const name of ["truncate", "ioctl-dev", "scopes"] as const) expect(weakens(landlock, name)).toBe(true);
  });

  test("port rules need ABI 4: with allowConnect or allowBind on ABI 3 planning throws", () => {
    for (const mode of MODES) {
      for (const ports of [{ allowConnect: [443] }, { allowBind: [8080] }]) {
        const attempt = () => plan(policyOf(ports), mode, { landlock: { abi: 3 } });
        expect(attempt).toThrow(CordonError);
        expect(attempt).toThrow("ABI 4");
      }
      const result = plan(policyOf({ allowConnect: [443], allowBind: [8080] }), mode, { landlock: { abi: 4 } });
      expect(result.network).toBe("tcp");
      expect(result.landlock.netRules.map((rule) => rule.port)).toEqual([443, 8080]);
    }
    // Without port rules, ABI 3 is fine.
    expect(plan(policyOf(), "bwrap", { landlock: { abi: 3 } }).network).toBe("none");
  });
});

describe("landlockOnlyDegradations", () => {
  const sockets = { unixSockets: ["/srv/d.sock"] };

  test("a host socket outside the write roots is a loss", () => {
    for (const policy of [policyOf(), policyOf({ allowConnect: [443] })]) {
      const losses = landlockOnlyDegradations(policy, sockets);
      expect(losses).toHaveLength(1);
      expect(losses[0]).toMatchObject({ name: "unix-sockets", weakensSecurity: true });
      expect(losses[0]!.consequence).toContain("/srv/d.sock");
    }
  });

  test('not with network "all", not inside a write root, not when unix-sockets is allowed by name', () => {
    expect(landlockOnlyDegradations(policyOf({ network: "all" }), sockets)).toEqual([]);
    expect(landlockOnlyDegradations(policyOf(), { unixSockets: ["/ws/app.sock"] })).toEqual([]);
    expect(landlockOnlyDegradations(policyOf({ allowDegraded: ["unix-sockets"] }), sockets)).toEqual([]);
    expect(landlockOnlyDegradations(policyOf(), { unixSockets: [] })).toEqual([]);
  });

  test("a read-denied socket is a loss, whatever the network", () => {
    for (const network of ["none", "all"] as const) {
      const policy = policyOf({ network, denyRead: [existing("/run/user/1000/bus", "file")] });
      const losses = landlockOnlyDegradations(policy, { unixSockets: ["/run/user/1000/bus"] });
      expect(losses).toHaveLength(1);
      expect(losses[0]!.consequence).toContain("hiding the unix sockets /run/user/1000/bus");
    }
    const accepted = policyOf({ allowDegraded: ["unix-sockets"], denyRead: [existing("/srv/d.sock", "file")] });
    expect(landlockOnlyDegradations(accepted, sockets)).toEqual([]);
  });

  test("a long list is previewed", () => {
    const many = ["/srv/1.sock", "/srv/2.sock", "/srv/3.sock", "/srv/4.sock", "/srv/5.sock"];
    const [loss] = landlockOnlyDegradations(policyOf(), { unixSockets: many });
    expect(loss!.consequence).toContain("/srv/1.sock, /srv/2.sock, /srv/3.sock and 2 more");
  });

  // Suspected bug (src/plan/sandbox.ts, `hiddenSockets` in landlockOnlyDegradations): only a socket
  // that is itself read-denied counts, not one inside a read-denied directory, e.g. the
  // gpg-agent secure default hides $XDG_RUNTIME_DIR/gnupg, a directory of sockets. With
  // network "all" (or inside a write root) no loss is reported, so auto mode falls back to
  // landlock-only mode silently, where connect(2) to those sockets still works before ABI 9.
  test.failing("a socket inside a read-denied directory is a loss, even with network all", () => {
    const policy = policyOf({ network: "all", denyRead: [existing("/run/user/1000/gnupg", "dir")] });
    const losses = landlockOnlyDegradations(policy, { unixSockets: ["/run/user/1000/gnupg/S.gpg-agent"] });
    expect(losses).toHaveLength(1);
  });
});
