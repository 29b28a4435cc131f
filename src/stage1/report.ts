// The enforcement report: what one run enforced, what was weaker, how it
// ended. `--report FILE` writes it as JSON; `-v` prints its summary.
import { fsRightsOf } from "../landlock/abi.ts";
import type { SandboxPlan } from "../plan/sandbox.ts";
import type { Degradation } from "../policy/degradations.ts";
import type { RemovedVariable } from "../policy/environment.ts";
import type { NeutralisedRepository, RepairedPath } from "./git-guard.ts";
import type { PreparedRun } from "./prepare.ts";
import type { CgroupEvents } from "./cgroup.ts";
import type { EndReason } from "./supervise.ts";

export interface EnforcementReport {
  version: 1;
  mode: "bwrap" | "landlock" | null;
  /** Why the run took this mode, or was refused. */
  modeReason: string;
  landlockAbi: number;
  /** Why the ABI is 0 or lower than the kernel's (a development build's test hook). */
  landlockNote?: string;
  enforced: {
    namespaces: boolean;
    mounts: number;
    landlock: { handledFs: string[]; pathRules: number; netRules: number; scoped: boolean };
    seccompInstructions: number;
    network: string;
    /** "new": the command ran in a session of its own, without the user's terminal. */
    session: "inherit" | "new";
    noNewPrivileges: true;
    capabilities: "none";
  } | null;
  /** The degradations of the plan that ran. */
  degraded: Degradation[];
  /** The caller's environment variables the command did not get: names and why, never values. */
  environmentRemoved: RemovedVariable[];
  /** Credential files the command saw as copies without their secrets, and the keys each copy left out. */
  redactedCopies: { path: string; secret: string; removed: string[] }[];
  /**
   * protectGit, after the run: what git executes or trusts that was put back
   * (landlock-only mode, and what bwrap mode cannot hold), and the new
   * repositories neutralised.
   */
  git?: { repaired: RepairedPath[]; neutralised: NeutralisedRepository[] };
  /** Processes the command left running, which cordon killed when it ended (none survive a run). */
  leftoversKilled?: number;
  /**
   * Why the run ended: the command exited or died of a signal, or a limit
   * ended it (the timeout, the CPU-time, file-size, memory or pids limit). Absent when it
   * did not run.
   */
  ended?: {
    reason: EndReason;
    signal?: string;
    killedAfterGrace?: boolean;
    /** With a cgroup of the sandbox's own: what it counted, even in a run that succeeded anyway. */
    cgroup?: CgroupEvents;
  };
  /** The command's status, or 125 when cordon refused. */
  exitStatus: number;
  refused?: string;
  durationMs: number;
}

/** The report before anything is known (cordon refused before preparing a run). */
export function emptyReport(): EnforcementReport {
  return {
    version: 1,
    mode: null,
    modeReason: "",
    landlockAbi: 0,
    enforced: null,
    degraded: [],
    environmentRemoved: [],
    redactedCopies: [],
    exitStatus: 125,
    durationMs: 0,
  };
}

function enforcementOf(plan: SandboxPlan): NonNullable<EnforcementReport["enforced"]> {
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
    session: plan.terminal.session,
    noNewPrivileges: true,
    capabilities: "none",
  };
}

/** The report of a prepared run: enforced only when it was not refused. */
export function reportOf(prepared: PreparedRun): EnforcementReport {
  const { decision, plan } = prepared;
  const ran = decision.kind === "run" && !prepared.refusal;
  return {
    ...emptyReport(),
    mode: ran ? plan.mode : null,
    modeReason: decision.reason,
    landlockAbi: prepared.facts.landlock.abi,
    ...(prepared.facts.landlock.note ? { landlockNote: prepared.facts.landlock.note } : {}),
    enforced: ran ? enforcementOf(plan) : null,
    degraded: plan.degradations,
    environmentRemoved: plan.env.removed,
    redactedCopies: plan.redactions
      .filter((redaction) => redaction.how === "copy" || redaction.how === "hidden")
      .map(({ path, secret, removed }) => ({ path, secret, removed })),
  };
}

function parenthesized(parts: (string | undefined)[]): string {
  const present = parts.filter((part) => part !== undefined);
  return present.length > 0 ? ` (${present.join("; ")})` : "";
}

/** "timeout, SIGKILL after the grace period", "signalled: SIGSEGV", "file-size limit". */
export function endedText(ended: NonNullable<EnforcementReport["ended"]>): string {
  if (ended.reason === "timeout") return ended.killedAfterGrace ? "timeout, SIGKILL after the grace period" : "timeout";
  return ended.reason === "signalled" && ended.signal ? `signalled: ${ended.signal}` : ended.reason;
}

export function summaryLine(report: EnforcementReport): string {
  // A refused run enforced nothing and weakened nothing: it did not run, and the reason is the one to say.
  if (report.refused !== undefined) {
    const ending = `exit ${report.exitStatus} after ${report.durationMs} ms`;
    return `refused, the command was not run: ${report.refused}; ${ending}`;
  }
  const weaker = report.degraded
    .filter((degradation) => degradation.weakensSecurity)
    .map((degradation) => degradation.name);
  const costs = report.degraded
    .filter((degradation) => !degradation.weakensSecurity && degradation.layer === "namespaces")
    .map((degradation) => degradation.name);
  const enforced = report.enforced;
  // Every Landlock right this ABI lacks, even where bwrap's mounts cover it.
  const dropped = report.degraded.filter((degradation) => degradation.layer === "landlock");
  return [
    `mode ${report.mode ?? "none"} (${report.modeReason})`,
    `Landlock ABI ${report.landlockAbi}${parenthesized([
      report.landlockNote,
      dropped.length > 0 ? `without ${dropped.map((degradation) => degradation.feature).join(", ")}` : undefined,
    ])}`,
    enforced
      ? `${enforced.landlock.pathRules} path rules, ${enforced.seccompInstructions} ` +
        `seccomp instructions, network ${enforced.network}, ` +
        (enforced.session === "new" ? "a new session" : "the terminal's session")
      : "nothing enforced",
    weaker.length ? `weaker: ${[...new Set(weaker)].join(", ")}` : "nothing weaker",
    ...(costs.length > 0 ? [`costs: ${[...new Set(costs)].join(", ")}`] : []),
    ...(report.environmentRemoved.length > 0
      ? [`environment without ${report.environmentRemoved.map((variable) => variable.name).join(" ")}`]
      : []),
    ...(report.redactedCopies.length > 0
      ? [`redacted copies of ${report.redactedCopies.map((copy) => copy.path).join(" ")}`]
      : []),
    ...(report.git && report.git.repaired.length + report.git.neutralised.length > 0
      ? [
          `protectGit restored ${report.git.repaired.length} path(s), ` +
            `neutralised ${report.git.neutralised.length} new repositor(y/ies)`,
        ]
      : []),
    `exit ${report.exitStatus} after ${report.durationMs} ms` +
      (report.ended && report.ended.reason !== "exited" ? ` (${endedText(report.ended)})` : "") +
      (report.leftoversKilled ? `, killed ${report.leftoversKilled} process(es) it left running` : ""),
  ].join("; ");
}

/**
 * What landlock-only mode costs although nothing is less safe (a read-only
 * /tmp, no /dev/shm, no new entries next to denied paths), one line each, for
 * -v after a failed run: cordon never reads the command's output, so it
 * cannot tell which one the command hit.
 */
export function costLines(mode: string, degradations: readonly Degradation[]): string[] {
  if (mode !== "landlock") return [];
  return degradations
    .filter((degradation) => !degradation.weakensSecurity)
    .map((degradation) => `landlock-only mode: ${degradation.consequence}`);
}

/** The landlock-only warning line: each guarantee that is weaker, by feature. */
export function weakerFeatures(degradations: readonly Degradation[]): string {
  return degradations
    .filter((degradation) => degradation.weakensSecurity)
    .map((degradation) => degradation.feature)
    .join(", ");
}

export function reportText(report: EnforcementReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
