// Finding repositories in the write roots (src/policy/git.ts): the search
// scope, and what of each repository is protected.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findDotGits, GIT_SEARCH, protectedGitPaths } from "../../src/policy/git.ts";

const dir = mkdtempSync(join(tmpdir(), "cordon-gitscan-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string | null>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, text === null ? path : join(path, "..")), { recursive: true });
    if (text !== null) writeFileSync(join(dir, path), text);
  }
}

test("every .git within the scope: directories, gitdir: files; not below node_modules, not past the depth", () => {
  tree({
    ".git/config": "",
    "vendor/lib/.git/config": "",
    "sub/.git": "gitdir: ../.git/modules/sub\n",
    "node_modules/pkg/.git/config": "",
    [`${Array.from({ length: GIT_SEARCH.maxDepth + 1 }, (_, i) => `d${i}`).join("/")}/.git/config`]: "",
  });
  symlinkSync(join(dir, "vendor"), join(dir, "link-to-vendor"));
  const found = findDotGits([dir]).found.map((g) => `${g.kind} ${g.path.slice(dir.length)}`);
  expect(found.sort()).toEqual(["dir /.git", "dir /vendor/lib/.git", "file /sub/.git"]);
});

test("protected: hooks, config, info files, commondir, submodules, worktrees, hooksPath, includes", () => {
  tree({
    "r/.git/config": "[core]\n\thooksPath = .husky/_\n[include]\n\tpath = ../shared.gitconfig\n",
    "r/.git/modules/sub/config": "",
    "r/.git/modules/sub/HEAD": "ref: refs/heads/main\n",
    "r/.git/worktrees/wt/commondir": "../..\n",
    "r/.git/worktrees/wt/gitdir": "/x/wt/.git\n",
  });
  const paths = protectedGitPaths({ path: join(dir, "r/.git"), kind: "dir" }).map((p) => p.path.slice(dir.length));
  for (const expected of [
    "/r/.git/hooks",
    "/r/.git/config",
    "/r/.git/config.worktree",
    "/r/.git/commondir",
    "/r/.git/info/exclude",
    "/r/.git/info/attributes",
    "/r/.git/modules/sub/hooks",
    "/r/.git/modules/sub/config",
    "/r/.git/worktrees/wt/commondir",
    "/r/.git/worktrees/wt/gitdir",
    "/r/.husky",
    "/r/shared.gitconfig",
  ]) {
    expect(paths).toContain(expected);
  }
  // What git must write stays out: objects, refs, the index, HEAD, logs, info/refs.
  for (const writable of ["/r/.git/index", "/r/.git/HEAD", "/r/.git/objects", "/r/.git/refs", "/r/.git/info/refs"]) {
    expect(paths).not.toContain(writable);
  }
});

test("a linked worktree's .git file protects itself, its admin directory and the common directory's files", () => {
  tree({ "main/.git/config": "", "main/.git/worktrees/w2/commondir": "../..\n", "w2/.git": "" });
  writeFileSync(join(dir, "w2/.git"), `gitdir: ${join(dir, "main/.git/worktrees/w2")}\n`);
  const paths = protectedGitPaths({ path: join(dir, "w2/.git"), kind: "file" }).map((p) => p.path.slice(dir.length));
  for (const expected of [
    "/w2/.git",
    "/main/.git/worktrees/w2/config.worktree",
    "/main/.git/config",
    "/main/.git/hooks",
  ]) {
    expect(paths).toContain(expected);
  }
});
