// cordon's own human messages in stage 1 (errors, warnings, notes, -v
// details) on stderr, through consola: one level per message, the level's
// colour on the `cordon:` prefix, the text itself unchanged. consola is
// imported on the first message printed, never before: a quiet run
// (`cordon -- true`) does not load it, and whether a message is printed at
// all (-q, -v) is decided by the caller before that. Stage 2 never comes here:
// it writes its few lines itself, synchronously.
//
// Only consola/core, and no node:tty: the bundler hoists a static import of a
// Node built-in to the top of the binary, so consola/utils (and node:tty for
// isatty) made every run, quiet ones too, load node:tty and its stream
// machinery: about 6 ms of CPU per run, measured. The colours are four SGR codes.
import { writeSync } from "node:fs";
import { escapeControls } from "../bytes.ts";
import type { ConsolaInstance, LogObject } from "consola/core";
import { isTerminal } from "../../ffi/libc.ts";

export type MessageLevel = "error" | "warn" | "info" | "debug";

/**
 * Colour only where a person reads it: stderr is a terminal, TERM is not
 * dumb, and NO_COLOR is unset or empty (no-color.org). CI logs and files get
 * plain text whatever CI or FORCE_COLOR say.
 */
export function wantsColour(env: NodeJS.ProcessEnv = process.env, terminal = isTerminal(2)): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return terminal && env.TERM !== "dumb";
}

/** Writes whole lines with write(2) on fd 2: in order with stage 2's and bwrap's own writes there. */
function writeLine(text: string): void {
  const bytes = Buffer.from(`${text}\n`);
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(2, bytes, offset);
}

/** The foreground colour of each level's prefix: red, yellow, cyan, grey. */
const SGR: Record<string, string> = { error: "31", warn: "33", info: "36", debug: "90" };

let loading: Promise<ConsolaInstance> | undefined;

async function loadConsola(): Promise<ConsolaInstance> {
  const { createConsola } = await import("consola/core");
  const colour = wantsColour();
  const prefix = (type: string) => {
    const code = SGR[type];
    return colour && code ? `\u001b[${code}mcordon:\u001b[39m` : "cordon:";
  };
  return createConsola({
    // Every level reaches the reporter: -q and -v were applied before the message got here.
    level: 4,
    // No throttling of repeated lines: each of cordon's lines is said on purpose.
    throttle: 0,
    reporters: [{ log: (entry: LogObject) => writeLine(`${prefix(entry.type)} ${entry.args.join(" ")}`) }],
  });
}

/** Prints each of `lines` as `cordon: LINE` at `level`, loading consola on the first call. */
export async function printMessage(level: MessageLevel, ...lines: string[]): Promise<void> {
  loading ??= loadConsola();
  const consola = await loading;
  // A line may carry a path the command chose: its control characters never reach the terminal raw.
  for (const line of lines) consola[level](escapeControls(line));
}
