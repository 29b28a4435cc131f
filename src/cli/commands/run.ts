// `cordon [run] [options] -- COMMAND [ARG...]`: parse, prepare, run, and say
// what was enforced. The story of a run lives in stage1/ (prepareRun, then
// runSandboxed); this file only turns options into its inputs and its
// outcome into output.
import { CordonError } from "../../errors.ts";
import { gatherHostFacts } from "../../host/facts.ts";
import { runSandboxed, type RunIo } from "../../stage1/execute.ts";
import { prepareRun } from "../../stage1/prepare.ts";
import {
  costLines,
  emptyReport,
  reportOf,
  reportText,
  summaryLine,
  type EnforcementReport,
} from "../../stage1/report.ts";
import {
  closeReportFile,
  openReportFile,
  stillAtPath,
  writeReportFile,
  type ReportFile,
} from "../../stage1/report-file.ts";
import { newStateDir } from "../../stage1/run-state.ts";
import { rawArguments } from "../../stage1/self.ts";
import type { OptionDefs, ParsedOptions } from "../args.ts";
import type { MessageLevel } from "../messages.ts";
import { protectedPathLines } from "../../diagnostics/protected-paths.ts";
import { defineCommand, type CommandContext } from "../command.ts";
import { choosePolicy, POLICY_OPTIONS, preserveFdsOption, skippedGlobDirsNote } from "./policy-options.ts";

const OUTPUT_OPTIONS = {
  verbose: {
    type: "boolean",
    alias: "v",
    description: "Print one line on stderr: the mode, why, what was enforced and what was weaker (refused: why)",
  },
  report: {
    type: "string",
    valueHint: "FILE",
    description: "Write a JSON enforcement report to FILE when the run ends (also when cordon refuses)",
  },
  quiet: { type: "boolean", alias: "q", description: "Print nothing of cordon's own but errors" },
  version: { type: "boolean", description: "Show the version" },
} satisfies OptionDefs;

/**
 * -v after a failed run. cordon never reads the command's output (that would
 * change its stderr into a pipe of cordon's), so it cannot name the path: it
 * says where the rules are.
 */
const FAILED_RUN_HINT =
  'if the command was refused a path ("Permission denied", "Read-only file system", "Operation not ' +
  'permitted"), `cordon explain` with the same options lists what is writable, what is hidden, and why';

const WHAT_IS_ENFORCED = `Everything is readable and executable, except the secure defaults (SSH and GnuPG
keys, cloud, registry, git, CI and agent-harness credentials, shell histories, host control sockets: see
--reveal; ~/.npmrc, git's config, Docker's config.json, Maven's settings.xml, gradle.properties and
~/.yarnrc.yml are seen as copies without their secret lines) and --deny-read paths.
Secret-shaped environment variables (*_TOKEN, *_SECRET*, *_PASSWORD, *_API_KEY, AWS_ACCESS_KEY_ID...) are
removed; --profile ci keeps only an allow-list; --env NAME passes one on purpose. Nothing is
writable except the write roots (-w), minus --deny-write paths, plus /dev/null, the terminal and a private
temporary directory (TMPDIR). --profile workspace and ci protect, in every repository of the write roots
(3 directories deep), what git executes or trusts (hooks, config, info/ files, the core.hooksPath
directory...; commits still work), and .vscode, .idea, .mcp.json, .claude, .envrc at their top: bwrap mode
prevents changes, landlock-only mode restores them after the run; a repository created during the run that
could make git run a program is neutralised (one line on stderr, even with -q). Without --net, only AF_UNIX
sockets (and the TCP ports of --allow-connect/--allow-bind). With or without --net, bwrap mode keeps every
host unix socket file outside the write roots out of reach, unless --allow-socket names it. No capabilities,
no new privileges, no setuid files, no core dumps; a seccomp filter refuses io_uring, terminal injection, new
user namespaces, mounts, keyrings, bpf, perf, userfaultfd and 32-bit entry points.`;

const MODES = `bwrap (default where user namespaces work): bubblewrap namespaces and mounts, plus Landlock and
seccomp inside.

landlock-only (--mode landlock, or auto mode's fallback when it loses nothing): Landlock and seccomp alone.
Before Landlock ABI 9 it cannot stop connecting to host unix socket files; it cannot stop seeing host
processes, and Landlock has no right for chmod: with a write root, the command can make the user's own
files outside the write roots, hidden ones included (~/.ssh), readable or writable by every local user. As
root that reaches every system file, so landlock-only mode refuses to run as root with a write root unless
--allow-degraded metadata. With no write root, seccomp refuses every chmod, chown and xattr change instead
(file times stay changeable). A warning line says what is weaker (under --mode landlock, only with -v).
So that / and ~ stay listable, the names in a hidden directory such as ~/.ssh can be listed (never its
files). It also costs, though nothing is less safe: the host's /tmp is read-only (use $TMPDIR); /dev/shm is
not writable, so Python multiprocessing fails (--allow-degraded shm grants the host's, and with it the
shared memory of every process of the same user). -v names these costs after a failed run; \`cordon
explain\` shows it all.

In both modes, nothing the command started outlives cordon: every leftover process is killed and reaped
before cordon returns, and the terminal's foreground group and settings are put back.`;

const EXIT_STATUS = `the command's own; 128+N if it died of signal N; 124 if --timeout ended it; 125 if cordon
refused or failed (the command did not run, or a process it left could not be killed); 126 cannot execute; 127 not
found.`;

/** cordon's own line at `level`; consola (messages.ts) is loaded only when one is printed. */
async function print(level: MessageLevel, line: string): Promise<void> {
  const { printMessage } = await import("../messages.ts");
  await printMessage(level, line);
}

/** Writes the report through the descriptor opened before the run; a failure is a warning, never the status. */
async function saveReport(file: ReportFile, report: EnforcementReport): Promise<void> {
  let problem: string | undefined;
  try {
    writeReportFile(file, reportText(report));
    if (!stillAtPath(file)) {
      problem =
        `the file now at ${file.given} is not cordon's report: the command replaced or removed ` +
        "it during the run, and the report went to the file cordon had opened";
    }
  } catch (error) {
    // The command has run (or was refused): its status stands, the report is what failed.
    problem = `cannot write the report to ${file.given}: ${(error as Error).message}`;
  } finally {
    closeReportFile(file);
  }
  if (problem) await print("warn", `warning: ${problem}`);
}

function bwrapDiagnosis(path: string, message: string) {
  return import("../../diagnostics/bwrap-failure.ts").then(({ diagnoseBwrapFailure }) => {
    const { diagnosis } = diagnoseBwrapFailure(path, message);
    return { cause: diagnosis.cause, fix: diagnosis.fix };
  });
}

const USAGE = "usage: cordon [run] [options] -- COMMAND [ARG...]; see cordon run --help";

async function runCommand(options: ParsedOptions, command: string[], context: CommandContext): Promise<number> {
  if (command.length === 0) throw new CordonError("no command given", { hint: USAGE });
  if (command[0] === "") throw new CordonError("the command name is empty", { hint: USAGE });
  const started = performance.now();
  const reportPath = typeof options.report === "string" ? options.report : undefined;
  let report: EnforcementReport = emptyReport();
  let reportFile: ReportFile | undefined;
  const finish = async (status: number, refused?: string): Promise<number> => {
    report = { ...report, exitStatus: status, durationMs: Math.round(performance.now() - started) };
    if (refused) report.refused = refused;
    if (reportPath && !refused?.startsWith("--report ")) {
      try {
        // Refused before the write roots were known: any of them (a -w given on the command line, or one
        // in a policy file) could hold a symlink an earlier run planted, so every symlink on the way is suspect.
        reportFile ??= openReportFile(reportPath, ["/"]);
        await saveReport(reportFile, report);
      } catch (error) {
        await print("warn", `warning: ${(error as Error).message}; no report was written`);
      }
    }
    if (options.verbose) await print("debug", summaryLine(report));
    return status;
  };

  try {
    const preserveFds = preserveFdsOption(options);
    const levelOf = (line: string): MessageLevel => (line.startsWith("warning:") ? "warn" : "info");
    const io: RunIo = {
      say: async (line) => {
        if (!options.quiet) await print(levelOf(line), line);
      },
      alert: (line) => print("warn", line),
      detail: async (line) => {
        if (options.verbose && !options.quiet) await print("debug", line);
      },
      diagnoseBwrapFailure: bwrapDiagnosis,
    };
    const { policy, warnings } = choosePolicy(options);
    for (const warning of warnings) await io.say(`warning: ${warning}`);
    const skipped = skippedGlobDirsNote(policy);
    if (skipped) await io.detail(skipped);
    const facts = gatherHostFacts({ policy, bwrap: options.bwrap as string | undefined });
    // Opened before the command starts, and after the descriptors --preserve-fds may name were listed.
    if (reportPath) reportFile = openReportFile(reportPath, [...policy.writeRoots, process.cwd()]);
    const prepared = prepareRun(policy, facts, {
      strict: options.strict === true,
      preserveFds,
      stateDir: newStateDir(),
    });
    report = reportOf(prepared);
    // The exact bytes of the command's arguments, not their decoded text.
    const argv = rawArguments(context.total).slice(context.total - command.length);
    const outcome = await runSandboxed(prepared, argv, io);
    report = outcome.report;
    // A limit that ended the run has said so already: no path was refused.
    const endedAtLimit = !["exited", "signalled"].includes(report.ended?.reason ?? "exited");
    if (outcome.status !== 0 && !endedAtLimit) {
      const { policy: ran, plan } = outcome.prepared;
      const lines = [FAILED_RUN_HINT, ...costLines(plan.mode, plan.degradations), ...protectedPathLines(ran)];
      for (const line of lines) await io.detail(line);
    }
    return await finish(outcome.status);
  } catch (error) {
    if (error instanceof CordonError) await finish(error.exitCode, error.message);
    throw error;
  }
}

export default defineCommand({
  meta: { name: "run", description: "Run COMMAND in a kernel-enforced sandbox (the default command)" },
  usage: "[run] [options] -- COMMAND [ARG...]",
  options: { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS },
  operands: true,
  sections: [
    { title: "What is enforced", text: WHAT_IS_ENFORCED },
    { title: "Modes", text: MODES },
    { title: "Exit status", text: EXIT_STATUS },
  ],
  examples: [
    "cordon -w . -- npm test                  # only the project is writable",
    "cordon --profile workspace -- make       # commits work; hooks, config kept",
    "cordon --net -w . -w ~/.cache -- cargo build",
    "cordon -p cordon.yaml -- ./build.sh      # a policy file (JSON, YAML or TOML)",
    "cordon -v --report run.json -- pytest    # say what was enforced",
    "cordon explain -w . --deny-read 'secrets/**'",
  ],
  run: runCommand,
});
