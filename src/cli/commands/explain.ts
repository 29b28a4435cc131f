// `cordon explain [policy options] [-- COMMAND]`: the plan `run` would execute.
import { fsRightsOf } from "../../landlock/abi.ts";
import { gatherHostFacts } from "../../plan/facts.ts";
import { planSandbox } from "../../plan/sandbox.ts";
import { disassembleSeccompProgram } from "../../seccomp/disassemble.ts";
import { landlockAvailability } from "../../stage1/host.ts";
import { parseCommandLine, type OptionDefs } from "../args.ts";
import type { RawArgs } from "../main.ts";
import { choosePolicy, POLICY_OPTIONS } from "./policy-options.ts";

const EXPLAIN_OPTIONS: OptionDefs = {
  ...POLICY_OPTIONS,
  json: { type: "boolean", description: "Print JSON" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
};

export default async function explain(args: string[], _raw: RawArgs): Promise<number> {
  const parsed = parseCommandLine(args, EXPLAIN_OPTIONS, "usage: cordon explain [options] [-- COMMAND]");
  if (parsed.options.help) {
    process.stdout.write("usage: cordon explain [run options] [--json] [-- COMMAND]\nPrints the plan a run would execute, without running anything.\n");
    return 0;
  }
  const { policy, warnings } = choosePolicy(parsed.options);
  const availability = landlockAvailability();
  const facts = gatherHostFacts(availability.abi);
  const mode = policy.mode === "landlock" ? "landlock" : "bwrap";
  const placeholder = { tmpdir: "<private TMPDIR>", emptyDir: "<empty dir>", emptyFile: "<empty file>" };
  const inodes = new Map<string, { dev: bigint; ino: bigint }>();
  for (const path of [placeholder.emptyDir, placeholder.emptyFile, policy.cwd, ...policy.writeRoots, ...policy.denyWrite.filter((d) => d.kind === "dir" || d.kind === "file").map((d) => d.path)]) {
    inodes.set(path, { dev: 0n, ino: 0n });
  }
  const plan = planSandbox(policy, facts, mode, { ...placeholder, inodes });
  const rules = plan.landlock.pathRules.map((rule) => ({ path: rule.path, grant: rule.grant, rights: fsRightsOf(rule.access) }));
  const seccomp = disassembleSeccompProgram(plan.seccomp, facts.arch);
  const output = {
    policy,
    mode: plan.mode,
    command: parsed.command,
    landlock: { abi: plan.landlock.abi, note: availability.note, rules, handled: fsRightsOf(plan.landlock.handledFs) },
    seccomp,
    environment: plan.env,
    warnings,
    notEnforced: plan.gaps,
  };
  if (parsed.options.json) {
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `mode: ${plan.mode}`,
    `working directory: ${policy.cwd}`,
    `network: ${policy.network}`,
    `Landlock ABI ${plan.landlock.abi}${availability.note ? ` (${availability.note})` : ""}`,
    ...rules.map((rule) => `  ${rule.grant.padEnd(6)} ${rule.path}: ${rule.rights.join(" ")}`),
    `seccomp program (${plan.seccomp.length} instructions):`,
    ...seccomp.map((line) => `  ${line}`),
    `environment: TMPDIR=<private, removed after the run>`,
    "not enforced here:",
    ...plan.gaps.map((gap) => `  - ${gap.feature}: ${gap.consequence}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
