// `cordon selftest [--json] [--mode bwrap|landlock] [--bwrap PATH]`
import { renderSelftest } from "../../diagnostics/render.ts";
import { runSelftest } from "../../diagnostics/selftest.ts";
import { defineCommand } from "../command.ts";

export default defineCommand({
  meta: { name: "selftest", description: "Attempt escapes in the real sandbox here and report pass/fail per mode" },
  usage: "selftest [--json] [--mode bwrap|landlock] [--bwrap PATH]",
  options: {
    json: { type: "boolean", description: "Print the results as JSON (format cordon-selftest/1, see docs/doctor.md)" },
    mode: {
      type: "enum",
      options: ["bwrap", "landlock"],
      valueHint: "MODE",
      description: "Test only this mode (default: every mode available here)",
    },
    bwrap: { type: "string", valueHint: "PATH", description: "Use this bubblewrap binary" },
  },
  operands: false,
  sections: [
    {
      title: "What it tries",
      text: `Escape attempts (writes outside the roots and into deny paths, reading a denied file, TCP with
the network off, io_uring, TIOCSTI, a new user namespace, a signal to a host process) and must-work checks
(writes inside a root, $TMPDIR, git status, a pipe, exit codes) in the real sandbox, once per mode available
here. Each escape is first shown to work without cordon. Exit status: 0 when every probe behaved as expected,
1 otherwise.`,
    },
  ],
  examples: [
    "cordon selftest                      # once on every new CI image or host",
    "cordon selftest --mode landlock      # only landlock-only mode",
    "cordon selftest --json | jq .ok",
  ],
  async run(options) {
    const mode = options.mode as "bwrap" | "landlock" | undefined;
    const report = await runSelftest({ bwrap: options.bwrap as string | undefined, modes: mode ? [mode] : undefined });
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderSelftest(report));
    return report.ok ? 0 : 1;
  },
});
