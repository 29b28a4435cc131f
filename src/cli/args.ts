// Strict option parsing over citty argument definitions. citty's own parser
// accepts unknown options and keeps only the last of repeated ones; a sandbox
// must reject a mistyped `--deny-wirte` rather than silently ignore it.
import { CordonError } from "../errors.ts";

export interface OptionDef {
  type: "boolean" | "string" | "enum";
  alias?: string | string[];
  description?: string;
  valueHint?: string;
  options?: string[];
  /** May be given more than once; the values are collected in order. */
  repeatable?: boolean;
}

export type OptionDefs = Record<string, OptionDef>;

export type ParsedOptions = Record<string, string | boolean | string[] | undefined>;

/** Where an option's value was found: the option as spelled, and what precedes the value in its argument. */
export interface ValueSource {
  option: string;
  /** 0 for `--write PATH`, 2 for `-wPATH`, 8 for `--write=PATH`: the prefix is ASCII, so bytes and characters agree. */
  offset: number;
}

export interface ParsedCommandLine {
  options: ParsedOptions;
  /** Index in the input where the command begins (after `--` or at the first operand). */
  commandStart: number;
  command: string[];
  /** For each input index that holds an option's value, where it came from (messages about its bytes). */
  values: Map<number, ValueSource>;
}

function aliasesOf(def: OptionDef): string[] {
  return def.alias === undefined ? [] : Array.isArray(def.alias) ? def.alias : [def.alias];
}

export function parseCommandLine(input: string[], defs: OptionDefs, usage: string): ParsedCommandLine {
  const byName = new Map<string, [string, OptionDef]>();
  for (const [name, def] of Object.entries(defs)) {
    byName.set(name, [name, def]);
    for (const alias of aliasesOf(def)) byName.set(alias, [name, def]);
  }
  const options: ParsedOptions = {};
  const values = new Map<number, ValueSource>();
  const set = (name: string, def: OptionDef, value: string | boolean, spelled: string) => {
    if (def.type === "enum" && typeof value === "string" && def.options && !def.options.includes(value)) {
      throw new CordonError(`${spelled} ${JSON.stringify(value)}: expected one of ${def.options.join(", ")}`, {
        hint: usage,
      });
    }
    if (def.repeatable) {
      options[name] = [...((options[name] as string[] | undefined) ?? []), value as string];
    } else if (options[name] !== undefined && options[name] !== value) {
      throw new CordonError(`${spelled} is given twice with different values`, { hint: usage });
    } else {
      options[name] = value;
    }
  };

  const lookup = (flag: string, spelled: string): [string, OptionDef] => {
    const entry = byName.get(flag);
    if (!entry) throw new CordonError(`unknown option ${spelled}`, { hint: usage });
    return entry;
  };
  const takeValue = (spelled: string): string => {
    if (i + 1 >= input.length) throw new CordonError(`${spelled} needs a value`, { hint: usage });
    // `-w -- make` forgot the value: "--" ends the options, it is no path (write ./-- for a directory named so).
    if (input[i + 1] === "--") throw new CordonError(`${spelled} needs a value before --`, { hint: usage });
    values.set(++i, { option: spelled, offset: 0 });
    return input[i]!;
  };
  const inlineValue = (value: string, spelled: string, offset: number): string => {
    values.set(i, { option: spelled, offset });
    return value;
  };

  let i = 0;
  for (; i < input.length; i++) {
    const arg = input[i]!;
    if (arg === "--") return { options, commandStart: i + 1, command: input.slice(i + 1), values };
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg.startsWith("--")) {
      const [flag, inline] = splitOnce(arg.slice(2), "=");
      const spelled = `--${flag}`;
      if (flag.length < 2) throw new CordonError(`unknown option ${spelled}`, { hint: usage });
      const [name, def] = lookup(flag, spelled);
      if (def.type === "boolean") {
        if (inline !== undefined) throw new CordonError(`${spelled} takes no value`, { hint: usage });
        set(name, def, true, spelled);
      } else {
        const value = inline === undefined ? takeValue(spelled) : inlineValue(inline, spelled, spelled.length + 1);
        set(name, def, value, spelled);
      }
      continue;
    }
    // Short options: a cluster such as -vq, or -wPATH / -w PATH.
    const letters = arg.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const spelled = `-${letters[j]}`;
      const [name, def] = lookup(letters[j]!, spelled);
      if (def.type === "boolean") {
        set(name, def, true, spelled);
        continue;
      }
      const rest = letters.slice(j + 1);
      set(name, def, rest.length > 0 ? inlineValue(rest, spelled, j + 2) : takeValue(spelled), spelled);
      break;
    }
  }
  return { options, commandStart: i, command: input.slice(i), values };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
