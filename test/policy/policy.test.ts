// The policy model: one schema for files, profiles and flags; composition;
// runok's formats; paths and globs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CordonError } from "../../src/errors.ts";
import { applyLayer, composePolicy } from "../../src/policy/compose.ts";
import { interpretPolicy, loadPolicy, parseText } from "../../src/policy/load.ts";
import { expandGlob, GlobBudget, GLOB_MATCH_LIMIT, splitGlob } from "../../src/policy/glob.ts";
import { canonicalMaybeMissing, isGlob } from "../../src/policy/paths.ts";
import { policyReference } from "../../src/policy/reference.ts";
import { resolvePolicy } from "../../src/policy/resolve.ts";
import { EMPTY_POLICY } from "../../src/policy/schema.ts";
import { REPO, scratchDir } from "../helpers/cordon.ts";

const EXAMPLE = {
  json:
    '{"write": ["."], "denyWrite": [".git"], "denyRead": ["secrets"], "network": ' +
    '"none", "env": {"set": {"A": "1"}, "unset": ["B"]}}',
  yaml: 'write: ["."]\ndenyWrite: [".git"]\ndenyRead: [secrets]\nnetwork: none\nenv:\n  set: {A: "1"}\n  unset: [B]\n',
  toml:
    'write = ["."]\ndenyWrite = [".git"]\ndenyRead = ["secrets"]\nnetwork = ' +
    '"none"\n[env]\nunset = ["B"]\n[env.set]\nA = "1"\n',
};

describe("policy files", () => {
  let dir: string;
  beforeAll(() => (dir = scratchDir("cordon-policy-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("JSON, YAML and TOML mean exactly the same policy", () => {
    const loaded = (["json", "yaml", "toml"] as const).map((format) => {
      const path = join(dir, `policy.${format}`);
      writeFileSync(path, EXAMPLE[format]);
      return loadPolicy(path).policy;
    });
    expect(loaded[1]).toEqual(loaded[0]!);
    expect(loaded[2]).toEqual(loaded[0]!);
  });

  test("inline JSON is accepted when the value starts with {", () => {
    expect(loadPolicy('{"network": "all"}')).toMatchObject({
      source: "inline policy",
      policy: { network: "all" },
      dialect: "cordon",
    });
  });

  test("runok's SandboxPolicy: every field but read_deny_paths required; relative denies under each root", () => {
    const { policy, dialect } = interpretPolicy(
      {
        writable_roots: ["/a", "/b/"],
        read_only_subpaths: ["/a/.git"],
        read_deny_paths: ["/s", ".env", "*.pem", "~/.ssh"],
        network_allowed: true,
        some_future_field: { x: 1 },
      },
      "x",
    );
    expect(dialect).toBe("runok");
    expect(policy).toEqual({
      write: ["/a", "/b/"],
      denyWrite: ["/a/.git"],
      denyRead: ["/s", ".env", "/a/.env", "/b/.env", "*.pem", "~/.ssh"],
      network: "all",
    });
    const minimal = { writable_roots: [], read_only_subpaths: [], network_allowed: false };
    expect(interpretPolicy(minimal, "x").policy.network).toBe("none");
    expect(() => interpretPolicy({ writable_roots: [], read_only_subpaths: [] }, "x")).toThrow(/network_allowed/);
    expect(() => interpretPolicy({ network_allowed: false }, "x")).toThrow(/writable_roots", "read_only_subpaths/);
  });

  test("runok's SandboxPolicy: a write root in /tmp, or holding it, leaves /tmp the host's", () => {
    const policyOf = (roots: string[]) =>
      interpretPolicy({ writable_roots: roots, read_only_subpaths: [], network_allowed: false }, "x", { cwd: "/w" })
        .policy.tmp;
    expect(policyOf(["/tmp/p"])).toBe("host");
    expect(policyOf(["/tmp"])).toBe("host");
    expect(policyOf(["/"])).toBe("host");
    expect(policyOf(["/home/p", "/tmpfoo"])).toBeUndefined();
    expect(policyOf(["p"])).toBeUndefined();
  });

  test("runok's preset shape, and its deprecated writable/deny spelling", () => {
    const { policy } = interpretPolicy(
      { fs: { read: { deny: ["/s"] }, write: { allow: ["/a"], deny: ["/a/.git"] } }, network: { allow: false } },
      "x",
    );
    expect(policy).toEqual({ write: ["/a"], denyWrite: ["/a/.git"], denyRead: ["/s"], network: "none" });
    expect(interpretPolicy({ fs: {} }, "x").policy.network).toBe("all");
    const legacy = interpretPolicy({ fs: { writable: ["/a"], deny: ["/a/.git"] } }, "x").policy;
    expect(legacy).toEqual({ write: ["/a"], denyWrite: ["/a/.git"], denyRead: [], network: "all" });
    expect(() => interpretPolicy({ fs: { writable: ["/a"], write: {} } }, "x")).toThrow(/mixes/);
    expect(() => interpretPolicy({ fs: { read: { allow: ["/a"] } } }, "x")).toThrow(/fs.read.allow/);
  });

  const errorOf = (thunk: () => unknown): string => {
    try {
      thunk();
    } catch (error) {
      expect(error).toBeInstanceOf(CordonError);
      return (error as Error).message;
    }
    throw new Error("no error");
  };

  test("bad input names the source, the field and the value", () => {
    expect(errorOf(() => interpretPolicy({ write: 3 }, "p.yaml"))).toBe(
      "p.yaml: write: must be a list of paths (got 3)",
    );
    expect(errorOf(() => interpretPolicy({ wirte: ["."] }, "p.yaml"))).toBe('p.yaml: unknown field "wirte"');
    expect(errorOf(() => interpretPolicy({ denyRead: ["a\0b"] }, "p"))).toContain("NUL");
    expect(errorOf(() => interpretPolicy({ network: "some" }, "p"))).toContain('network: must be "none" or "all"');
    expect(errorOf(() => interpretPolicy({ env: { set: { A: 1 } } }, "p"))).toContain("env.set.A");
    expect(errorOf(() => interpretPolicy({ protectGit: "yes" }, "p"))).toContain("protectGit: must be true or false");
    expect(errorOf(() => interpretPolicy({ protectFiles: ["a/b"] }, "p"))).toContain("must be a single name");
    expect(errorOf(() => interpretPolicy({ releaseFiles: [".."] }, "p"))).toContain("must not be . or ..");
    expect(errorOf(() => interpretPolicy([], "p"))).toContain("must be an object");
    expect(errorOf(() => parseText("a: [", "yaml", "p.yaml"))).toContain("not valid YAML");
    expect(errorOf(() => parseText("a = ", "toml", "p.toml"))).toContain("not valid TOML");
    expect(errorOf(() => loadPolicy(join(dir, "missing.yaml")))).toContain("cannot be read");
    expect(errorOf(() => composePolicy({ profile: "nope", flags: {} }))).toContain("unknown profile");
  });

  test("a fuzzed few thousand malformed policies only ever give a CordonError", () => {
    const values: unknown[] = [
      null,
      0,
      -1,
      1.5,
      "",
      "x",
      "\0",
      true,
      [],
      {},
      [1],
      ["a\0"],
      { a: 1 },
      "~",
      "*".repeat(300),
    ];
    const keys = [
      "write",
      "denyWrite",
      "denyRead",
      "network",
      "env",
      "mode",
      "allowDegraded",
      "reveal",
      "profile",
      "profiles",
      "writable_roots",
      "read_only_subpaths",
      "read_deny_paths",
      "network_allowed",
      "fs",
      "bogus",
    ];
    let seed = 42;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;
    const makeValue = (depth: number): unknown => {
      if (depth > 2 || random(3) === 0) return pick(values);
      if (random(2) === 0) return Array.from({ length: random(3) }, () => makeValue(depth + 1));
      return Object.fromEntries(Array.from({ length: random(3) }, () => [pick(keys), makeValue(depth + 1)]));
    };
    for (let i = 0; i < 3000; i++) {
      const candidate = makeValue(0);
      try {
        const { policy } = interpretPolicy(candidate, "fuzz");
        composePolicy({ file: policy, flags: {} });
      } catch (error) {
        if (!(error instanceof CordonError)) throw new Error(`${JSON.stringify(candidate)} threw ${String(error)}`);
      }
    }
  });
});

describe("composition", () => {
  test("profile, then file, then flags: lists add up, network and mode are overridden", () => {
    const policy = composePolicy({
      profile: "workspace",
      file: { write: ["/data"], network: "none", env: { unset: ["X"] } },
      flags: { write: ["/more"], network: "all", env: { set: { Y: "1" } } },
    });
    expect(policy.write).toEqual([".", "/data", "/more"]);
    expect(policy.denyWrite).toEqual([]);
    expect(policy.protectGit).toBe(true);
    expect(policy.protectFiles).toEqual([".vscode", ".idea", ".mcp.json", ".claude", ".envrc"]);
    expect(policy.network).toBe("all");
    expect(policy.env).toEqual({ clear: false, allowList: false, set: { Y: "1" }, unset: ["X"] });
  });

  test("a file can define its own profile, chosen by --profile or by the file", () => {
    const file = { profiles: { build: { write: ["/out"] } }, profile: "build" };
    expect(composePolicy({ file, flags: {} }).write).toEqual(["/out"]);
    expect(composePolicy({ profile: "readonly", file, flags: {} }).write).toEqual([]);
  });

  test("the default profile is readonly", () => {
    expect(composePolicy({ flags: {} })).toEqual(applyLayer(EMPTY_POLICY, {}));
  });
});

describe("paths", () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir("cordon-paths-");
    mkdirSync(join(dir, "proj", ".git"), { recursive: true });
    mkdirSync(join(dir, "proj", "a", "b"), { recursive: true });
    writeFileSync(join(dir, "proj", "a", "one.key"), "k");
    writeFileSync(join(dir, "proj", "a", "b", "two.key"), "k");
    writeFileSync(join(dir, "proj", "a", "b", "keep.txt"), "k");
    symlinkSync("proj", join(dir, "link"));
    mkdirSync(join(dir, "home", ".ssh"), { recursive: true });
    writeFileSync(join(dir, "home", ".ssh", "id_rsa"), "secret");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const resolve = (layer: Parameters<typeof applyLayer>[1]) =>
    resolvePolicy(applyLayer(EMPTY_POLICY, layer), { cwd: join(dir, "proj"), home: join(dir, "home"), env: {} });

  test("relative paths resolve against cwd, ~ against home, and are canonical", () => {
    const policy = resolve({ write: [".", `${dir}/link`], denyWrite: [".git"], denyRead: ["~/.ssh"] });
    expect(policy.writeRoots).toEqual([join(dir, "proj")]);
    expect(policy.denyWrite).toEqual([{ path: join(dir, "proj", ".git"), kind: "dir", origin: ".git" }]);
    expect(policy.denyRead.map((entry) => entry.path)).toContain(join(dir, "home", ".ssh"));
  });

  test("globs: ** ? [..] {a,b}; a relative glob matches under each write root", () => {
    const policy = resolve({ write: ["."], denyRead: ["**/*.key"] });
    expect(
      policy.denyRead
        .map((entry) => entry.path)
        .filter((path) => path.endsWith(".key"))
        .sort(),
    ).toEqual([join(dir, "proj", "a", "b", "two.key"), join(dir, "proj", "a", "one.key")].sort());
    expect(isGlob("a/{b,c}")).toBe(true);
    expect(isGlob("a/b")).toBe(false);
    expect(splitGlob("/x/y/*/z")).toEqual({ base: "/x/y", rest: "*/z" });
  });

  test("past the match limit cordon refuses rather than dropping matches", () => {
    const budget = new GlobBudget();
    for (let i = 0; i < GLOB_MATCH_LIMIT; i++) budget.take("x");
    expect(() => budget.take("x")).toThrow(CordonError);
    expect(expandGlob(join(dir, "proj"), "**/*.key", new GlobBudget()).matches.length).toBe(2);
  });

  test("a write root through a symlink inside a write root is refused", () => {
    symlinkSync("../home", join(dir, "proj", "build"));
    try {
      expect(() => resolve({ write: [".", "build"] })).toThrow(/symlink/);
    } finally {
      rmSync(join(dir, "proj", "build"));
    }
  });

  test("a deny path given as a symlink protects the link and its target", () => {
    symlinkSync("a", join(dir, "proj", "alias"));
    try {
      const policy = resolve({ write: ["."], denyWrite: ["alias"] });
      expect(policy.denyWrite.map((entry) => [entry.kind, entry.path])).toEqual([
        ["symlink", join(dir, "proj", "alias")],
        ["dir", join(dir, "proj", "a")],
      ]);
    } finally {
      rmSync(join(dir, "proj", "alias"));
    }
  });

  // Outside the write roots too: the plan says why it needs no mount there (test/plan/deny-mounts.test.ts).
  test("a deny path that does not exist yet is kept, canonical, inside a write root or not", () => {
    const policy = resolve({ write: ["."], denyWrite: [".env.local", "/nonexistent-outside/x"] });
    const project = join(dir, "proj");
    expect(policy.denyWrite).toEqual([
      { path: join(project, ".env.local"), kind: "missing", origin: ".env.local", existing: project },
      { path: "/nonexistent-outside/x", kind: "missing", origin: "/nonexistent-outside/x", existing: "/" },
    ]);
    expect(canonicalMaybeMissing(join(dir, "link", "nope", "x"))).toEqual({
      path: join(project, "nope", "x"),
      exists: false,
      existing: project,
    });
  });

  test("secure defaults hide what exists, and each can be revealed by name", () => {
    expect(resolve({}).denyRead).toContainEqual({
      path: join(dir, "home", ".ssh"),
      kind: "dir",
      origin: "default:ssh",
    });
    expect(resolve({ reveal: ["ssh"] }).denyRead.map((entry) => entry.origin)).not.toContain("default:ssh");
  });

  test("a working directory or write root inside a hidden directory is refused", () => {
    expect(() => resolve({ write: ["~/.ssh"] })).toThrow(/--reveal ssh/);
  });
});

test("docs/policy.md is generated from the schema and has not drifted", () => {
  expect(readFileSync(join(REPO, "docs", "policy.md"), "utf8")).toBe(policyReference());
});
