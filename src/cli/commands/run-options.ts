// The options of `run`: the policy options (shared with `explain`) plus output.
import type { OptionDefs } from "../args.ts";
import { POLICY_OPTIONS } from "./policy-options.ts";

export const OUTPUT_OPTIONS = {
  verbose: { type: "boolean", alias: "v", description: "Report the mode and what is enforced on stderr" },
  quiet: { type: "boolean", alias: "q", description: "Print nothing of cordon's own but errors" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
  version: { type: "boolean", description: "Show the version" },
} satisfies OptionDefs;

export const RUN_OPTIONS: OptionDefs = { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS };
