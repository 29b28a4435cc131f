// npm run bench: cordon's cost next to the bare command and bare bwrap.
// Interleaves runners round-robin, reads wall time and peak RSS from the OS
// (rusage via a tiny fork/exec wrapper), prints tables and budget verdicts,
// and writes every sample as JSON. See docs/benchmarks.md.
//
// Usage: bun scripts/bench.ts [--quick] [--iterations N] [--stat-iterations N] [--standin-iterations N]
//        [--warmup N] [--out FILE] [--cordon PATH] [--bwrap PATH] [--check]
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, hostname, release, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { evaluateBudgets } from "./bench/budgets.ts";
import { createFixture } from "./bench/fixtures.ts";
import { formatGitSearch, measureGitSearch } from "./bench/git-search.ts";
import { prepareMeter, type Meter } from "./bench/measure.ts";
import {
  groups as planGroups,
  POLICY_SIZES,
  runners as planRunners,
  type Counts,
  type RunnerId,
  type Workload,
} from "./bench/plan.ts";
import { formatBudgets, formatGroup } from "./bench/report.ts";
import { probeRunner, runGroup, type GroupResult, type RunnerStatus } from "./bench/run.ts";

const USAGE =
  "usage: bun scripts/bench.ts [--quick] [--iterations N] [--stat-iterations N] " +
  "[--standin-iterations N] [--warmup N] [--out FILE] [--cordon PATH] [--bwrap PATH] [--check]";
const repoRoot = resolve(import.meta.dir, "..");

function positiveInteger(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || (name !== "--warmup" && value === 0)) {
    throw new Error(`${name} needs a positive integer, not ${JSON.stringify(text)}`);
  }
  return value;
}

function parseOptions() {
  const { values } = parseArgs({
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      iterations: { type: "string" },
      "stat-iterations": { type: "string" },
      "standin-iterations": { type: "string" },
      warmup: { type: "string" },
      out: { type: "string", default: "bench-results.json" },
      cordon: { type: "string" },
      bwrap: { type: "string", default: "/usr/bin/bwrap" },
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const quick = values.quick;
  const counts: Counts = {
    iterations: positiveInteger("--iterations", values.iterations, quick ? 5 : 30),
    statIterations: positiveInteger("--stat-iterations", values["stat-iterations"], quick ? 2 : 15),
    standInIterations: positiveInteger("--standin-iterations", values["standin-iterations"], quick ? 2 : 5),
    warmup: positiveInteger("--warmup", values.warmup, quick ? 1 : 2),
  };
  const cordon = resolve(values.cordon ?? process.env.CORDON_BIN ?? join(repoRoot, "dist/cordon"));
  return {
    help: values.help,
    quick,
    counts,
    out: resolve(values.out),
    cordon,
    bwrap: values.bwrap,
    check: values.check,
  };
}

/** Builds dist/cordon when the default binary is missing, so a fresh clone can bench right away. */
function ensureCordon(path: string): void {
  if (existsSync(path)) return;
  if (path !== join(repoRoot, "dist/cordon")) throw new Error(`cordon binary not found: ${path}`);
  process.stderr.write("bench: dist/cordon is missing; building it\n");
  const build = Bun.spawnSync([process.execPath, join(repoRoot, "scripts/build.ts")], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (build.exitCode !== 0 || !existsSync(path)) throw new Error("building dist/cordon failed");
}

function versionOf(argv: string[]): string {
  const run = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return (run.stdout.toString() || run.stderr.toString()).trim().split("\n")[0] ?? "";
}

function which(name: string): string {
  const path = Bun.which(name);
  if (!path) throw new Error(`bench needs ${name} on PATH`);
  return path;
}

/** The Landlock ABI as cordon sees it, from `cordon explain --json`; null if that output changes shape. */
function landlockAbi(cordon: string): number | null {
  const run = Bun.spawnSync([cordon, "explain", "--json"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  try {
    const parsed: unknown = JSON.parse(run.stdout.toString());
    if (typeof parsed !== "object" || parsed === null || !("landlock" in parsed)) return null;
    const landlock: unknown = parsed.landlock;
    if (typeof landlock !== "object" || landlock === null || !("abi" in landlock)) return null;
    return typeof landlock.abi === "number" ? landlock.abi : null;
  } catch {
    return null;
  }
}

function main(): number {
  const options = parseOptions();
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  ensureCordon(options.cordon);
  const started = performance.now();
  const workDir = mkdtempSync(join(tmpdir(), "cordon-bench-"));
  const cleanup = () => rmSync(workDir, { recursive: true, force: true });
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });
  try {
    const meter: Meter = prepareMeter(workDir);
    const fixture = createFixture(workDir, Math.max(...POLICY_SIZES));
    const tools = { cordon: options.cordon, bwrap: options.bwrap };
    const runners = planRunners(tools);
    const groups = planGroups({ true: which("true"), find: which("find") }, fixture, options.counts);
    const env: Record<string, string | undefined> = { ...process.env };
    const progress = (text: string) => {
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
    };

    const trueWorkload: Workload = groups[0]!.workloads[0]!;
    const statuses = new Map<RunnerId, RunnerStatus>();
    for (const runner of runners) statuses.set(runner.id, probeRunner(meter, runner, options.bwrap, trueWorkload, env));

    const header = [
      `cordon bench: ${options.quick ? "quick" : "default"} run on ${cpus().length} ` +
        `CPUs, Linux ${release()}, ${meter.note}`,
      `cordon: ${options.cordon} (${versionOf([options.cordon, "--version"])}); bwrap: ` +
        `${existsSync(options.bwrap) ? `${options.bwrap} (${versionOf([options.bwrap, "--version"])})` : "missing"}`,
      ...[...statuses.values()]
        .filter((status) => !status.available)
        .map((status) => `unavailable: ${status.label}: ${status.reason}`),
      "wall time in ms (median, p10, p90); x bwrap = median / bare bwrap median for " +
        "the same workload; peak RSS = ru_maxrss of the largest process",
    ];
    process.stdout.write(`${header.join("\n")}\n\n`);

    const results: GroupResult[] = [];
    for (const group of groups) {
      const result = runGroup(meter, group, runners, statuses, env, progress);
      progress("");
      results.push(result);
      process.stdout.write(`${formatGroup(result, runners)}\n\n`);
    }
    progress("protectGit: building a tree of 100,000 directories");
    const gitSearch = measureGitSearch(workDir, options.cordon, options.quick ? 3 : 7);
    progress("");
    process.stdout.write(`${formatGitSearch(gitSearch)}\n\n`);
    const budgets = evaluateBudgets(results);
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${formatBudgets(budgets)}\n\ntotal ${seconds.toFixed(1)} s; results written to ${options.out}\n`,
    );

    const report = {
      schema: "cordon-bench/1",
      date: new Date().toISOString(),
      quick: options.quick,
      durationSeconds: seconds,
      machine: {
        hostname: hostname(),
        kernel: release(),
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "",
        landlockAbi: landlockAbi(options.cordon),
      },
      tools: {
        bun: Bun.version,
        cordon: options.cordon,
        cordonVersion: versionOf([options.cordon, "--version"]),
        bwrap: options.bwrap,
        bwrapVersion: existsSync(options.bwrap) ? versionOf([options.bwrap, "--version"]) : null,
        meter: meter.kind,
        meterNote: meter.note,
      },
      counts: options.counts,
      runners: [...statuses.values()],
      groups: results,
      gitSearch,
      budgets,
    };
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
    return options.check && budgets.some((budget) => budget.verdict === "FAIL") ? 1 : 0;
  } finally {
    cleanup();
  }
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exitCode = 2;
}
