// Paths are bytes (issue 12, item 6), against the real binary: a policy path
// or a glob match that is not UTF-8 is refused (exit 125) and nothing is
// created under a decoded name; a directory the user cannot list is skipped
// by the deny globs and named under -v (item 8); the command's own arguments
// still reach it byte for byte. Bun.spawn takes strings, so raw bytes are
// made by sh's printf inside the command line.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CORDON,
  cordon,
  isRoot,
  NOBODY,
  requireBinary,
  run,
  scratchDir,
  type RunResult,
  modeArgs,
} from "../helpers/cordon.ts";

/** The part of `explain --json` these tests read. */
interface ExplainJson {
  policy: { denyRead: { path: string }[]; unreadableGlobDirs: string[] };
}

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

/** A path whose last component is given as bytes (latin1: one character per byte). */
const bytePath = (dir: string, latin1: string) => Buffer.from(`${dir}/${latin1}`, "latin1");

/** Every name below `dir`, as bytes in latin1, sorted: what a run must leave as it found it. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { encoding: "latin1", recursive: true }) as string[]).sort();
}

/**
 * Runs cordon through sh, so that `$(printf '\377')` in `script` becomes a
 * raw byte; "$0" is cordon and "$1" is `dir`.
 */
function cordonSh(script: string, dir: string): RunResult {
  requireBinary();
  return run(["sh", "-c", `exec "$0" ${script}`, CORDON, dir], { cwd: dir });
}

describe("paths that are not UTF-8", () => {
  let dir: string;
  beforeEach(() => (dir = scratchDir("cordon-bytes-")));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test("--deny-read given as raw bytes is refused, naming the option, and nothing is created", () => {
    writeFileSync(bytePath(dir, "sec\xe9.env"), "SECRET\n");
    const before = tree(dir);
    const result = cordonSh(
      `-w "$1" --deny-read "$1/$(printf 'sec\\351.env')" -- cat "$1/$(printf 'sec\\351.env')"`,
      dir,
    );
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`--deny-read ${dir}/sec\\xe9.env: not valid UTF-8`);
    expect(result.stdout).not.toContain("SECRET");
    // In particular no "sec\uFFFD.env", as a file or a placeholder directory.
    expect(tree(dir)).toEqual(before);
  });

  test("a \\xff directory holding .git under --deny-write '**/.git' is refused and named", () => {
    mkdirSync(bytePath(dir, "\xff"));
    mkdirSync(bytePath(dir, "\xff/.git"));
    const before = tree(dir);
    const result = cordon(["-w", dir, "--deny-write", "**/.git", "--", "touch", `${dir}/ran`], { cwd: dir });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`${dir}/\\xff: its name is not valid UTF-8`);
    expect(result.stderr).toContain("hint: rename it, or deny its parent directory by name");
    expect(tree(dir)).toEqual(before);
  });

  test("a UTF-8 path through a symlink to a directory that is not UTF-8 is refused too", () => {
    mkdirSync(bytePath(dir, "\xff"));
    writeFileSync(bytePath(dir, "\xff/.env"), "SECRET\n");
    symlinkSync(Buffer.from("\xff", "latin1"), join(dir, "link"));
    const before = tree(dir);
    const refusals: [string[], string][] = [
      // A write root is walked symlink by symlink (every link of a chain is checked): the link itself is named.
      [["-w", join(dir, "link")], `${dir}/link points to \\xff, which is not valid UTF-8`],
      // Outside every write root, where the link is followed.
      [["--deny-read", join(dir, "link", ".env")], `${dir}/link points to \\xff, which is not valid UTF-8`],
      [["--deny-read", join(dir, "link", "missing", ".env")], `${dir}/link points to \\xff`],
    ];
    for (const [args, message] of refusals) {
      const result = cordon([...args, "--", "true"], { cwd: dir });
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toContain(message);
    }
    expect(tree(dir)).toEqual(before);
  });

  test("a policy file must be UTF-8; a U+FFFD written in it is a character like any other", () => {
    writeFileSync(join(dir, "bad.yaml"), Buffer.from('write: ["."]\ndenyRead: ["sec\xe9.env"]\n', "latin1"));
    const bad = cordon(["-p", join(dir, "bad.yaml"), "--", "true"], { cwd: dir });
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain("is not valid UTF-8: byte 28 (line 2) is 0xe9");
    writeFileSync(join(dir, "good.yaml"), 'write: ["."]\ndenyRead: ["sec\ufffd.env"]\n');
    writeFileSync(join(dir, "sec\ufffd.env"), "SECRET\n");
    const good = cordon(["explain", "--json", "-p", join(dir, "good.yaml")], { cwd: dir });
    expect(good.exitCode).toBe(0);
    const denied = (JSON.parse(good.stdout) as ExplainJson).policy.denyRead.map((entry) => entry.path);
    expect(denied).toContain(join(dir, "sec\ufffd.env"));
  });

  test("a $HOME that is not UTF-8 is refused: the secure defaults are found through it", () => {
    const refused = run(["sh", "-c", `HOME="$1/$(printf '\\377')" exec "$0" -- true`, CORDON, dir], { cwd: dir });
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toContain(`$HOME (${dir}/\\xff) is not valid UTF-8`);
  });
});

describe.each(MODES)("the command's own bytes in %s mode", (mode) => {
  test("arguments after -- and from the first operand on reach the command byte for byte", () => {
    requireBinary();
    for (const form of ["--", "-q"]) {
      const child = Bun.spawnSync(
        ["sh", "-c", `exec "$0" ${modeArgs(mode).join(" ")} ${form} printf %s "$(printf 'x\\377y\\351')"`, CORDON],
        { stdout: "pipe", stderr: "pipe" },
      );
      expect(child.exitCode).toBe(0);
      expect([...child.stdout]).toEqual([0x78, 0xff, 0x79, 0xe9]);
    }
  });
});

describe.each(MODES)("directories the user cannot list, in %s mode", (mode) => {
  let dir: string;
  beforeEach(() => {
    dir = scratchDir("cordon-unlistable-", isRoot ? NOBODY : undefined);
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "key.pem"), "PRIVATE\n");
    // A root-owned database volume: nobody may not look inside.
    mkdirSync(join(dir, "db"));
    writeFileSync(join(dir, "db", "server.pem"), "");
    chmodSync(join(dir, "db"), 0o700);
    if (isRoot) chownSync(join(dir, "src"), NOBODY, NOBODY);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test.skipIf(!isRoot)("a glob deny skips another user's 0700 directory, runs, and -v names it", () => {
    const args = [...modeArgs(mode), "-w", dir, "--deny-read", "**/*.pem"];
    const quiet = cordon([...args, "--", "true"], { cwd: dir, asNobody: true });
    expect(quiet.exitCode).toBe(0);
    // Said under -v only (landlock-only mode has its own warning line).
    expect(quiet.stderr).not.toContain("did not look inside");
    const verbose = cordon(["-v", ...args, "--", "true"], { cwd: dir, asNobody: true });
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stderr).toContain(`did not look inside a directory you may not list, so nothing in them is denied:`);
    expect(verbose.stderr).toContain(join(dir, "db"));
    // What the glob could see is still denied; explain says what it could not.
    const explained = cordon(["explain", "--json", ...args], { cwd: dir, asNobody: true });
    const policy = (JSON.parse(explained.stdout) as ExplainJson).policy;
    expect(policy.denyRead.map((entry) => entry.path)).toContain(join(dir, "src", "key.pem"));
    expect(policy.unreadableGlobDirs).toEqual([join(dir, "db")]);
  });
});
