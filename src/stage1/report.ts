// The enforcement report: what one run enforced, what was weaker, how it
// ended. `--report FILE` writes it as JSON; `-v` prints its summary.
import { writeFileSync } from "node:fs";
import { fsRightsOf } from "../landlock/abi.ts";
import type { Degradation } from "../landlock/rules.ts";
import type { SandboxPlan } from "../plan/sandbox.ts";

export interface EnforcementReport {
  version: 1;
  mode: "bwrap" | "landlock" | null;
  /** Why the run took this mode, or was refused. */
  modeReason: string;
  landlockAbi: number;
  enforced: {
    namespaces: boolean;
    mounts: number;
    landlock: { handledFs: string[]; pathRules: number; netRules: number; scoped: boolean };
    seccompInstructions: number;
    network: string;
    noNewPrivileges: true;
    capabilities: "none";
  } | null;
  degraded: Degradation[];
  /** The command's status, or 125 when cordon refused. */
  exitStatus: number;
  refused?: string;
  durationMs: number;
}

export function enforcementOf(plan: SandboxPlan): NonNullable<EnforcementReport["enforced"]> {
  return {
    namespaces: plan.mode === "bwrap",
    mounts: plan.mounts.length,
    landlock: {
      handledFs: fsRightsOf(plan.landlock.handledFs),
      pathRules: plan.landlock.pathRules.length,
      netRules: plan.landlock.netRules.length,
      scoped: plan.landlock.scoped !== 0n,
    },
    seccompInstructions: plan.seccomp.length,
    network: plan.network,
    noNewPrivileges: true,
    capabilities: "none",
  };
}

export function summaryLine(report: EnforcementReport): string {
  const weaker = report.degraded.filter((gap) => gap.weakensSecurity).map((gap) => gap.name);
  return [
    `mode ${report.mode ?? "none"} (${report.modeReason})`,
    `Landlock ABI ${report.landlockAbi}`,
    report.enforced ? `${report.enforced.landlock.pathRules} path rules, ${report.enforced.seccompInstructions} seccomp instructions, network ${report.enforced.network}` : "nothing enforced",
    weaker.length ? `weaker: ${[...new Set(weaker)].join(", ")}` : "nothing weaker",
    `exit ${report.exitStatus} after ${report.durationMs} ms`,
  ].join("; ");
}

/** The landlock-only warning line: each guarantee that is weaker, by feature. */
export function describeGaps(gaps: readonly Degradation[]): string {
  return gaps
    .filter((gap) => gap.weakensSecurity)
    .map((gap) => gap.feature)
    .join(", ");
}

export function writeReport(path: string, report: EnforcementReport): void {
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
}
