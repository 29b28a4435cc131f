// Denies compiled into Landlock grants (src/landlock/deny.ts), on fake trees.
// The central check recomputes, for every path of the tree, the rights
// Landlock would give it (the union of the rules on it and its ancestors) and
// compares them with what the grants minus the denies say it should have.
import { describe, expect, test } from "bun:test";
import { FILE_RIGHTS, type FsRight } from "../../ffi/landlock.ts";
import { fsMask, fsRightsAt, NEWEST_KNOWN_ABI } from "../../src/landlock/abi.ts";
import {
  excludedRights,
  type DirEntry,
  type EntryKind,
  type Exclusion,
  type ListDirectory,
} from "../../src/landlock/deny.ts";
import {
  landlockRulesFor,
  MAX_PATH_RULES,
  rightsForGrant,
  type LandlockIntent,
  type LandlockPlan,
  type PathFact,
} from "../../src/landlock/rules.ts";
import { CordonError } from "../../src/errors.ts";

const FILE_MASK = fsMask(FILE_RIGHTS);
const mask = (...rights: FsRight[]) => fsMask(rights);

/** A fake tree from absolute paths; parents are implied directories. */
function fakeTree(spec: Record<string, EntryKind>): {
  kinds: Map<string, EntryKind>;
  list: ListDirectory;
  calls: string[];
} {
  const kinds = new Map<string, EntryKind>([["/", "dir"]]);
  for (const [path, kind] of Object.entries(spec)) {
    const parts = path.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) kinds.set(`/${parts.slice(0, i).join("/")}`, "dir");
    kinds.set(path, kind);
  }
  const calls: string[] = [];
  const list: ListDirectory = (dir) => {
    calls.push(dir);
    if (kinds.get(dir) !== "dir") return undefined;
    const entries: DirEntry[] = [];
    for (const [path, kind] of kinds) {
      if (path === "/" || parentOf(path) !== dir) continue;
      entries.push({ name: path.slice(path.lastIndexOf("/") + 1), kind });
    }
    return entries;
  };
  return { kinds, list, calls };
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";
const within = (path: string, root: string) => path === root || root === "/" || path.startsWith(`${root}/`);
const strictlyWithin = (path: string, root: string) => path !== root && within(path, root);

/** The rights Landlock gives `path`: the union of the rules on it and on its ancestors. */
function effective(plan: LandlockPlan, path: string): bigint {
  return plan.pathRules.filter((rule) => within(path, rule.path)).reduce((acc, rule) => acc | rule.access, 0n);
}

/** The same for a file: only file rights mean anything on it. */
const effectiveFile = (plan: LandlockPlan, path: string) => effective(plan, path) & FILE_MASK;

interface Scenario {
  tree: Record<string, EntryKind>;
  readRoots?: string[];
  writeRoots?: string[];
  exclusions: Exclusion[];
}

function plan(scenario: Scenario, abi = NEWEST_KNOWN_ABI, list?: ListDirectory): LandlockPlan {
  const tree = fakeTree(scenario.tree);
  const dirs = (paths: string[]): PathFact[] => paths.map((path) => ({ path, kind: "dir" }));
  const intent: LandlockIntent = {
    readRoots: dirs(scenario.readRoots ?? ["/"]),
    writeRoots: dirs(scenario.writeRoots ?? []),
    devices: [],
    network: { allow: true, connectPorts: [], bindPorts: [] },
    exclusions: scenario.exclusions,
    listDirectory: list ?? tree.list,
  };
  return landlockRulesFor(intent, abi);
}

/**
 * Every existing path that is not above a deny gets exactly what its grants
 * minus its denies say; a path above a deny gets no more than that. Paths
 * behind symlinks are not part of the walk (the link's target is reached
 * through its own, real path).
 */
function expectEnforced(scenario: Scenario, abi = NEWEST_KNOWN_ABI): LandlockPlan {
  const result = plan(scenario, abi);
  const handled = fsMask(fsRightsAt(abi));
  const { kinds } = fakeTree(scenario.tree);
  const grants = [
    ...(scenario.readRoots ?? ["/"]).map((path) => ({ path, access: rightsForGrant("read", "dir", handled) })),
    ...(scenario.writeRoots ?? []).map((path) => ({ path, access: rightsForGrant("write", "dir", handled) })),
  ];
  for (const rule of result.pathRules) {
    expect(rule.access & ~handled).toBe(0n);
    const kind = kinds.get(rule.path);
    expect(kind).not.toBe("symlink");
    if (kind === "file" || kind === "other") expect(rule.access & ~FILE_MASK).toBe(0n);
  }
  for (const [path, kind] of kinds) {
    if (kind === "symlink" || [...kinds].some(([other, k]) => k === "symlink" && strictlyWithin(path, other))) continue;
    const kindMask = kind === "dir" ? handled : FILE_MASK;
    let expected = 0n;
    for (const grant of grants) {
      if (!within(path, grant.path)) continue;
      const denied = scenario.exclusions
        .filter((exclusion) => within(path, exclusion.path) && within(exclusion.path, grant.path))
        .reduce((acc, exclusion) => acc | excludedRights(exclusion.deny, handled), 0n);
      expected |= grant.access & ~denied;
    }
    expected &= kindMask;
    const actual = effective(result, path) & kindMask;
    const aboveDeny = scenario.exclusions.some((exclusion) => strictlyWithin(exclusion.path, path));
    if (aboveDeny) expect(actual & ~expected).toBe(0n);
    else expect({ path, rights: actual }).toEqual({ path, rights: expected });
  }
  return result;
}

const WRITE_ISH = mask(
  "WRITE_FILE",
  "REMOVE_DIR",
  "REMOVE_FILE",
  "MAKE_DIR",
  "MAKE_REG",
  "MAKE_SYM",
  "REFER",
  "TRUNCATE",
);
const CREATE = mask("MAKE_REG", "MAKE_DIR", "MAKE_SYM", "REMOVE_FILE", "REMOVE_DIR");

const PROJECT: Record<string, EntryKind> = {
  "/etc/passwd": "file",
  "/proj/.git/config": "file",
  "/proj/.git/hooks/pre-commit": "file",
  "/proj/src/main.ts": "file",
  "/proj/README": "file",
  "/proj/secret.txt": "file",
  "/proj/secrets/key": "file",
  "/proj/fifo": "other",
  "/proj/escape": "symlink",
  "/home/u/.ssh/id_rsa": "file",
  "/home/u/.bashrc": "file",
  "/home/u/code/x.c": "file",
  "/home/v/notes": "file",
  "/bin": "symlink",
  "/usr/bin/sh": "file",
};

describe("denies compiled into sibling grants", () => {
  test("without denies, each grant is one rule, as before", () => {
    const result = expectEnforced({ tree: PROJECT, writeRoots: ["/proj"], exclusions: [] });
    expect(result.pathRules.map((rule) => [rule.path, rule.grant, rule.walked])).toEqual([
      ["/", "read", false],
      ["/proj", "write", false],
    ]);
    expect(
      result.degradations.filter((gap) => gap.weakensSecurity === false && gap.feature.includes("denied")),
    ).toEqual([]);
  });

  test("deny-write .git inside a write root: siblings writable, .git read-only, the root loses entry creation", () => {
    const result = expectEnforced({
      tree: PROJECT,
      writeRoots: ["/proj"],
      exclusions: [{ path: "/proj/.git", deny: "write" }],
    });
    const write = rightsForGrant("write", "dir", result.handledFs);
    expect(effective(result, "/proj/.git/config") & WRITE_ISH).toBe(0n);
    expect(effective(result, "/proj/.git/hooks/new-file") & WRITE_ISH).toBe(0n);
    expect(effective(result, "/proj/.git/config") & mask("READ_FILE")).not.toBe(0n);
    expect(effective(result, "/proj/src")).toBe(write);
    expect(effective(result, "/proj/src/new-file")).toBe(write);
    expect(effectiveFile(result, "/proj/README")).toBe(write & FILE_MASK);
    expect(effective(result, "/proj") & CREATE).toBe(0n);
    expect(effective(result, "/proj") & mask("READ_DIR")).not.toBe(0n);
    // The read grant on / is untouched: a write deny takes nothing it gives.
    expect(result.pathRules.filter((rule) => rule.grant === "read").map((rule) => rule.path)).toEqual(["/"]);
    const cost = result.degradations.find((gap) => gap.feature === "creating entries next to denied paths");
    expect(cost?.weakensSecurity).toBe(false);
    expect(cost?.consequence).toContain("/proj ");
    expect(cost?.consequence).toContain("/proj/.git");
    expect(result.degradations.some((gap) => gap.feature.startsWith("listing"))).toBe(false);
    // The metadata gap (chmod and friends) is landlock-only's in general, named by planSandbox.
    expect(result.degradations.some((gap) => gap.name === "metadata")).toBe(false);
  });

  test("deny-read ~/.ssh under the read grant on /: siblings readable, ancestors and .ssh's names listable", () => {
    const result = expectEnforced({ tree: PROJECT, exclusions: [{ path: "/home/u/.ssh", deny: "read" }] });
    const read = rightsForGrant("read", "dir", result.handledFs);
    // READ_DIR on / covers everything: the names in ~/.ssh show, its files cannot be opened or run.
    expect(effective(result, "/home/u/.ssh")).toBe(mask("READ_DIR"));
    expect(effectiveFile(result, "/home/u/.ssh/id_rsa")).toBe(0n);
    expect(effectiveFile(result, "/home/u/.bashrc")).toBe(read & FILE_MASK);
    expect(effective(result, "/home/u/code/x.c")).toBe(read);
    expect(effective(result, "/home/v/notes")).toBe(read);
    expect(effective(result, "/etc/passwd")).toBe(read);
    for (const dir of ["/", "/home", "/home/u"]) expect(effective(result, dir) & mask("READ_DIR")).not.toBe(0n);
    expect(result.pathRules.find((rule) => rule.path === "/")?.access).toBe(mask("READ_DIR"));
    expect(result.degradations.some((gap) => gap.feature.startsWith("listing"))).toBe(false);
  });

  test("deny-read of a file and a directory inside a write root", () => {
    const result = expectEnforced({
      tree: PROJECT,
      writeRoots: ["/proj"],
      exclusions: [
        { path: "/proj/secret.txt", deny: "read" },
        { path: "/proj/secrets", deny: "read" },
      ],
    });
    expect(effectiveFile(result, "/proj/secret.txt")).toBe(0n);
    expect(effectiveFile(result, "/proj/secrets/key")).toBe(0n);
    expect(effective(result, "/proj/secrets/new")).toBe(mask("READ_DIR"));
    expect(effectiveFile(result, "/proj/README")).toBe(rightsForGrant("write", "file", result.handledFs));
    expect(effective(result, "/proj") & CREATE).toBe(0n);
    expect(effective(result, "/proj") & mask("READ_DIR")).not.toBe(0n);
  });

  test("nested denies: a read deny inside a write deny inside a write root", () => {
    const tree = { ...PROJECT, "/proj/sub/ok": "file", "/proj/sub/secret/x": "file" } as const;
    const result = expectEnforced({
      tree,
      writeRoots: ["/proj"],
      exclusions: [
        { path: "/proj/sub", deny: "write" },
        { path: "/proj/sub/secret", deny: "read" },
      ],
    });
    expect(effectiveFile(result, "/proj/sub/secret/x")).toBe(0n);
    expect(effective(result, "/proj/sub/secret") & ~mask("READ_DIR")).toBe(0n);
    expect(effectiveFile(result, "/proj/sub/ok")).toBe(mask("READ_FILE", "EXECUTE"));
    expect(effectiveFile(result, "/proj/src/main.ts")).toBe(rightsForGrant("write", "file", result.handledFs));
  });

  test("a deny path that does not exist yet cannot be created", () => {
    const result = expectEnforced({
      tree: PROJECT,
      writeRoots: ["/proj"],
      exclusions: [
        { path: "/proj/.env.local", deny: "read" },
        { path: "/proj/newdir/deeper", deny: "write" },
      ],
    });
    expect(
      result.pathRules.some((rule) => rule.path.startsWith("/proj/.env.local") || rule.path.startsWith("/proj/newdir")),
    ).toBe(false);
    // Creating either needs MAKE_REG or MAKE_DIR on /proj, which no rule gives.
    expect(effective(result, "/proj") & mask("MAKE_REG", "MAKE_DIR", "MAKE_SYM", "REFER")).toBe(0n);
    expect(effective(result, "/proj/src") & mask("MAKE_REG")).not.toBe(0n);
  });

  test("symlink children get no rule; files and other nodes only file rights", () => {
    const result = expectEnforced({
      tree: PROJECT,
      writeRoots: ["/proj"],
      exclusions: [
        { path: "/proj/.git", deny: "write" },
        { path: "/home/u/.ssh", deny: "read" },
      ],
    });
    expect(result.pathRules.some((rule) => rule.path === "/proj/escape" || rule.path === "/bin")).toBe(false);
    for (const path of ["/proj/fifo", "/proj/README", "/home/u/.bashrc"]) {
      const rules = result.pathRules.filter((rule) => rule.path === path);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) expect(rule.access & ~FILE_MASK).toBe(0n);
    }
  });

  test("walked rules are marked for stage 2 and never optional; grant roots are not walked", () => {
    const result = plan({ tree: PROJECT, writeRoots: ["/proj"], exclusions: [{ path: "/proj/.git", deny: "write" }] });
    const root = result.pathRules.filter((rule) => !rule.walked).map((rule) => rule.path);
    expect(root).toEqual(["/", "/proj"]);
    for (const rule of result.pathRules.filter((r) => r.walked)) expect(rule.optional).toBe(false);
  });

  test("a grant below a deny keeps its rights, like the deeper mount in bwrap mode", () => {
    const tree = { ...PROJECT, "/tmp/cordon-1/tmp/x": "file", "/tmp/other": "file" } as const;
    const result = expectEnforced({
      tree,
      writeRoots: ["/tmp/cordon-1/tmp"],
      exclusions: [{ path: "/tmp", deny: "read" }],
    });
    expect(effectiveFile(result, "/tmp/other")).toBe(0n);
    expect(effective(result, "/tmp/cordon-1/tmp/x")).toBe(rightsForGrant("write", "dir", result.handledFs));
  });

  test("only the directories on the way to a deny are listed", () => {
    const tree = fakeTree(PROJECT);
    plan(
      {
        tree: PROJECT,
        writeRoots: ["/proj"],
        exclusions: [
          { path: "/proj/.git/hooks", deny: "write" },
          { path: "/home/u/.ssh", deny: "read" },
        ],
      },
      7,
      tree.list,
    );
    expect([...new Set(tree.calls)].sort()).toEqual(["/", "/home", "/home/u", "/proj", "/proj/.git"]);
  });

  test("planning is pure: the same inputs give the same plan", () => {
    const scenario: Scenario = {
      tree: PROJECT,
      writeRoots: ["/proj"],
      exclusions: [
        { path: "/proj/.git", deny: "write" },
        { path: "/home/u/.ssh", deny: "read" },
      ],
    };
    expect(plan(scenario)).toEqual(plan(scenario));
  });

  test("a directory that cannot be listed gives its entries nothing, and says so", () => {
    const tree = fakeTree(PROJECT);
    const list: ListDirectory = (dir) => (dir === "/home/u" ? undefined : tree.list(dir));
    const result = plan({ tree: PROJECT, exclusions: [{ path: "/home/u/.ssh", deny: "read" }] }, 7, list);
    expect(effectiveFile(result, "/home/u/.ssh/id_rsa")).toBe(0n);
    expect(effectiveFile(result, "/home/u/.bashrc")).toBe(0n);
    expect(effective(result, "/home/v/notes")).not.toBe(0n);
    expect(
      result.degradations.find((gap) => gap.feature === "unlistable directories above denied paths")?.consequence,
    ).toContain("/home/u");
  });

  test(`more than ${MAX_PATH_RULES} rules is refused, never truncated`, () => {
    const wide: Record<string, EntryKind> = { "/proj/.git/config": "file" };
    for (let i = 0; i <= MAX_PATH_RULES; i++) wide[`/proj/f${i}`] = "file";
    const scenario: Scenario = {
      tree: wide,
      writeRoots: ["/proj"],
      exclusions: [{ path: "/proj/.git", deny: "write" }],
    };
    expect(() => plan(scenario)).toThrow(CordonError);
    expect(() => plan(scenario)).toThrow(/more than 20000 Landlock rules/);
  });

  for (let abi = 1; abi <= NEWEST_KNOWN_ABI; abi++) {
    test(`ABI ${abi}: rights are masked and every deny holds`, () => {
      expectEnforced(
        {
          tree: { ...PROJECT, "/proj/sub/secret/x": "file" },
          writeRoots: ["/proj"],
          exclusions: [
            { path: "/proj/.git", deny: "write" },
            { path: "/proj/secret.txt", deny: "read" },
            { path: "/proj/sub/secret", deny: "read" },
            { path: "/proj/.env.local", deny: "write" },
            { path: "/home/u/.ssh", deny: "read" },
          ],
        },
        abi,
      );
    });
  }
});
