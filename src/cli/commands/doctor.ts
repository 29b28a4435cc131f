// `cordon doctor [--json] [--bwrap PATH]`
import { doctorReport } from "../../diagnostics/doctor.ts";
import { renderDoctor } from "../../diagnostics/render.ts";
import { gatherHostFacts } from "../../host/facts.ts";
import { detectNesting } from "../../host/system.ts";
import { defineCommand } from "../command.ts";

export default defineCommand({
  meta: { name: "doctor", description: "Check each sandbox layer on this host and print the fix for what fails" },
  usage: "doctor [--json] [--bwrap PATH]",
  options: {
    json: { type: "boolean", description: "Print the report as JSON (format cordon-doctor/1, see docs/doctor.md)" },
    bwrap: {
      type: "string",
      valueHint: "PATH",
      description: "Probe this bubblewrap binary instead of the trusted locations",
    },
  },
  operands: false,
  sections: [
    {
      title: "What it checks",
      text: `Each layer cordon relies on (Landlock, seccomp, user namespaces, bubblewrap), with OK, WARN or
FAIL, what it means, and the fix. Exit status: 0 when bwrap mode works here, 1 otherwise.`,
    },
  ],
  examples: [
    "cordon doctor                        # paste this when cordon fails somewhere",
    "cordon doctor --json | jq .modes     # which modes work here",
    "cordon doctor --bwrap /opt/bwrap     # check another bubblewrap",
  ],
  async run(options) {
    const facts = gatherHostFacts({ bwrap: options.bwrap as string | undefined, attemptBwrap: true });
    const report = doctorReport(facts, detectNesting);
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
    return report.ok ? 0 : 1;
  },
});
