// --deny-write and --deny-read in landlock-only mode, enforced by Landlock
// alone (src/landlock/deny.ts), against the real binary, as root and as
// nobody. Each attack is first shown to work without cordon; then cordon must
// make it fail and leave no effect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cordon, isRoot, NOBODY, run, scratchDir, type RunOptions, modeArgs } from "../helpers/cordon.ts";

const SECRET = "top-secret-bytes-4f1c";
const KEY = "private-key-bytes-9a2e";
const CONFIG = "[core]\n\tbare = false\n";

function populate(root: string, owner?: number): void {
  mkdirSync(join(root, ".git"));
  writeFileSync(join(root, ".git", "config"), CONFIG);
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "secret.txt"), SECRET);
  mkdirSync(join(root, "secrets"));
  writeFileSync(join(root, "secrets", "key"), KEY);
  writeFileSync(join(root, "public.txt"), "public\n");
  symlinkSync("../secret.txt", join(root, "src", "alias"));
  if (owner !== undefined) run(["chown", "-R", `${owner}:${owner}`, root]);
}

// A deny path that does not exist yet needs the policy layer to accept it (issue 4, section 4).
function missingDenyPathsRefused(): string | undefined {
  const result = cordon(["explain", ...modeArgs("landlock"), "--deny-write", "/cordon-probe-does-not-exist.env"]);
  return result.exitCode === 0
    ? undefined
    : `the policy layer refuses a deny path that does not exist yet: ${result.stderr.trim()}`;
}

describe("landlock-only mode enforces denies", () => {
  let rootDir: string;
  let nobodyDir: string;
  beforeAll(() => {
    rootDir = scratchDir("cordon-lldeny-");
    populate(rootDir);
    nobodyDir = scratchDir("cordon-lldeny-nobody-", NOBODY);
    populate(nobodyDir, NOBODY);
  });
  afterAll(() => {
    rmSync(rootDir, { recursive: true, force: true });
    rmSync(nobodyDir, { recursive: true, force: true });
  });

  for (const asNobody of isRoot ? [false, true] : [false]) {
    const who = asNobody ? "as nobody" : "as the invoking user";
    const project = () => (asNobody ? nobodyDir : rootDir);
    const at = (...parts: string[]) => join(project(), ...parts);
    const opts = (): RunOptions => ({ cwd: project(), asNobody });
    const ll = (args: string[]) => cordon([...modeArgs("landlock"), "-q", ...args], opts());
    const sh = (script: string) => run(["sh", "-c", script], opts());
    const output = (result: { stdout: string; stderr: string }) => result.stdout + result.stderr;

    test(`--deny-write .git: .git stays read-only, its sibling writable (${who})`, () => {
      expect(sh("touch .git/base && echo x >> .git/config").exitCode).toBe(0);
      rmSync(at(".git", "base"));
      writeFileSync(at(".git", "config"), CONFIG);

      const touch = ll(["-w", ".", "--deny-write", ".git", "--", "touch", ".git/x"]);
      expect(touch.exitCode).toBe(1);
      expect(existsSync(at(".git", "x"))).toBe(false);
      const append = ll(["-w", ".", "--deny-write", ".git", "--", "sh", "-c", "echo pwned >> .git/config"]);
      expect(append.exitCode).not.toBe(0);
      expect(readFileSync(at(".git", "config"), "utf8")).toBe(CONFIG);
      const src = ll(["-w", ".", "--deny-write", ".git", "--", "sh", "-c", "touch src/x && cat .git/config"]);
      expect(src.exitCode).toBe(0);
      expect(src.stdout).toBe(CONFIG);
      expect(existsSync(at("src", "x"))).toBe(true);
      rmSync(at("src", "x"));
    });

    for (const writable of [false, true]) {
      const where = writable ? "inside a write root" : "under the read-only root";
      test(`--deny-read hides a file and a directory ${where}; the neighbour stays readable (${who})`, () => {
        expect(output(sh("cat secret.txt secrets/key"))).toContain(SECRET);
        const result = ll([
          ...(writable ? ["-w", "."] : []),
          "--deny-read",
          "secret.txt",
          "--deny-read",
          "secrets/",
          "--",
          "sh",
          "-c",
          "cat secret.txt; cat secrets/key; ls secrets; cat public.txt; echo x > secret.txt",
        ]);
        expect(result.exitCode).not.toBe(0);
        expect(result.stdout).toContain("public");
        expect(output(result)).not.toContain(SECRET);
        expect(output(result)).not.toContain(KEY);
        // Its parents stay listable, so the names in it show (README, Modes): never the contents.
        expect(result.stdout).toContain("key\n");
        expect(readFileSync(at("secret.txt"), "utf8")).toBe(SECRET);
      });
    }

    test(`--deny-read holds through a symlink, old or made in the sandbox (${who})`, () => {
      expect(output(sh("cat src/alias"))).toContain(SECRET);
      const result = ll([
        "-w",
        ".",
        "--deny-read",
        "secret.txt",
        "--",
        "sh",
        "-c",
        "cat src/alias; ln -s ../secret.txt src/made && cat src/made",
      ]);
      expect(result.exitCode).not.toBe(0);
      expect(output(result)).not.toContain(SECRET);
      rmSync(at("src", "made"), { force: true });
    });

    test(`a denied file cannot be removed and recreated with new content (${who})`, () => {
      const result = ll([
        "-w",
        ".",
        "--deny-write",
        "public.txt",
        "--",
        "sh",
        "-c",
        "rm -f public.txt; echo forged > public.txt",
      ]);
      expect(result.exitCode).not.toBe(0);
      expect(readFileSync(at("public.txt"), "utf8")).toBe("public\n");
    });

    test.skipIf(missingDenyPathsRefused() !== undefined)(
      `a deny path that does not exist yet cannot be created (${who})`,
      () => {
        expect(sh("echo x > .env.local").exitCode).toBe(0);
        rmSync(at(".env.local"));
        for (const deny of ["--deny-write", "--deny-read"]) {
          const result = ll(["-w", ".", deny, ".env.local", "--", "sh", "-c", "echo planted > .env.local"]);
          expect(result.exitCode).not.toBe(0);
          expect(existsSync(at(".env.local"))).toBe(false);
        }
      },
    );

    test(`a denied directory cannot be renamed away (${who})`, () => {
      expect(sh("mv .git .git-moved && mv secrets secrets-moved").exitCode).toBe(0);
      renameSync(at(".git-moved"), at(".git"));
      renameSync(at("secrets-moved"), at("secrets"));

      for (const [deny, dir] of [
        ["--deny-write", ".git"],
        ["--deny-read", "secrets"],
      ] as const) {
        const result = ll(["-w", ".", deny, dir, "--", "sh", "-c", `mv ${dir} gone || mv ${dir} src/gone`]);
        expect(result.exitCode).not.toBe(0);
        expect(existsSync(at(dir))).toBe(true);
        expect(existsSync(at("gone"))).toBe(false);
        expect(existsSync(at("src", "gone"))).toBe(false);
      }
    });

    test(`a hard link cannot open a way around a deny (${who})`, () => {
      expect(sh("ln .git/config src/base-link && ln secret.txt src/base-secret").exitCode).toBe(0);
      rmSync(at("src", "base-link"));
      rmSync(at("src", "base-secret"));

      const write = ll([
        "-w",
        ".",
        "--deny-write",
        ".git",
        "--",
        "sh",
        "-c",
        "ln .git/config src/link && echo pwned >> src/link",
      ]);
      expect(write.exitCode).not.toBe(0);
      expect(existsSync(at("src", "link"))).toBe(false);
      expect(readFileSync(at(".git", "config"), "utf8")).toBe(CONFIG);
      const read = ll(["-w", ".", "--deny-read", "secret.txt", "--", "sh", "-c", "ln secret.txt src/s; cat src/s"]);
      expect(read.exitCode).not.toBe(0);
      expect(output(read)).not.toContain(SECRET);
      expect(existsSync(at("src", "s"))).toBe(false);
    });
  }

  test("explain reports what the denies cost in landlock-only mode", () => {
    const result = cordon([
      "explain",
      ...modeArgs("landlock"),
      "-w",
      rootDir,
      "--deny-write",
      join(rootDir, ".git"),
      "--deny-read",
      join(rootDir, "secrets"),
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      `creating entries next to denied paths: no entries can be created, removed or renamed directly in ${rootDir}`,
    );
    expect(result.stdout).toContain(`names in hidden directories: the names of the entries in ${rootDir}/secrets`);
    expect(result.stdout).toContain("metadata outside the write roots");
  });

  test("a run warns that Landlock cannot protect metadata (chmod, utimes) outside the write roots", () => {
    const result = cordon(["-v", ...modeArgs("landlock"), "--deny-read", join(rootDir, "secret.txt"), "--", "true"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: landlock-only mode does not enforce: .*metadata outside the write roots/);
  });
});
