// Measures every (workload, runner) cell of a group, interleaved: each
// iteration runs every cell once, starting one cell later than the iteration
// before, so slow drift (thermal, page cache, a noisy neighbour) lands on all
// runners alike instead of on whichever ran last.
import { existsSync } from "node:fs";
import { measure, type Meter, type Sample } from "./measure.ts";
import type { Group, Runner, RunnerId, Workload } from "./plan.ts";
import { summarize, type Summary } from "./stats.ts";

export interface CellResult {
  runner: RunnerId;
  workload: string;
  status: "ok" | "unavailable" | "failed";
  reason?: string;
  /** The whole runner failed its probe (its reason is in the run's header), not just this cell. */
  runnerUnavailable: boolean;
  /** The command line, shortened when a policy makes it long. */
  argv: string[];
  argc: number;
  samples: Sample[];
  wallMs?: Summary;
  maxRssKiB?: Summary;
  /** Median wall time over bare bwrap's median for the same workload. */
  ratioToBwrap?: number;
  /** How often each exit status was seen, e.g. {"0": 30}. */
  exitCodes: Record<string, number>;
}

export interface GroupResult {
  id: Group["id"];
  title: string;
  note?: string;
  iterations: number;
  warmup: number;
  workloads: { id: string; label: string; command: string[] }[];
  cells: CellResult[];
}

export interface RunnerStatus {
  id: RunnerId;
  label: string;
  available: boolean;
  reason?: string;
}

type Env = Record<string, string | undefined>;

function firstLines(text: string, count = 2): string {
  return text.trim().split("\n").slice(0, count).join(" / ");
}

function shorten(argv: string[]): string[] {
  return argv.length <= 24 ? argv : [...argv.slice(0, 16), `... (${argv.length - 20} more)`, ...argv.slice(-4)];
}

/** Whether a runner works at all, decided once by running `true` under it. */
export function probeRunner(
  meter: Meter,
  runner: Runner,
  bwrapPath: string,
  trueWorkload: Workload,
  env: Env,
): RunnerStatus {
  const base = { id: runner.id, label: runner.label };
  if (runner.id !== "bare" && runner.id !== "cordon-landlock" && !existsSync(bwrapPath)) {
    return { ...base, available: false, reason: `bwrap not found at ${bwrapPath}` };
  }
  const { sample, stderr } = measure(meter, runner.argv(trueWorkload), env);
  if (sample.exitCode === 0) return { ...base, available: true };
  return { ...base, available: false, reason: `exit ${sample.exitCode}: ${firstLines(stderr) || "(no message)"}` };
}

function refusal(sample: Sample, stderr: string): string {
  if (sample.exitCode === 125 && /unknown option --deny-read/.test(stderr)) {
    return `cordon has no --deny-read yet: ${firstLines(stderr, 1)}`;
  }
  const how = sample.signal ? `killed by signal ${sample.signal}` : `exit ${sample.exitCode}`;
  return `${how}: ${firstLines(stderr) || "(no message)"}`;
}

interface Cell {
  result: CellResult;
  argv: string[];
  workload: Workload;
}

export function runGroup(
  meter: Meter,
  group: Group,
  runners: Runner[],
  statuses: Map<RunnerId, RunnerStatus>,
  env: Env,
  progress: (text: string) => void,
): GroupResult {
  const cells: Cell[] = [];
  for (const workload of group.workloads) {
    for (const runner of runners.filter((candidate) => group.runners.includes(candidate.id))) {
      const argv = runner.argv(workload);
      const status = statuses.get(runner.id);
      const result: CellResult = {
        runner: runner.id,
        workload: workload.id,
        status: status?.available ? "ok" : "unavailable",
        runnerUnavailable: !status?.available,
        argv: shorten(argv),
        argc: argv.length,
        samples: [],
        exitCodes: {},
      };
      if (!status?.available) result.reason = status?.reason ?? "not probed";
      cells.push({ result, argv, workload });
    }
  }
  const live = () => cells.filter((cell) => cell.result.status === "ok");

  // Warm-up runs fill the page cache and decide whether a cell works at all
  // (e.g. cordon refusing an option it does not have yet).
  for (const cell of live()) {
    for (let i = 0; i < group.warmup; i++) {
      const { sample, stderr } = measure(meter, cell.argv, env);
      if (!cell.workload.acceptExit.includes(sample.exitCode) || sample.signal) {
        cell.result.status = "unavailable";
        cell.result.reason = refusal(sample, stderr);
        break;
      }
    }
  }

  for (let iteration = 0; iteration < group.iterations; iteration++) {
    const order = live();
    const shift = order.length === 0 ? 0 : iteration % order.length;
    for (const cell of [...order.slice(shift), ...order.slice(0, shift)]) {
      const { sample, stderr } = measure(meter, cell.argv, env);
      const code = String(sample.signal ? `signal ${sample.signal}` : sample.exitCode);
      cell.result.exitCodes[code] = (cell.result.exitCodes[code] ?? 0) + 1;
      if (!cell.workload.acceptExit.includes(sample.exitCode) || sample.signal) {
        cell.result.status = "failed";
        cell.result.reason = `iteration ${iteration + 1}: ${refusal(sample, stderr)}`;
        continue;
      }
      cell.result.samples.push(sample);
    }
    progress(`${group.title}: ${iteration + 1}/${group.iterations}`);
  }

  for (const { result } of cells) {
    if (result.status !== "ok" || result.samples.length === 0) continue;
    result.wallMs = summarize(result.samples.map((sample) => sample.wallMs));
    result.maxRssKiB = summarize(result.samples.map((sample) => sample.maxRssKiB));
  }
  for (const { result } of cells) {
    const bwrap = cells.find(
      (cell) => cell.result.workload === result.workload && cell.result.runner === "bwrap",
    )?.result;
    if (result.wallMs && bwrap?.wallMs) result.ratioToBwrap = result.wallMs.median / bwrap.wallMs.median;
  }

  return {
    id: group.id,
    title: group.title,
    note: group.note,
    iterations: group.iterations,
    warmup: group.warmup,
    workloads: group.workloads.map((workload) => ({
      id: workload.id,
      label: workload.label,
      command: [...workload.command],
    })),
    cells: cells.map((cell) => cell.result),
  };
}
