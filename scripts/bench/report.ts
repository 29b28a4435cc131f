// Plain-text tables for the terminal. The JSON file carries the same numbers
// plus every raw sample.
import type { BudgetResult } from "./budgets.ts";
import type { Runner } from "./plan.ts";
import type { CellResult, GroupResult } from "./run.ts";

type Row = string[];

/**
 * Left-aligns the first `leftColumns` columns and right-aligns the rest. A row
 * shorter than the header is a note: its leading columns align, and its last
 * cell runs on unpadded (e.g. "unavailable: <reason>").
 */
function table(rows: Row[], leftColumns: number): string {
  const columns = rows[0]?.length ?? 0;
  const widths: number[] = [];
  for (const row of rows) {
    if (row.length === columns) row.forEach((text, i) => (widths[i] = Math.max(widths[i] ?? 0, text.length)));
  }
  return rows
    .map((row) =>
      row
        .map((text, i) => {
          if (row.length < columns && i === row.length - 1) return text;
          return i < leftColumns ? text.padEnd(widths[i]!) : text.padStart(widths[i]!);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0));
const mib = (kib: number) => (kib / 1024).toFixed(1);

function cellRow(cell: CellResult, workloadLabel: string, runnerLabel: string): Row {
  if (cell.runnerUnavailable) return [workloadLabel, runnerLabel, "unavailable (runner, see above)"];
  if (cell.status !== "ok" || !cell.wallMs || !cell.maxRssKiB) {
    return [workloadLabel, runnerLabel, `${cell.status}: ${cell.reason ?? "no samples"}`];
  }
  const codes = Object.keys(cell.exitCodes).filter((code) => code !== "0");
  return [
    workloadLabel,
    runnerLabel,
    `${ms(cell.wallMs.median)} ms`,
    ms(cell.wallMs.p10),
    ms(cell.wallMs.p90),
    cell.ratioToBwrap === undefined ? "-" : `${cell.ratioToBwrap.toFixed(2)}x`,
    `${mib(cell.maxRssKiB.median)} / ${mib(cell.maxRssKiB.max)} MiB`,
    codes.length ? `exit ${codes.map((code) => `${code} x${cell.exitCodes[code]}`).join(", ")}` : "",
  ];
}

export function formatGroup(group: GroupResult, runners: Runner[]): string {
  const label = new Map(runners.map((runner) => [runner.id, runner.label]));
  const header: Row = ["workload", "runner", "median", "p10", "p90", "x bwrap", "peak RSS med / max", ""];
  const rows: Row[] = [header];
  for (const workload of group.workloads) {
    group.cells
      .filter((cell) => cell.workload === workload.id)
      .forEach((cell, i) =>
        rows.push(cellRow(cell, i === 0 ? workload.label : "", label.get(cell.runner) ?? cell.runner)),
      );
  }

  const heading = `== ${group.title} (${group.iterations} iterations + ${group.warmup} warm-up, interleaved)`;
  const parts = [heading];
  if (group.note) parts.push(`   ${group.note}`);
  parts.push(table(rows, 2));
  if (group.workloads.length > 1) parts.push(formatGrowth(group, runners));
  return parts.join("\n");
}

/** For policy-size groups: each size's median relative to the same runner with an empty policy. */
function formatGrowth(group: GroupResult, runners: Runner[]): string {
  const [base, ...rest] = group.workloads;
  if (!base) return "";
  const rows: Row[] = [["setup growth", `${base.label}`, ...rest.map((workload) => `${workload.label}`)]];
  for (const runner of runners.filter((candidate) => group.cells.some((cell) => cell.runner === candidate.id))) {
    const at = (workload: string) =>
      group.cells.find((cell) => cell.runner === runner.id && cell.workload === workload);
    const zero = at(base.id)?.wallMs?.median;
    const row: Row = [runner.label, zero === undefined ? "-" : `${ms(zero)} ms`];
    for (const workload of rest) {
      const value = at(workload.id)?.wallMs?.median;
      row.push(value === undefined || zero === undefined ? "n/a" : `${(value / zero).toFixed(2)}x`);
    }
    rows.push(row);
  }
  return table(rows, 1);
}

export function formatBudgets(budgets: BudgetResult[]): string {
  const rows: Row[] = [["budget", "limit", "measured", "verdict"]];
  for (const budget of budgets) {
    const unit = budget.unit === "x" ? "x" : " MiB";
    rows.push([
      budget.budget,
      `${budget.limit}${unit}`,
      budget.measured === undefined ? "-" : `${budget.measured.toFixed(budget.unit === "x" ? 2 : 1)}${unit}`,
      budget.verdict,
    ]);
  }
  const lines = table(rows, 1).split("\n");
  const out = [lines[0]!];
  budgets.forEach((budget, i) => out.push(lines[i + 1]!, `    ${budget.detail}`));
  return ["== budgets (issue 7)", ...out].join("\n");
}
