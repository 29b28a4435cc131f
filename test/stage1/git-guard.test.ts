// The host side of protectGit (src/stage1/git-guard.ts), without a sandbox:
// what landlock-only mode restores after the run, including when the
// command put a symlink on the way, and what it neutralises.
import { afterAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GitGuardPlan } from "../../src/plan/git-guard.ts";
import { neutraliseNewRepositories, recordGuarded, repairGuarded } from "../../src/stage1/git-guard.ts";

const base = mkdtempSync(join(tmpdir(), "cordon-gitguard-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function planFor(root: string, paths: string[]): GitGuardPlan {
  return {
    enabled: true,
    prevented: [],
    repaired: paths.map((path) => ({ path: join(root, path), what: path })),
    scan: { roots: [root], maxDepth: 3, skipped: ["node_modules"], known: [], guarded: [] },
  };
}

test("changed, created and removed paths are put back; a symlink planted on the way is not followed", () => {
  const root = join(base, "repair");
  const elsewhere = join(base, "elsewhere");
  mkdirSync(join(root, ".git", "hooks"), { recursive: true });
  mkdirSync(elsewhere);
  writeFileSync(join(root, ".git", "config"), "[core]\n\tbare = false\n");
  writeFileSync(join(root, ".git", "hooks", "pre-commit.sample"), "#!/bin/sh\n", { mode: 0o755 });
  const record = recordGuarded(planFor(root, [".git/config", ".git/hooks", ".git/commondir"]), [root]);

  // The command: a config with fsmonitor, a new hook, a commondir, then .git itself swapped for a symlink.
  writeFileSync(join(root, ".git", "config"), "[core]\n\tfsmonitor = evil\n");
  writeFileSync(join(root, ".git", "hooks", "post-checkout"), "#!/bin/sh\nevil\n", { mode: 0o755 });
  writeFileSync(join(root, ".git", "commondir"), "../elsewhere\n");
  const repaired = repairGuarded(record);
  expect(repaired.map((entry) => `${entry.action} ${entry.what}`).sort()).toEqual([
    "removed .git/commondir",
    "restored .git/config",
    "restored .git/hooks",
  ]);
  expect(readFileSync(join(root, ".git", "config"), "utf8")).not.toContain("fsmonitor");
  expect(readdirSync(join(root, ".git", "hooks"))).toEqual(["pre-commit.sample"]);
  expect(lstatSync(join(root, ".git", "hooks", "pre-commit.sample")).mode & 0o777).toBe(0o755);
  expect(existsSync(join(root, ".git", "commondir"))).toBe(false);

  renameSync(join(root, ".git"), join(root, "old-git"));
  symlinkSync(elsewhere, join(root, ".git"));
  repairGuarded(record);
  expect(lstatSync(join(root, ".git")).isDirectory()).toBe(true);
  expect(readdirSync(elsewhere)).toEqual([]);
  expect(repairGuarded(record)).toEqual([]);
});

test("a new repository with an executing key and a live hook is neutralised; git's samples are not hooks", () => {
  const root = join(base, "scan");
  mkdirSync(join(root, "src", ".git", "hooks"), { recursive: true });
  mkdirSync(join(root, "plain", ".git", "hooks"), { recursive: true });
  writeFileSync(
    join(root, "src", ".git", "config"),
    '[core]\n\tbare = false\n\tfsmonitor = evil\n[remote "o"]\n\turl = u\n',
  );
  writeFileSync(join(root, "src", ".git", "hooks", "post-checkout"), "#!/bin/sh\n");
  chmodSync(join(root, "src", ".git", "hooks", "post-checkout"), 0o755);
  writeFileSync(join(root, "plain", ".git", "config"), "[core]\n\tbare = false\n");
  writeFileSync(join(root, "plain", ".git", "hooks", "pre-commit.sample"), "#!/bin/sh\n", { mode: 0o755 });
  const { neutralised, truncated } = neutraliseNewRepositories(planFor(root, []));
  expect(truncated).toBe(false);
  expect(neutralised.map((entry) => entry.path)).toEqual([join(root, "src", ".git")]);
  expect(neutralised[0]!.found).toEqual(["core.fsmonitor", "hooks/post-checkout"]);
  const config = readFileSync(join(root, "src", ".git", "config"), "utf8");
  expect(config).not.toContain("fsmonitor");
  expect(config).toContain('url = "u"');
  expect(readFileSync(join(root, "src", ".git", "config.cordon-disabled"), "utf8")).toContain("fsmonitor");
  expect(readdirSync(join(root, "src", ".git", "hooks"))).toEqual([]);
  expect(readdirSync(join(root, "src", ".git", "hooks.cordon-disabled"))).toEqual(["post-checkout"]);
});
