// Stage 1's spine, second half: executes a prepared run. It creates what the
// plan says the run creates on the host, starts the sandbox, falls back to
// landlock-only mode when bwrap fails before the command started, and returns
// the status and the report as data. It prints only through `io`.
import { inEveryMode } from "../policy/degradations.ts";
import { basename } from "node:path";
import { CordonError } from "../errors.ts";
import type { LaunchInput } from "../launch/encode.ts";
import type { GitGuardPlan } from "../plan/git-guard.ts";
import { GIT_SEARCH } from "../policy/git.ts";
import { applyEnvChanges } from "./environment.ts";
import { fallbackLine, refusalLines, type BwrapWhy } from "./bwrap-fallback.ts";
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
import { TIMEOUT_STATUS, type Ending } from "./supervise.ts";
import type { LimitsPlan } from "../plan/limits.ts";
import { formatDuration, formatSize } from "../policy/limits.ts";
import { createSandboxCgroups, type SandboxCgroups } from "./cgroup.ts";
import { restoreTerminal, saveTerminal } from "./terminal.ts";

export interface RunIo {
  /** Prints one line of cordon's own (warnings, the fallback), unless quiet. */
  say(line: string): Promise<void>;
  /** Prints a security event that changed the user's files (a repository neutralised), even when quiet. */
  alert(line: string): Promise<void>;
  /** Prints one line of cordon's own only when asked (-v). */
  detail(line: string): Promise<void>;
  /** Why bwrap at `path` failed before the command started, from what it printed: a cause, and the fixes. */
  diagnoseBwrapFailure(path: string, message: string): Promise<BwrapWhy>;
}

interface RunOutcome {
  status: number;
  report: EnforcementReport;
  /** The run that executed: the fallback's, after bwrap failed to start. */
  prepared: PreparedRun;
}

function endedReport(prepared: PreparedRun, ending: Ending): EnforcementReport {
  const { reason, signal, killedAfterGrace, cgroup } = ending;
  return {
    ...reportOf(prepared),
    leftoversKilled: ending.leftovers,
    ended: {
      reason,
      ...(signal === undefined ? {} : { signal }),
      ...(killedAfterGrace === undefined ? {} : { killedAfterGrace }),
      ...(cgroup === undefined ? {} : { cgroup }),
    },
  };
}

/** The one line when a limit ended the run (silenced by -q): the command's own output cannot say it. */
function limitLine(ending: Ending, limits: LimitsPlan): string | undefined {
  switch (ending.reason) {
    case "timeout":
      return (
        `the command ran out of time (--timeout ${formatDuration(limits.timeout ?? 0)}): ` +
        (ending.killedAfterGrace
          ? `SIGTERM, then SIGKILL after ${formatDuration(limits.killAfter)}`
          : "stopped by SIGTERM") +
        `; exit status ${TIMEOUT_STATUS}`
      );
    case "cpu-time limit":
      return `the command used up its CPU time (--cpu-time): ${ending.signal ?? "SIGXCPU"}`;
    case "file-size limit":
      return `the command wrote past --file-size: ${ending.signal ?? "SIGXFSZ"}`;
    case "memory limit":
      return `the sandbox ran out of memory (--memory ${formatSize(limits.memory ?? 0)}): the kernel killed it`;
    case "pids limit":
      return `the sandbox reached its process limit (--pids ${limits.pids ?? 0}): a fork or thread was refused`;
    default:
      return undefined;
  }
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
async function guardGitAfter(record: GuardRecord, plan: GitGuardPlan, io: RunIo): Promise<EnforcementReport["git"]> {
  const repaired = [...record.disarmed, ...repairGuarded(record)];
  for (const entry of repaired) await io.alert(repairLine(entry));
  const { neutralised, truncated } = neutraliseNewRepositories(plan);
  if (truncated) {
    await io.alert(
      `protectGit: stopped looking for new repositories after ${GIT_SEARCH.maxDirectories} directories; ` +
        "any beyond were not checked",
    );
  }
  for (const repository of neutralised) {
    await io.alert(
      `protectGit: the repository ${repository.path}, new in this run, could make git run a program ` +
        `(${repository.found.join(", ")}): ${repository.actions.join("; ")}`,
    );
  }
  return { repaired, neutralised };
}

async function sayLimit(ending: Ending, run: PreparedRun, io: RunIo): Promise<void> {
  const line = limitLine(ending, run.plan.limits);
  if (line) await io.say(line);
}

function refuse(prepared: PreparedRun): never {
  const refusal = prepared.refusal!;
  throw new CordonError(refusal.message, refusal.hint === undefined ? {} : { hint: refusal.hint });
}

/** landlock-only mode's weaker guarantees; asked for by name (--mode landlock), they are the user's choice: -v only. */
async function warnWeaker(run: PreparedRun, io: RunIo): Promise<void> {
  const weaker = weakerFeatures(run.plan.degradations.filter((degradation) => !inEveryMode(degradation)));
  if (!weaker || run.plan.mode !== "landlock") return;
  const chosen = run.policy.mode === "landlock";
  await (chosen ? io.detail : io.say)(`warning: landlock-only mode does not enforce: ${weaker}`);
}

/** Runs `argv` as `prepared` says, at most once. A refused run throws a CordonError and runs nothing. */
export async function runSandboxed(prepared: PreparedRun, argv: Uint8Array[], io: RunIo): Promise<RunOutcome> {
  if (prepared.refusal) refuse(prepared);
  // Whatever the mode, a policy that protects less than it names is said out loud.
  for (const degradation of prepared.plan.degradations) {
    if (inEveryMode(degradation)) await io.say(`warning: ${degradation.consequence}`);
  }
  if (prepared.policy.git.search.truncated) {
    await io.say(
      `warning: protectGit stopped looking for repositories after ${GIT_SEARCH.maxDirectories} directories: ` +
        "those beyond are not protected",
    );
  }
  const environment = prepared.facts.environment;
  const terminal = saveTerminal();
  const state = createHostState(prepared.plan.hostState);
  let cgroups: SandboxCgroups | undefined;
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
  const withGit = async (report: EnforcementReport): Promise<EnforcementReport> =>
    guard ? { ...report, git: await guardGitAfter(guard.record, guard.plan, io) } : report;
  try {
    // A cgroup that cannot be made refuses the run, before anything of it started.
    const planned = prepared.plan.limits.cgroups;
    cgroups = planned.length > 0 ? createSandboxCgroups(planned) : undefined;
    let current = prepared;
    if (prepared.plan.mode === "bwrap" && prepared.facts.bwrap.found) {
      guarded(prepared);
      const outcome = await runInBwrap(launchOf(prepared), prepared.facts.bwrap.path, cgroups);
      if (outcome.started) {
        await sayLimit(outcome, prepared, io);
        return { status: outcome.status, report: await withGit(endedReport(prepared, outcome)), prepared };
      }
      // bwrap failed before stage 2 ran: the command never started, so another mode may still run it once.
      state.removePlaceholders();
      current = prepareFallback(prepared);
      const why = await io.diagnoseBwrapFailure(prepared.facts.bwrap.path, outcome.bwrapMessage);
      if (current.refusal) {
        const { message, lines } = refusalLines(why, current);
        throw new CordonError(message, { lines });
      }
      // The fallback points the tools at copies of its own (one per secret): they must exist before it runs.
      state.writeCopies(current.plan.hostState.copies);
      // One line, once: it names what landlock-only mode does not enforce, so no warning follows.
      await io.say(fallbackLine(why, current));
    } else {
      await warnWeaker(current, io);
    }
    guarded(current);
    const ending = await runLandlockOnly(launchOf(current), cgroups);
    await sayLimit(ending, current, io);
    return { status: ending.status, report: await withGit(endedReport(current, ending)), prepared: current };
  } finally {
    state.remove();
    for (const problem of cgroups?.remove() ?? []) await io.say(`warning: ${problem}`);
    // Every process of the sandbox is gone by now (supervise's sweep): none can take the terminal again.
    restoreTerminal(terminal);
  }
}
