// The git directories the checkout-token default covers (src/policy/git-dirs.ts):
// the start directories' repositories, every repository below the write roots
// within GIT_SEARCH, and their submodules, nested ones included.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GIT_SEARCH, gitDirsFor } from "../../src/policy/git-dirs.ts";
import { scratchDir } from "../helpers/cordon.ts";

let base: string;
const at = (...parts: string[]) => join(base, ...parts);

/** A bare-bones git directory: git itself needs no more than HEAD to call it one. */
function gitDir(...parts: string[]): string {
  mkdirSync(at(...parts), { recursive: true });
  writeFileSync(at(...parts, "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(at(...parts, "config"), "[core]\n");
  return at(...parts);
}

/** `d0/d1/…`, `count` directories. */
const deep = (count: number) => Array.from({ length: count }, (_, i) => `d${i}`);

beforeAll(() => {
  base = realpathSync(scratchDir("cordon-git-dirs-"));
  gitDir("ws", ".git");
  gitDir("ws", ".git", "modules", "lib");
  gitDir("ws", ".git", "modules", "libs", "nested-name");
  gitDir("ws", ".git", "modules", "lib", "modules", "inner");
  gitDir("ws", "tools", ".git");
  gitDir("ws", "node_modules", "dep", ".git");
  gitDir("ws", ...deep(GIT_SEARCH.depth), ".git");
  gitDir("ws", "x", ...deep(GIT_SEARCH.depth), ".git");
  gitDir("elsewhere", ".git");
  mkdirSync(at("ws", "wt"));
  writeFileSync(at("ws", "wt", ".git"), `gitdir: ${gitDir("main", ".git", "worktrees", "wt")}\n`);
  writeFileSync(at("main", ".git", "worktrees", "wt", "commondir"), "../..\n");
  symlinkSync(at("elsewhere"), at("ws", "link"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

test("every repository and submodule below a write root, within the depth, outside skipped trees", () => {
  const dirs = gitDirsFor([at("ws")], [at("ws")]);
  expect(dirs.sort()).toEqual(
    [
      at("ws", ".git"),
      at("ws", ".git", "modules", "lib"),
      at("ws", ".git", "modules", "lib", "modules", "inner"),
      at("ws", ".git", "modules", "libs", "nested-name"),
      at("ws", "tools", ".git"),
      at("ws", ...deep(GIT_SEARCH.depth), ".git"),
      at("main", ".git", "worktrees", "wt"),
      at("main", ".git"),
    ].sort(),
  );
});

test("a start directory's repository is found upwards, below no write root", () => {
  expect(gitDirsFor([at("elsewhere", "sub")], [])).toEqual([at("elsewhere", ".git")]);
});

test("a symlinked directory is not followed, and a tree one level too deep is not searched", () => {
  const dirs = gitDirsFor([], [at("ws")]);
  expect(dirs).not.toContain(at("elsewhere", ".git"));
  expect(dirs.some((dir) => dir.startsWith(at("ws", "x")))).toBe(false);
});
