// The options of `run` (and of `explain`, which plans the same run).
import type { OptionDefs } from "../args.ts";
import { MODES } from "../../policy/schema.ts";

export const POLICY_OPTIONS = {
  write: { type: "string", alias: "w", valueHint: "PATH", repeatable: true, description: "Make PATH (a directory) and everything under it writable" },
  "deny-write": { type: "string", valueHint: "PATH", repeatable: true, description: "Keep PATH read-only even inside a write root (e.g. .git)" },
  "deny-read": { type: "string", valueHint: "PATH", repeatable: true, description: "Hide PATH: a directory shows up empty, a file reads as empty" },
  net: { type: "boolean", description: "Allow network access (default: none; only AF_UNIX sockets)" },
  cwd: { type: "string", alias: "C", valueHint: "DIR", description: "Run the command in DIR (default: the current directory)" },
  mode: { type: "enum", options: [...MODES], valueHint: "MODE", description: "auto (default: bwrap where it works, else landlock-only if that loses nothing), bwrap or landlock" },
  bwrap: { type: "string", valueHint: "PATH", description: "Use this bubblewrap binary (default: /usr/bin/bwrap, /usr/local/bin/bwrap, /bin/bwrap; never PATH)" },
} satisfies OptionDefs;

export const OUTPUT_OPTIONS = {
  verbose: { type: "boolean", alias: "v", description: "Report the mode and what is enforced on stderr" },
  quiet: { type: "boolean", alias: "q", description: "Print nothing of cordon's own but errors" },
  help: { type: "boolean", alias: "h", description: "Show this help" },
  version: { type: "boolean", description: "Show the version" },
} satisfies OptionDefs;

export const RUN_OPTIONS: OptionDefs = { ...POLICY_OPTIONS, ...OUTPUT_OPTIONS };
