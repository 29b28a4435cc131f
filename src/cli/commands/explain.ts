// `cordon explain [policy options] [--json] [-- COMMAND]`: the run `run`
// would execute, and why, without running anything. It prepares the run
// with exactly run's code (prepareRun), so the two cannot disagree.
import { explainReport } from "../../diagnostics/explain.ts";
import { renderExplain } from "../../diagnostics/render.ts";
import { gatherHostFacts } from "../../host/facts.ts";
import { STATE_DIR_PLACEHOLDER } from "../../plan/state.ts";
import { prepareRun } from "../../stage1/prepare.ts";
import { defineCommand } from "../command.ts";
import { choosePolicy, POLICY_OPTIONS, preserveFdsOption, skippedGlobDirsNote } from "./policy-options.ts";

export default defineCommand({
  meta: { name: "explain", description: "Print what a run would enforce, without running anything" },
  usage: "explain [run's policy options] [--json] [-- COMMAND]",
  options: {
    ...POLICY_OPTIONS,
    json: { type: "boolean", description: "Print the plan as JSON (format cordon-explain/1, see docs/doctor.md)" },
  },
  operands: true,
  sections: [
    {
      title: "What it prints",
      text: `The resolved policy, the mode a run would use and why (or why it would refuse), the bwrap
arguments, the mount plan, the Landlock rules (and the rights this kernel lacks), the seccomp program
disassembled from the bytes that would be installed, the terminal's session (kept when descriptors 0-2 include
the controlling terminal, else a new one), the environment changes, and every guarantee that is not enforced
here. It prepares the run with the same code as run.`,
    },
  ],
  examples: [
    "cordon explain -w . --deny-write .git    # what such a run would do",
    "cordon explain --mode landlock -w .      # what landlock-only mode costs here",
    "cordon explain --json -p policy.yaml | jq .notEnforced",
  ],
  async run(options, command) {
    const preserveFds = preserveFdsOption(options);
    const { policy, warnings } = choosePolicy(options);
    // A real bwrap attempt stands in for run's, so auto mode is predicted, not guessed.
    const facts = gatherHostFacts({
      policy,
      bwrap: options.bwrap as string | undefined,
      attemptBwrap: policy.mode !== "landlock",
    });
    const prepared = prepareRun(policy, facts, {
      strict: options.strict === true,
      preserveFds,
      stateDir: STATE_DIR_PLACEHOLDER,
    });
    const skipped = skippedGlobDirsNote(policy);
    const report = explainReport({ prepared, warnings: skipped ? [...warnings, skipped] : warnings, command });
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderExplain(report));
    return 0;
  },
});
