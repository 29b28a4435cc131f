// How prepareRun (src/stage1/prepare.ts) words a refusal that no mode avoids
// (cordon's own files inside a write root), and one that only landlock-only
// mode makes (a checkout token in .git/config). Pure: hand-built facts, no binary.
import { NO_LIMITS } from "../../src/policy/limits.ts";
import { describe, expect, test } from "bun:test";
import type { HostFacts } from "../../src/host/facts.ts";
import { NO_GIT, type ResolvedPolicy } from "../../src/policy/resolve.ts";
import { prepareRun } from "../../src/stage1/prepare.ts";

const policy: ResolvedPolicy = {
  cwd: "/ws",
  writeRoots: ["/ws"],
  denyWrite: [],
  denyRead: [],
  unreadableGlobDirs: [],
  redact: [],
  network: "none",
  tmp: "private",
  allowConnect: [],
  allowBind: [],
  allowSockets: [],
  env: { clear: false, allowList: false, set: {}, unset: [] },
  mode: "bwrap",
  allowDegraded: [],
  reveal: [],
  caches: [],
  limits: NO_LIMITS,
  git: NO_GIT,
  projectFiles: [],
};

const facts: HostFacts = {
  arch: "x86_64",
  kernel: "6.8.0",
  uid: 1000,
  landlock: { abi: 7 },
  bwrap: { found: true, path: "/usr/bin/bwrap", real: "/usr/bin/bwrap", explicit: false },
  devices: [],
  terminals: [],
  controllingTerminal: { exists: false },
  runtimeDirs: [],
  unixSockets: [],
  foreignSockets: [],
  descriptors: { atStart: [], now: [] },
  identities: new Map(["/", "/ws"].map((path, i) => [path, { dev: 1n, ino: BigInt(i + 2) }])),
  listDirectory: () => [],
  seccomp: {},
  sysctls: {},
  container: {},
  cordon: [{ name: "cordon's executable /ws/dist/cordon", path: "/ws/dist/cordon", directory: false }],
  environment: [],
  redactSources: new Map(),
  cgroups: { homes: [], missing: [], mountPoints: [] },
};

const prepare = (allowDegraded: ResolvedPolicy["allowDegraded"] = []) =>
  prepareRun({ ...policy, allowDegraded }, facts, { strict: false, preserveFds: 0, stateDir: "/state/run" });

describe("prepareRun: cordon's own files inside a write root", () => {
  test("refused without naming a mode; the hint names the safe install and the override", () => {
    const { refusal } = prepare();
    expect(refusal?.message).toBe(
      "cordon's executable /ws/dist/cordon lies inside the write root /ws: the command could replace the cordon " +
        "that later runs start outside any sandbox",
    );
    expect(refusal?.hint).toBe(
      "run a cordon that no write root reaches: install it globally (npm install -g cordon) or outside the " +
        "project, or accept it by name with --allow-degraded cordon-writable; the command was not run",
    );
  });

  test("accepted by name, the run is prepared", () => {
    const prepared = prepare(["cordon-writable"]);
    expect(prepared.refusal).toBeUndefined();
    expect(prepared.plan.degradations.map((degradation) => degradation.name)).toContain("cordon-writable");
  });
});

describe("prepareRun: a CI checkout token in .git/config", () => {
  const withToken = (mode: ResolvedPolicy["mode"]) =>
    prepareRun(
      {
        ...policy,
        mode,
        allowDegraded: ["cordon-writable"],
        redact: [{ path: "/ws/.git/config", secret: "git-checkout-token", format: "git-config", links: 1 }],
      },
      {
        ...facts,
        landlock: { abi: 7 },
        redactSources: new Map([["/ws/.git/config", '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: x']]),
      },
      { strict: false, preserveFds: 0, stateDir: "/state/run" },
    );

  test("bwrap mode binds a copy without it over .git/config", () => {
    const prepared = withToken("bwrap");
    expect(prepared.refusal).toBeUndefined();
    expect(prepared.plan.mounts).toContainEqual({
      kind: "ro-bind",
      source: "/state/run/redacted/0/config",
      dest: "/ws/.git/config",
      why: "redacted-copy",
    });
    expect(prepared.plan.mountChecks).toContainEqual({
      path: "/ws/.git/config",
      source: "/state/run/redacted/0/config",
      identity: "created",
      readOnly: true,
    });
    expect(prepared.plan.hostState.copies[0]!.text).not.toContain("AUTHORIZATION");
  });

  test("landlock-only mode refuses, naming persist-credentials: false and the reveal", () => {
    const { refusal } = withToken("landlock");
    expect(refusal?.message).toContain("/ws/.git/config (http.https://github.com/.extraheader)");
    expect(refusal?.hint).toContain("persist-credentials: false");
    expect(refusal?.hint).toContain("--reveal git-checkout-token");
  });
});
