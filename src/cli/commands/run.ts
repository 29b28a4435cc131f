// `cordon run [options] -- COMMAND [ARG...]`: choose the mode, plan, run,
// and say what was enforced. The command starts at most once.
import { fstatSync, writeFileSync } from "node:fs";
import { CordonError } from "../../errors.ts";
import { gatherHostFacts } from "../../plan/facts.ts";
import { landlockOnlyLosses, planSandbox, unacceptedGaps, type SandboxMode, type SandboxPlan } from "../../plan/sandbox.ts";
import { decideMode } from "../../plan/mode.ts";
import { locateBwrap } from "../../stage1/bwrap-locate.ts";
import { landlockAvailability, requireLandlock } from "../../stage1/host.ts";
import { describeGaps, enforcementOf, summaryLine, writeReport, type EnforcementReport } from "../../stage1/report.ts";
import { runInBwrap } from "../../stage1/run-bwrap.ts";
import { runLandlockOnly } from "../../stage1/run-landlock.ts";
import { createRunState } from "../../stage1/run-paths.ts";
import { rawArguments } from "../../stage1/self.ts";
import { StderrTap } from "../../stage1/stderr-tap.ts";
import { parseCommandLine, type ParsedOptions } from "../args.ts";
import type { RawArgs } from "../main.ts";
import { choosePolicy } from "./policy-options.ts";
import { RUN_OPTIONS } from "./run-options.ts";

const USAGE = "usage: cordon [run] [options] -- COMMAND [ARG...]; see cordon --help";
const MAX_PRESERVED_FDS = 1000;

function preservedDescriptors(options: ParsedOptions): number {
  const text = options["preserve-fds"];
  if (text === undefined) return 0;
  const count = Number(text);
  if (typeof text !== "string" || !/^\d+$/.test(text) || count > MAX_PRESERVED_FDS) {
    throw new CordonError(`--preserve-fds ${String(text)}: expected a number of descriptors from 0 to ${MAX_PRESERVED_FDS}`);
  }
  for (let fd = 3; fd < 3 + count; fd++) {
    try {
      fstatSync(fd);
    } catch {
      throw new CordonError(`--preserve-fds ${count}: descriptor ${fd} is not open`);
    }
  }
  return count;
}

function checkReportWritable(path: string): void {
  try {
    writeFileSync(path, "", { flag: "a" });
  } catch (error) {
    throw new CordonError(`--report ${path}: cannot write there (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function refuseWeakened(plan: SandboxPlan, allowDegraded: readonly string[]): void {
  const weakened = unacceptedGaps(plan, allowDegraded);
  if (weakened.length === 0) return;
  throw new CordonError(
    `--strict: ${plan.mode === "bwrap" ? "bwrap" : "landlock-only"} mode here would weaken: ${weakened.map((gap) => `${gap.name} (${gap.consequence})`).join("; ")}`,
    { hint: `accept one by name with --allow-degraded ${weakened[0]!.name}; the command was not run` },
  );
}

export default async function run(args: string[], raw: RawArgs): Promise<number> {
  const started = performance.now();
  const parsed = parseCommandLine(args, RUN_OPTIONS, USAGE);
  const { options } = parsed;
  if (options.help) {
    const { runHelp } = await import("../help.ts");
    process.stdout.write(await runHelp());
    return 0;
  }
  if (options.version) {
    const { VERSION_LINE } = await import("../../version.ts");
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (parsed.command.length === 0) throw new CordonError("no command given", { hint: USAGE });
  if (parsed.command[0] === "") throw new CordonError("the command name is empty", { hint: USAGE });

  const say = (line: string) => {
    if (!options.quiet) process.stderr.write(`cordon: ${line}\n`);
  };
  const report: EnforcementReport = {
    version: 1, mode: null, modeReason: "", landlockAbi: 0, enforced: null, degraded: [], exitStatus: 125, durationMs: 0,
  };
  const finish = (status: number, refused?: string): number => {
    report.exitStatus = status;
    if (refused) report.refused = refused;
    report.durationMs = Math.round(performance.now() - started);
    if (typeof options.report === "string" && !refused?.startsWith("--report ")) {
      try {
        writeReport(options.report, report);
      } catch (error) {
        // The command has run (or was refused): its status stands, the report is what failed.
        process.stderr.write(`cordon: warning: cannot write the report to ${options.report}: ${(error as Error).message}\n`);
      }
    }
    if (options.verbose) process.stderr.write(`cordon: ${summaryLine(report)}\n`);
    return status;
  };

  try {
    // A report that cannot be written is found out before the command runs.
    if (typeof options.report === "string") checkReportWritable(options.report);
    const preserveFds = preservedDescriptors(options);
    const { policy, warnings } = choosePolicy(options);
    for (const warning of warnings) say(`warning: ${warning}`);
    const abi = requireLandlock(landlockAvailability());
    report.landlockAbi = abi;
    const facts = gatherHostFacts(abi);
    const bwrap = policy.mode === "landlock" ? undefined : locateBwrap(options.bwrap as string | undefined, [...policy.writeRoots, policy.cwd]);
    // The same decision `explain` prints: before starting, and after bwrap failed to.
    const modeInputs = { requested: policy.mode, landlockAbi: abi, bwrap, losses: landlockOnlyLosses(policy, facts) };
    let decision = decideMode(modeInputs);
    if (decision.kind === "refuse") throw new CordonError(decision.reason, { hint: decision.hint });

    // The exact bytes of the command's arguments, not their decoded text.
    const argv = rawArguments(raw.total).slice(raw.offset + parsed.commandStart);
    const state = createRunState(policy);
    const tap = StderrTap.wanted(options.verbose === true) ? new StderrTap() : undefined;
    const withHints = async (status: number): Promise<number> => {
      if (tap && status !== 0) {
        const { hintLines } = await import("../../diagnostics/hints.ts");
        for (const line of hintLines(tap.tail, policy)) process.stderr.write(`cordon: ${line}\n`);
      }
      return finish(status);
    };
    const plan = (mode: SandboxMode) => {
      const planned = planSandbox(policy, facts, mode, state);
      if (options.strict) refuseWeakened(planned, policy.allowDegraded);
      report.mode = mode;
      report.modeReason = decision.reason;
      report.enforced = enforcementOf(planned);
      report.degraded = planned.gaps;
      return planned;
    };
    try {
      if (decision.mode === "bwrap" && bwrap?.found) {
        const bwrapPlan = plan("bwrap");
        state.placeholders([...policy.denyWrite, ...policy.denyRead].filter((deny) => deny.kind === "missing").map((deny) => deny.path));
        const outcome = await runInBwrap(bwrapPlan, bwrap.path, argv, preserveFds, tap);
        if (outcome.started) return await withHints(outcome.status);
        // bwrap failed before stage 2 ran: the command never started, so another mode may still run it once.
        state.removePlaceholders();
        const { diagnoseBwrapFailure } = await import("../../diagnostics/bwrap-failure.ts");
        const why = diagnoseBwrapFailure(bwrap.path);
        decision = decideMode({ ...modeInputs, bwrapStarts: false });
        const failure = `bubblewrap failed before the command started (exit ${outcome.bwrapStatus})`;
        if (decision.kind === "refuse") throw new CordonError(`${failure}: ${decision.reason}`, { hint: `${why.text}\n${decision.hint}` });
        say(`${failure} (${why.diagnosis.cause}); falling back to landlock-only mode`);
      }
      const landlockPlan = plan("landlock");
      const gaps = describeGaps(landlockPlan.gaps);
      if (gaps) say(`warning: landlock-only mode does not enforce: ${gaps}`);
      return await withHints(await runLandlockOnly(landlockPlan, argv, preserveFds, tap));
    } finally {
      state.remove();
    }
  } catch (error) {
    if (error instanceof CordonError) finish(error.exitCode, error.message);
    throw error;
  }
}
