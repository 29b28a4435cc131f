// The options of `run`: the policy options (shared with `explain`) plus output.
import type { OptionDefs } from "../args.ts";
import { POLICY_OPTIONS } from "./policy-options.ts";

export const OUTPUT_OPTIONS = {
  verbose: { type: "boolean", alias: "v", description: "Print one line on stderr: the mode, why, what was enforced and what was weaker" },
  report: { type: "string", valueHint: "FILE", description: "Write a JSON enforcement report to FILE when the run ends (also when cordon refuses)" },
  quiet: { type: "boolean", alias: "q", description: "Print nothing of cordon's own but errors" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
  version: { type: "boolean", description: "Show the version" },
} satisfies OptionDefs;

export const RUN_OPTIONS: OptionDefs = { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS };
