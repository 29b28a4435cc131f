// The deny-glob walk: what it matches, what it prunes, what it skips (a
// directory the user cannot list) and what it refuses (a name that is not
// UTF-8 where the pattern could meet it, a directory the user owns but
// cannot list).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CordonError } from "../../src/errors.ts";
import { expandGlob, GlobBudget, type GlobExpansion } from "../../src/policy/glob.ts";
import { commandLine, isRoot, NOBODY, REPO, scratchDir } from "../helpers/cordon.ts";

/** A path whose last component is given as bytes (latin1: one character per byte). */
const bytePath = (dir: string, latin1: string) => Buffer.from(`${dir}/${latin1}`, "latin1");

const expand = (base: string, pattern: string) => expandGlob(base, pattern, new GlobBudget());
const relative = (base: string, expansion: GlobExpansion) =>
  expansion.matches.map((path) => path.slice(base.length + 1));

/** The CordonError `run` throws, for its message and hint. */
function refusal(run: () => unknown): CordonError {
  try {
    run();
  } catch (error) {
    if (error instanceof CordonError) return error;
    throw error;
  }
  throw new Error("expected a CordonError");
}

describe("matches", () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir("cordon-glob-");
    for (const sub of ["a/b/c", "a/.git/x/.git", ".hidden/k", "sec", "elsewhere/.git"]) {
      mkdirSync(join(dir, sub), { recursive: true });
    }
    for (const file of ["a/one.key", "a/b/two.key", "a/b/c/three.pem", ".hidden/k/id.pem", "sec/.env", "top.pem"]) {
      writeFileSync(join(dir, file), "");
    }
    symlinkSync("elsewhere", join(dir, "link"));
    symlinkSync("nowhere", join(dir, "dangling.pem"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("** reaches every depth and dot names; matches come sorted", () => {
    expect(relative(dir, expand(dir, "**/*.pem"))).toEqual(
      ["a/b/c/three.pem", "dangling.pem", "top.pem", ".hidden/k/id.pem"].sort(),
    );
    expect(relative(dir, expand(dir, "**/.git"))).toEqual(["a/.git", "a/.git/x/.git", "elsewhere/.git"]);
  });

  test("a symlink is a leaf: matched itself, even dangling, never walked through", () => {
    expect(relative(dir, expand(dir, "**/link"))).toEqual(["link"]);
    expect(expand(dir, "link/*").matches).toEqual([]);
    expect(relative(dir, expand(dir, "*.pem"))).toContain("dangling.pem");
  });

  test("literal and one-component steps prune; braces, classes and .. keep their meaning", () => {
    expect(relative(dir, expand(dir, "a/*/*.key"))).toEqual(["a/b/two.key"]);
    expect(relative(dir, expand(dir, "{a/b,sec}/*"))).toEqual(["a/b/c", "a/b/two.key", "sec/.env"]);
    expect(relative(dir, expand(dir, "[st]*"))).toEqual(["sec", "top.pem"]);
    expect(relative(dir, expand(dir, "./a//b/*.key"))).toEqual(["a/b/two.key"]);
    // A leading .. climbs out of the base, as the glob says.
    expect(expand(join(dir, "a"), "../*.pem").matches).toEqual([join(dir, "dangling.pem"), join(dir, "top.pem")]);
  });

  test("a base that is not a directory matches nothing", () => {
    expect(expand(join(dir, "top.pem"), "*")).toEqual({ matches: [], skipped: [] });
    expect(expand(join(dir, "missing"), "*")).toEqual({ matches: [], skipped: [] });
  });
});

describe("names that are not UTF-8", () => {
  let dir: string;
  beforeEach(() => (dir = scratchDir("cordon-glob-bytes-")));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("a directory on the way to a match is refused, named with its bytes escaped", () => {
    mkdirSync(bytePath(dir, "\xff"));
    mkdirSync(bytePath(dir, "\xff/.git"));
    const error = refusal(() => expand(dir, "**/.git"));
    expect(error.message).toContain(`${dir}/\\xff`);
    expect(error.message).toContain("**/.git");
    expect(error.hint).toBe("rename it, or deny its parent directory by name");
  });

  test("a file the pattern could match is refused; one it cannot match is passed over", () => {
    writeFileSync(bytePath(dir, "sec\xe9.pem"), "");
    writeFileSync(bytePath(dir, "caf\xe9.txt"), "");
    writeFileSync(join(dir, "ok.pem"), "");
    expect(refusal(() => expand(dir, "**/*.pem")).message).toContain("sec\\xe9.pem");
    expect(relative(dir, expand(dir, "**/*.key"))).toEqual([]);
    expect(refusal(() => expand(dir, "*.txt")).message).toContain("caf\\xe9.txt");
    expect(relative(dir, expand(dir, "ok.*"))).toEqual(["ok.pem"]);
  });

  test("a name a literal step cannot be is passed over: only its own walk could meet it", () => {
    mkdirSync(bytePath(dir, "\xff"));
    mkdirSync(join(dir, "a"));
    writeFileSync(join(dir, "a", "k.pem"), "");
    expect(relative(dir, expand(dir, "a/*.pem"))).toEqual(["a/k.pem"]);
    expect(() => expand(dir, "*/*.pem")).toThrow(CordonError);
  });

  test("U+FFFD itself is a character like any other", () => {
    writeFileSync(join(dir, "x\ufffd.pem"), "");
    expect(relative(dir, expand(dir, "*.pem"))).toEqual(["x\ufffd.pem"]);
  });
});

/** expandGlob as the unprivileged user, in a child process: root reads everything. */
function expandAsNobody(base: string, pattern: string): { result?: GlobExpansion; error?: string } {
  const script =
    `import { expandGlob, GlobBudget } from ${JSON.stringify(join(REPO, "src/policy/glob.ts"))};` +
    `try { console.log(JSON.stringify({ result: expandGlob(process.argv[1], process.argv[2], new GlobBudget()) })) }` +
    `catch (error) { console.log(JSON.stringify({ error: error.message })) }`;
  const child = Bun.spawnSync(commandLine([process.execPath, "-e", script, base, pattern], true), {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (child.exitCode !== 0) throw new Error(`expandGlob as nobody failed: ${child.stderr.toString()}`);
  return JSON.parse(child.stdout.toString()) as { result?: GlobExpansion; error?: string };
}

describe("directories the user cannot list", () => {
  let dir: string;
  beforeEach(() => {
    dir = scratchDir("cordon-glob-perm-", isRoot ? NOBODY : undefined);
    mkdirSync(join(dir, "open"));
    writeFileSync(join(dir, "open", "a.pem"), "");
  });
  afterEach(() => {
    // Unprivileged, the test's own mode-000 directory must be opened before it can be removed.
    for (const sub of ["db", "own", "noread", "nosearch"]) {
      if (existsSync(join(dir, sub))) chmodSync(join(dir, sub), 0o755);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A directory under `dir` holding a .pem file, owned by `owner`, with `mode`. */
  const lockedDir = (name: string, owner: number, mode: number) => {
    const path = join(dir, name);
    mkdirSync(path);
    writeFileSync(join(path, "inner.pem"), "");
    chownSync(path, owner, owner);
    chmodSync(path, mode);
    return path;
  };

  test.skipIf(!isRoot)(
    "another user's directory at 0700, 0711 (no read) or 0744 (no search) is skipped, and named",
    () => {
      const db = lockedDir("db", 0, 0o700);
      const noread = lockedDir("noread", 0, 0o711);
      const nosearch = lockedDir("nosearch", 0, 0o744);
      const { result, error } = expandAsNobody(dir, "**/*.pem");
      expect(error).toBeUndefined();
      expect(result).toEqual({ matches: [join(dir, "open", "a.pem")], skipped: [db, noread, nosearch] });
    },
  );

  test.skipIf(!isRoot)("a directory nobody owns but cannot list is refused: it could chmod it open", () => {
    const own = lockedDir("own", NOBODY, 0o000);
    const { error } = expandAsNobody(dir, "**/*.pem");
    expect(error).toContain(`cannot look inside ${own}, which you own`);
  });

  test.skipIf(isRoot)("as an unprivileged user: an own directory at mode 000 is refused", () => {
    const own = lockedDir("own", process.getuid!(), 0o000);
    expect(refusal(() => expand(dir, "**/*.pem")).hint).toBe(
      `make it readable (chmod u+rx ${own}), or deny it by name`,
    );
  });

  test.skipIf(!isRoot)("root may read everything, so it skips nothing", () => {
    lockedDir("db", NOBODY, 0o000);
    expect(expand(dir, "**/*.pem")).toEqual({
      matches: [join(dir, "db", "inner.pem"), join(dir, "open", "a.pem")],
      skipped: [],
    });
  });
});
