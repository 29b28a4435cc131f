// `cordon selftest [--json] [--mode bwrap|landlock] [--bwrap PATH]`
import { renderSelftest } from "../../diagnostics/render.ts";
import { runSelftest } from "../../diagnostics/selftest.ts";
import { CordonError } from "../../errors.ts";
import { parseCommandLine, type OptionDefs } from "../args.ts";
import type { RawArgs } from "../main.ts";

export const SELFTEST_OPTIONS = {
  json: { type: "boolean", description: "Print the results as JSON (format cordon-selftest/1, see docs/doctor.md)" },
  mode: { type: "enum", options: ["bwrap", "landlock"], valueHint: "MODE", description: "Test only this mode (default: every mode available here)" },
  bwrap: { type: "string", valueHint: "PATH", description: "Use this bubblewrap binary" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
} satisfies OptionDefs;

export const SELFTEST_USAGE = `usage: cordon selftest [--json] [--mode bwrap|landlock] [--bwrap PATH]

Runs escape attempts (writes outside the roots and into deny paths, reading a
denied file, TCP with the network off, io_uring, TIOCSTI, a new user
namespace, a signal to a host process) and must-work checks (writes inside a
root, $TMPDIR, git status, a pipe, exit codes) in the real sandbox, once per
mode available here. Each escape is first shown to work without cordon.
Exit status: 0 when every probe behaved as expected, 1 otherwise.

Examples:
  cordon selftest                      # once on every new CI image or host
  cordon selftest --mode landlock      # only landlock-only mode
  cordon selftest --json | jq .ok
`;

export default async function selftest(args: string[], _raw: RawArgs): Promise<number> {
  const parsed = parseCommandLine(args, SELFTEST_OPTIONS, SELFTEST_USAGE.split("\n")[0]!);
  if (parsed.options.help) {
    process.stdout.write(SELFTEST_USAGE);
    return 0;
  }
  if (parsed.command.length > 0) throw new CordonError(`selftest takes no operands (got ${JSON.stringify(parsed.command[0])})`);
  const mode = parsed.options.mode as "bwrap" | "landlock" | undefined;
  const report = await runSelftest({ bwrap: parsed.options.bwrap as string | undefined, modes: mode ? [mode] : undefined });
  process.stdout.write(parsed.options.json ? `${JSON.stringify(report, null, 2)}\n` : renderSelftest(report));
  return report.ok ? 0 : 1;
}
