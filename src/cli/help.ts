// Help for every command, rendered from its definition in one plain-text
// format: no colours, lines wrapped to 80 columns.
import { VERSION } from "../version.ts";
import type { OptionDef } from "./args.ts";
import type { CommandDef } from "./command.ts";

const WIDTH = 80;
const OPTION_COLUMN = 28;

function wrap(text: string, indent: number, first = indent): string[] {
  const lines: string[] = [];
  let line = " ".repeat(first);
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = " ".repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

function spelling(name: string, def: OptionDef): string {
  const aliases = def.alias === undefined ? [] : Array.isArray(def.alias) ? def.alias : [def.alias];
  const value = def.type === "boolean" ? "" : ` ${def.valueHint ?? "VALUE"}`;
  return [...aliases.map((alias) => `-${alias}`), `--${name}`].join(", ") + value;
}

function optionLines(name: string, def: OptionDef): string[] {
  const left = `  ${spelling(name, def)}`;
  const description = `${def.description ?? ""}${def.repeatable ? " (repeatable)" : ""}`;
  if (left.length + 2 > OPTION_COLUMN) return [left, ...wrap(description, OPTION_COLUMN)];
  const [first, ...rest] = wrap(description, OPTION_COLUMN);
  return [`${left.padEnd(OPTION_COLUMN)}${first!.trimStart()}`, ...rest];
}

export function commandHelp(command: CommandDef): string {
  const out = [command.meta.description, "", "USAGE", `  cordon ${command.usage}`, "", "OPTIONS"];
  for (const [name, def] of Object.entries(command.options)) out.push(...optionLines(name, def));
  for (const section of command.sections ?? []) {
    out.push("", section.title.toUpperCase());
    const paragraphs = section.text.split("\n\n").map((paragraph) => wrap(paragraph, 2));
    out.push(...paragraphs.flatMap((lines, i) => (i === 0 ? lines : ["", ...lines])));
  }
  out.push("", "EXAMPLES", ...command.examples.map((example) => `  ${example}`));
  return `${out.join("\n")}\n`;
}

export function topLevelHelp(commands: readonly CommandDef[], defaultCommand: CommandDef): string {
  const out = [`cordon ${VERSION}: run an untrusted command in a kernel-enforced sandbox`, "", "COMMANDS"];
  for (const command of commands) out.push(`  ${command.meta.name.padEnd(12)}${command.meta.description}`);
  out.push("", "`cordon COMMAND --help` shows each command's options. Without a command name, cordon runs:", "");
  return `${out.join("\n")}\n${commandHelp(defaultCommand)}`;
}
