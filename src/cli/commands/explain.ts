// `cordon explain [policy options] [--json] [-- COMMAND]`: the plan `run`
// would execute, and why, without running anything.
import { explainReport } from "../../diagnostics/explain.ts";
import { renderExplain } from "../../diagnostics/render.ts";
import { parseCommandLine, type OptionDefs } from "../args.ts";
import type { RawArgs } from "../main.ts";
import { choosePolicy, POLICY_OPTIONS } from "./policy-options.ts";

export const EXPLAIN_OPTIONS: OptionDefs = {
  ...POLICY_OPTIONS,
  json: { type: "boolean", description: "Print the plan as JSON (format cordon-explain/1, see docs/doctor.md)" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
};

export const EXPLAIN_USAGE = `usage: cordon explain [run's policy options] [--json] [-- COMMAND]

Prints, without running anything: the resolved policy, the mode a run would
use and why, the bwrap arguments, the mount plan, the Landlock rules (and the
rights this kernel lacks), the seccomp program disassembled from the bytes
that would be installed, the environment changes, and every guarantee that
is not enforced here. It plans with the same code as run.

Examples:
  cordon explain -w . --deny-write .git        # what \`cordon -w . --deny-write .git -- ...\` would do
  cordon explain --mode landlock -w .          # what landlock-only mode would cost here
  cordon explain --json -p policy.yaml | jq .notEnforced
`;

export default async function explain(args: string[], _raw: RawArgs): Promise<number> {
  const parsed = parseCommandLine(args, EXPLAIN_OPTIONS, EXPLAIN_USAGE.split("\n")[0]!);
  if (parsed.options.help) {
    process.stdout.write(EXPLAIN_USAGE);
    return 0;
  }
  const { policy, warnings } = choosePolicy(parsed.options);
  const report = explainReport({ policy, warnings, command: parsed.command, bwrap: parsed.options.bwrap as string | undefined });
  process.stdout.write(parsed.options.json ? `${JSON.stringify(report, null, 2)}\n` : renderExplain(report));
  return 0;
}
