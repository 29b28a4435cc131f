// The CLI entry point: picks the command, runs it, and is the only place that
// turns an error into a message and an exit status.
import { CordonError, EXIT, formatError } from "../errors.ts";
import { VERSION_LINE } from "../version.ts";

type CommandModule = { default: (args: string[], raw: RawArgs) => Promise<number> };
export interface RawArgs {
  /** Offset of the command's own first argument within the process's arguments. */
  offset: number;
  total: number;
}

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  completion: () => import("./commands/completion.ts"),
  run: () => import("./commands/run.ts"),
  explain: () => import("./commands/explain.ts"),
  doctor: () => import("./commands/doctor.ts"),
  selftest: () => import("./commands/selftest.ts"),
};

/** Invoked as this name (a symlink), cordon is a drop-in for runok's Linux sandbox helper. */
export const RUNOK_HELPER_NAME = "runok-linux-sandbox";

export async function runCli(args: string[]): Promise<number> {
  try {
    const { invokedName } = await import("../stage1/self.ts");
    if (invokedName() === RUNOK_HELPER_NAME) {
      const run = await COMMANDS.run!();
      return await run.default(args, { offset: 0, total: args.length });
    }
    const first = args[0];
    if (first === "--version" || first === "-V") {
      process.stdout.write(`${VERSION_LINE}\n`);
      return 0;
    }
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      const { topLevelHelp } = await import("./help.ts");
      const text = await topLevelHelp();
      if (first === undefined) {
        process.stderr.write(`${text}\ncordon: no command given\n`);
        return EXIT.CORDON;
      }
      process.stdout.write(text);
      return 0;
    }
    const named = first in COMMANDS;
    const name = named ? first : "run";
    const rest = named ? args.slice(1) : args;
    const command = await COMMANDS[name]!();
    return await command.default(rest, { offset: args.length - rest.length, total: args.length });
  } catch (error) {
    if (error instanceof CordonError) {
      process.stderr.write(formatError(error));
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`cordon: internal error: ${message}\n`);
    if (process.env.CORDON_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT.CORDON;
  }
}
