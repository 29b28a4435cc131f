// The performance budgets of issue 7, checked against one run's results.
// Each comes back as data (limit, measured value, verdict, how it was
// computed) so the table and the JSON say the same thing.
import type { RunnerId } from "./plan.ts";
import type { CellResult, GroupResult } from "./run.ts";

export type Verdict = "PASS" | "FAIL" | "N/A";

export interface BudgetResult {
  id: string;
  budget: string;
  limit: number;
  unit: "x" | "MiB";
  measured?: number;
  verdict: Verdict;
  detail: string;
}

type CordonRunner = Extract<RunnerId, "cordon-bwrap" | "cordon-landlock">;
const CORDON_RUNNERS: readonly CordonRunner[] = ["cordon-bwrap", "cordon-landlock"];
const MODE: Record<CordonRunner, string> = { "cordon-bwrap": "bwrap mode", "cordon-landlock": "landlock-only" };

/** Stat budget verdict on in-sandbox cost (run minus start-up), not on whole runs; see docs/benchmarks.md. */
export const STAT_NET_OF_STARTUP = true;

function findCell(groups: GroupResult[], workload: string, runner: RunnerId): CellResult | undefined {
  for (const group of groups) {
    const cell = group.cells.find((candidate) => candidate.workload === workload && candidate.runner === runner);
    if (cell) return cell;
  }
  return undefined;
}

function median(cell: CellResult | undefined): number | undefined {
  return cell?.status === "ok" ? cell.wallMs?.median : undefined;
}

function why(cell: CellResult | undefined, label: string): string {
  if (!cell) return `${label} not measured`;
  return `${label}: ${cell.reason ?? cell.status}`;
}

function verdict(limit: number, measured: number | undefined): Verdict {
  if (measured === undefined || !Number.isFinite(measured)) return "N/A";
  return measured <= limit ? "PASS" : "FAIL";
}

const fmt = (value: number, digits = 2) => value.toFixed(digits);

function ratioBudget(
  id: string,
  budget: string,
  limit: number,
  numerator: CellResult | undefined,
  denominator: CellResult | undefined,
  labels: [string, string],
): BudgetResult {
  const top = median(numerator);
  const bottom = median(denominator);
  if (top === undefined || bottom === undefined) {
    const missing = top === undefined ? why(numerator, labels[0]) : why(denominator, labels[1]);
    return { id, budget, limit, unit: "x", verdict: "N/A", detail: missing };
  }
  const measured = top / bottom;
  return {
    id,
    budget,
    limit,
    unit: "x",
    measured,
    verdict: verdict(limit, measured),
    detail: `${labels[0]} ${fmt(top)} ms / ${labels[1]} ${fmt(bottom)} ms`,
  };
}

export function evaluateBudgets(groups: GroupResult[]): BudgetResult[] {
  const results: BudgetResult[] = [];
  const bwrapTrue = findCell(groups, "true", "bwrap");

  results.push(
    ratioBudget(
      "true-bwrap-mode",
      "bwrap mode `cordon -- true` <= 3.5x bare bwrap",
      3.5,
      findCell(groups, "true", "cordon-bwrap"),
      bwrapTrue,
      ["cordon bwrap", "bare bwrap"],
    ),
    ratioBudget(
      "true-landlock",
      "landlock-only `cordon -- true` <= 2.5x bare bwrap",
      2.5,
      findCell(groups, "true", "cordon-landlock"),
      bwrapTrue,
      ["cordon landlock", "bare bwrap"],
    ),
  );

  // Judged on `true`, the workload the memory column was taken with;
  // the largest figure from any workload is reported alongside.
  for (const runner of CORDON_RUNNERS) {
    const id = `rss-${runner}`;
    const budget = `${MODE[runner]} peak RSS <= 32 MiB (true)`;
    const trueCell = findCell(groups, "true", runner);
    if (trueCell?.status !== "ok" || !trueCell.maxRssKiB) {
      results.push({ id, budget, limit: 32, unit: "MiB", verdict: "N/A", detail: why(trueCell, runner) });
      continue;
    }
    const peak = trueCell.maxRssKiB.max / 1024;
    let largest = { kib: 0, workload: "" };
    for (const group of groups) {
      for (const cell of group.cells) {
        if (cell.runner !== runner || cell.status !== "ok" || !cell.maxRssKiB) continue;
        if (cell.maxRssKiB.max > largest.kib) largest = { kib: cell.maxRssKiB.max, workload: cell.workload };
      }
    }
    results.push({
      id,
      budget,
      limit: 32,
      unit: "MiB",
      measured: peak,
      verdict: verdict(32, peak),
      detail:
        `largest process, max of ${trueCell.samples.length} runs (median ` +
        `${fmt(trueCell.maxRssKiB.median / 1024, 1)} MiB); ` +
        `largest in any workload: ${fmt(largest.kib / 1024, 1)} MiB (${largest.workload})`,
    });
  }

  for (const runner of CORDON_RUNNERS) {
    const result = ratioBudget(
      `deny-growth-${runner}`,
      `${MODE[runner]} 1,000 deny paths <= 2x setup of none`,
      2,
      findCell(groups, "deny-1000", runner),
      findCell(groups, "deny-0", runner),
      ["1,000 deny", "0 deny"],
    );
    const standIn = ratioBudget(
      "",
      "",
      2,
      findCell(groups, "write-1000", runner),
      findCell(groups, "write-0", runner),
      ["", ""],
    );
    if (result.verdict === "N/A" && standIn.measured !== undefined) {
      result.detail += `; stand-in 1,000 -w roots: ${fmt(standIn.measured)}x (informational, not this budget)`;
    }
    results.push(result);
  }

  const bareStat = median(findCell(groups, "find-usr", "bare"));
  const bareTrue = median(findCell(groups, "true", "bare"));
  for (const runner of CORDON_RUNNERS) {
    const id = `stat-${runner}`;
    const budget = `${MODE[runner]} stat-heavy <= 1.05x unsandboxed`;
    const statCell = findCell(groups, "find-usr", runner);
    const stat = median(statCell);
    const start = median(findCell(groups, "true", runner));
    if (stat === undefined || start === undefined || bareStat === undefined || bareTrue === undefined) {
      results.push({ id, budget, limit: 1.05, unit: "x", verdict: "N/A", detail: why(statCell, runner) });
      continue;
    }
    const raw = stat / bareStat;
    const net = (stat - start) / (bareStat - bareTrue);
    const measured = STAT_NET_OF_STARTUP ? net : raw;
    results.push({
      id,
      budget,
      limit: 1.05,
      unit: "x",
      measured,
      verdict: verdict(1.05, measured),
      detail:
        `net of start-up: (${fmt(stat)} - ${fmt(start)}) / (${fmt(bareStat)} - ` +
        `${fmt(bareTrue)}) ms = ${fmt(net, 3)}x; whole run ${fmt(raw, 3)}x`,
    });
  }
  return results;
}
