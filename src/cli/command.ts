// The shape of every cordon command: one definition with its meta, options,
// help text, examples and run function (citty's defineCommand shape, plus
// what cordon's help needs). The strict parser reads the same options, help
// is rendered from the definition, and completion offers its options.
import type { CommandMeta } from "citty";
import type { OptionDefs, ParsedOptions } from "./args.ts";

/** What a command may ask of the CLI beyond its own options. */
export interface CommandContext {
  /** How many arguments the process received (after the executable). */
  total: number;
  /** The command that runs when none is named. */
  defaultCommand: string;
  /** Every command's definition (help and completion). */
  commands(): Promise<CommandDef[]>;
}

export interface CommandDef {
  meta: CommandMeta & { name: string; description: string };
  /** The synopsis after `cordon `, e.g. "[run] [options] -- COMMAND [ARG...]". */
  usage: string;
  options: OptionDefs;
  /** Whether the command takes operands (a command to run); others refuse any. */
  operands: boolean;
  /** Paragraphs after the options, each a heading and its text. */
  sections?: { title: string; text: string }[];
  examples: string[];
  run(options: ParsedOptions, operands: string[], context: CommandContext): Promise<number>;
}

/** Options every command has; main.ts handles them before the command runs. */
const COMMON_OPTIONS = {
  help: { type: "boolean", alias: "h", description: "Show this help" },
} satisfies OptionDefs;

/**
 * citty's command shape, with cordon's strict option table in place of its
 * lenient args: citty's parser accepts unknown options and keeps only the
 * last of a repeated one, and its usage renderer always colours its output.
 */
export function defineCommand(definition: CommandDef): CommandDef {
  return { ...definition, options: { ...definition.options, ...COMMON_OPTIONS } };
}
