// `cordon doctor [--json] [--bwrap PATH]`: what works on this host, and the fix for what does not.
import { doctorReport, probeHost } from "../../diagnostics/doctor.ts";
import { renderDoctor } from "../../diagnostics/render.ts";
import { parseCommandLine, type OptionDefs } from "../args.ts";
import type { RawArgs } from "../main.ts";

export const DOCTOR_OPTIONS = {
  json: { type: "boolean", description: "Print the report as JSON (format cordon-doctor/1, see docs/doctor.md)" },
  bwrap: { type: "string", valueHint: "PATH", description: "Probe this bubblewrap binary instead of the trusted locations" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
} satisfies OptionDefs;

export const DOCTOR_USAGE = `usage: cordon doctor [--json] [--bwrap PATH]

Probes each layer cordon relies on (Landlock, seccomp, user namespaces,
bubblewrap) and prints OK, WARN or FAIL, what it means, and the fix.
Exit status: 0 when bwrap mode works here, 1 otherwise.

Examples:
  cordon doctor                        # paste this when cordon fails somewhere
  cordon doctor --json | jq .modes     # which modes work here
  cordon doctor --bwrap /opt/bwrap     # check another bubblewrap
`;

export default async function doctor(args: string[], _raw: RawArgs): Promise<number> {
  const parsed = parseCommandLine(args, DOCTOR_OPTIONS, DOCTOR_USAGE);
  if (parsed.options.help) {
    process.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  if (parsed.command.length > 0) {
    const { CordonError } = await import("../../errors.ts");
    throw new CordonError(`doctor takes no operands (got ${JSON.stringify(parsed.command[0])})`, { hint: DOCTOR_USAGE.split("\n")[0] });
  }
  const report = doctorReport(probeHost({ bwrap: parsed.options.bwrap as string | undefined }));
  process.stdout.write(parsed.options.json ? `${JSON.stringify(report, null, 2)}\n` : renderDoctor(report));
  return report.ok ? 0 : 1;
}
