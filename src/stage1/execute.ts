// Stage 1's spine, second half: executes a prepared run. It creates what the
// plan says the run creates on the host, starts the sandbox, falls back to
// landlock-only mode when bwrap fails before the command started, and returns
// the status and the report as data. It prints only through `io`.
import { basename } from "node:path";
import { CordonError } from "../errors.ts";
import type { LaunchInput } from "../launch/encode.ts";
import type { GitGuardPlan } from "../plan/git-guard.ts";
import { GIT_SEARCH } from "../policy/git.ts";
import { applyEnvChanges } from "./environment.ts";
import { otherRecords } from "./git-guard-records.ts";
import {
  neutraliseNewRepositories,
  recordGuarded,
  repairGuarded,
  type GuardRecord,
  type RepairedPath,
} from "./git-guard.ts";
import { prepareFallback, type PreparedRun } from "./prepare.ts";
import { reportOf, weakerFeatures, type EnforcementReport } from "./report.ts";
import { runInBwrap } from "./run-bwrap.ts";
import { runLandlockOnly } from "./run-landlock.ts";
import { createHostState } from "./run-state.ts";
import type { StderrTap } from "./stderr-tap.ts";
import type { Ending } from "./supervise.ts";
import { restoreTerminal, saveTerminal } from "./terminal.ts";

export interface RunIo {
  /** Prints one line of cordon's own (warnings, the fallback), unless quiet. */
  say(line: string): void;
  /** Prints a security event that changed the user's files (a repository neutralised), even when quiet. */
  alert(line: string): void;
  /** Prints one line of cordon's own only when asked (-v). */
  detail(line: string): void;
  /** -v: the command's stderr passes through here, for hints afterwards. */
  tap?: StderrTap;
  /** Why bwrap at `path` failed before the command started: a cause, and a paragraph with the fixes. */
  diagnoseBwrapFailure(path: string): Promise<{ cause: string; text: string }>;
}

interface RunOutcome {
  status: number;
  report: EnforcementReport;
  /** The run that executed: the fallback's, after bwrap failed to start. */
  prepared: PreparedRun;
}

function endedReport(prepared: PreparedRun, ending: Ending): EnforcementReport {
  return { ...reportOf(prepared), leftoversKilled: ending.leftovers };
}

function repairLine(entry: RepairedPath): string {
  const rule = entry.what.startsWith("project file") ? "protectFiles" : "protectGit";
  if (entry.action === "disarmed") {
    return (
      `${rule}: moved ${entry.path} (${entry.what}) aside to ${basename(entry.path)}.cordon-disabled: it changed ` +
      "while another cordon run held it, or a killed run could not repair it; compare it and put back what is yours"
    );
  }
  const created = entry.action === "removed";
  return (
    `${rule}: ${created ? "removed" : "restored"} ${entry.path} (${entry.what}), ` +
    `which the command ${created ? "created" : "changed"}`
  );
}

/**
 * After the run, when the sweep has left no sandboxed process: what git
 * executes or trusts is put back where this mode could not hold it, and new
 * repositories that could make git run a program are neutralised. Each is
 * said on stderr even under -q: cordon changed the user's files.
 */
function guardGitAfter(record: GuardRecord, plan: GitGuardPlan, io: RunIo): EnforcementReport["git"] {
  const repaired = [...record.disarmed, ...repairGuarded(record)];
  for (const entry of repaired) io.alert(repairLine(entry));
  const { neutralised, truncated } = neutraliseNewRepositories(plan);
  if (truncated) {
    io.alert(
      `protectGit: stopped looking for new repositories after ${GIT_SEARCH.maxDirectories} directories; ` +
        "any beyond were not checked",
    );
  }
  for (const repository of neutralised) {
    io.alert(
      `protectGit: the repository ${repository.path}, new in this run, could make git run a program ` +
        `(${repository.found.join(", ")}): ${repository.actions.join("; ")}`,
    );
  }
  return { repaired, neutralised };
}

function refuse(prepared: PreparedRun): never {
  const refusal = prepared.refusal!;
  throw new CordonError(refusal.message, refusal.hint === undefined ? {} : { hint: refusal.hint });
}

/** Runs `argv` as `prepared` says, at most once. A refused run throws a CordonError and runs nothing. */
export async function runSandboxed(prepared: PreparedRun, argv: Uint8Array[], io: RunIo): Promise<RunOutcome> {
  if (prepared.refusal) refuse(prepared);
  // Whatever the mode, a policy that protects less than it names is said out loud.
  for (const degradation of prepared.plan.degradations) {
    if (degradation.layer === "filesystem") io.say(`warning: ${degradation.consequence}`);
  }
  if (prepared.policy.git.search.truncated) {
    io.say(
      `warning: protectGit stopped looking for repositories after ${GIT_SEARCH.maxDirectories} directories: ` +
        "those beyond are not protected",
    );
  }
  const environment = prepared.facts.environment;
  const terminal = saveTerminal();
  const state = createHostState(prepared.plan.hostState);
  const launchOf = (run: PreparedRun): LaunchInput => ({
    plan: run.plan,
    created: state.identities,
    argv,
    envp: applyEnvChanges(environment, run.plan.env),
    preserveFds: run.options.preserveFds,
    parentPid: process.pid,
  });
  let guard: { record: GuardRecord; plan: GitGuardPlan } | undefined;
  const guarded = (run: PreparedRun) => {
    guard = {
      record: recordGuarded(
        run.plan.git,
        run.policy.writeRoots,
        run.plan.git.repaired.length > 0 ? otherRecords : () => [],
      ),
      plan: run.plan.git,
    };
  };
  const withGit = (report: EnforcementReport): EnforcementReport =>
    guard ? { ...report, git: guardGitAfter(guard.record, guard.plan, io) } : report;
  try {
    let current = prepared;
    if (prepared.plan.mode === "bwrap" && prepared.facts.bwrap.found) {
      guarded(prepared);
      const outcome = await runInBwrap(launchOf(prepared), prepared.facts.bwrap.path, io.tap);
      if (outcome.started) {
        return { status: outcome.status, report: withGit(endedReport(prepared, outcome)), prepared };
      }
      // bwrap failed before stage 2 ran: the command never started, so another mode may still run it once.
      state.removePlaceholders();
      current = prepareFallback(prepared);
      const why = await io.diagnoseBwrapFailure(prepared.facts.bwrap.path);
      const failure = `bubblewrap failed before the command started (exit ${outcome.bwrapStatus})`;
      if (current.refusal) {
        throw new CordonError(`${failure}: ${current.refusal.message}`, {
          hint: `${why.text}\n${current.refusal.hint ?? ""}`.trim(),
        });
      }
      // The fallback points the tools at copies of its own (one per secret): they must exist before it runs.
      state.writeCopies(current.plan.hostState.copies);
      io.say(`${failure} (${why.cause}); falling back to landlock-only mode`);
    }
    const weaker = weakerFeatures(
      current.plan.degradations.filter((degradation) => degradation.layer !== "filesystem"),
    );
    // Asked for by name (--mode landlock), the mode's limits are the user's choice: said under -v only.
    const chosen = current.policy.mode === "landlock";
    if (weaker) (chosen ? io.detail : io.say)(`warning: landlock-only mode does not enforce: ${weaker}`);
    guarded(current);
    const ending = await runLandlockOnly(launchOf(current), io.tap);
    return { status: ending.status, report: withGit(endedReport(current, ending)), prepared: current };
  } finally {
    state.remove();
    // Every process of the sandbox is gone by now (supervise's sweep): none can take the terminal again.
    restoreTerminal(terminal);
  }
}
