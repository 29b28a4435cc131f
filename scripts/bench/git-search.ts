// What protectGit's repository search costs on a tree of about 100,000
// directories (10 x 10 x 1000, plus a repository at the top and one nested),
// measured two ways: the search alone, in this process (cordon searches once
// before the run and once after it), and a whole run of the binary with and
// without protectGit. Measured, never asserted: see docs/benchmarks.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findDotGits } from "../../src/policy/git.ts";

export interface GitSearchCost {
  directories: number;
  searchMs: number[];
  runWithMs: number[];
  runWithoutMs: number[];
}

function buildTree(root: string): number {
  let count = 0;
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const parent = join(root, `a${a}`, `b${b}`);
      for (let c = 0; c < 1000; c++) mkdirSync(join(parent, `c${c}`), { recursive: true });
      count += 1000;
    }
  }
  mkdirSync(join(root, ".git", "hooks"), { recursive: true });
  writeFileSync(join(root, ".git", "config"), "[core]\n\trepositoryformatversion = 0\n");
  mkdirSync(join(root, "a1", "b1", ".git", "hooks"), { recursive: true });
  writeFileSync(join(root, "a1", "b1", ".git", "config"), "[core]\n\trepositoryformatversion = 0\n");
  return count + 110;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function timed(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

export function measureGitSearch(workDir: string, cordon: string, iterations: number): GitSearchCost {
  const root = join(workDir, "git-tree");
  const directories = buildTree(root);
  const run = (args: string[]) => () => {
    const result = Bun.spawnSync([cordon, ...args, "--", "true"], { cwd: root, stdout: "ignore", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`cordon ${args.join(" ")} failed: ${result.stderr.toString()}`);
  };
  const cost: GitSearchCost = { directories, searchMs: [], runWithMs: [], runWithoutMs: [] };
  for (let i = 0; i < iterations; i++) {
    cost.searchMs.push(timed(() => findDotGits([root])));
    cost.runWithMs.push(timed(run(["-w", ".", "-p", '{"protectGit": true}'])));
    cost.runWithoutMs.push(timed(run(["-w", "."])));
  }
  return cost;
}

export function formatGitSearch(cost: GitSearchCost): string {
  const ms = (values: number[]) => `${median(values).toFixed(1)} ms`;
  return [
    `protectGit on a tree of ${cost.directories} directories (median of ${cost.searchMs.length}):`,
    `  repository search alone: ${ms(cost.searchMs)} (a run searches twice: before and after the command)`,
    `  cordon -w . -- true:                  ${ms(cost.runWithoutMs)}`,
    `  cordon -w . with protectGit -- true:  ${ms(cost.runWithMs)}`,
  ].join("\n");
}
