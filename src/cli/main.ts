// The CLI entry point: picks the command from the table, parses its options
// strictly, handles --help and --version for every command, runs it, and is
// the only place that turns an error into a message and an exit status.
import { CordonError, errorLines, EXIT, messageOf } from "../errors.ts";
import { VERSION_LINE } from "../version.ts";
import { parseCommandLine } from "./args.ts";
import type { CommandDef } from "./command.ts";
import { DEFAULT_COMMAND, isCommandName, loadAllCommands, loadCommand } from "./commands/index.ts";
import { checkOptionsAreUtf8 } from "./utf8.ts";

/** Invoked as this name (a symlink), cordon is a drop-in for runok's Linux sandbox helper. */
const RUNOK_HELPER_NAME = "runok-linux-sandbox";

async function runCommand(command: CommandDef, args: string[], total: number): Promise<number> {
  const usage = `usage: cordon ${command.usage}; see cordon ${command.meta.name} --help`;
  const parsed = parseCommandLine(args, command.options, usage);
  // `args` is the tail of the process's arguments; their bytes are the tail of its raw ones.
  const { rawArguments } = await import("../stage1/self.ts");
  checkOptionsAreUtf8(rawArguments(total).slice(total - args.length), parsed);
  if (parsed.options.help) {
    const { commandHelp } = await import("./help.ts");
    process.stdout.write(commandHelp(command));
    return 0;
  }
  if (parsed.options.version) {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (!command.operands && parsed.command.length > 0) {
    throw new CordonError(`${command.meta.name} takes no operands (got ${JSON.stringify(parsed.command[0])})`, {
      hint: usage,
    });
  }
  return command.run(parsed.options, parsed.command, {
    total,
    defaultCommand: DEFAULT_COMMAND,
    commands: loadAllCommands,
  });
}

async function dispatch(args: string[]): Promise<number> {
  const { invokedName } = await import("../stage1/self.ts");
  if (invokedName() === RUNOK_HELPER_NAME) return runCommand(await loadCommand(DEFAULT_COMMAND), args, args.length);
  const first = args[0];
  if (first === "--version" || first === "-V") {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    const { topLevelHelp } = await import("./help.ts");
    const text = topLevelHelp(await loadAllCommands(), await loadCommand(DEFAULT_COMMAND));
    if (first !== undefined) {
      process.stdout.write(text);
      return 0;
    }
    process.stderr.write(`${text}\ncordon: no command given\n`);
    return EXIT.CORDON;
  }
  const name = isCommandName(first) ? first : DEFAULT_COMMAND;
  const rest = isCommandName(first) ? args.slice(1) : args;
  return runCommand(await loadCommand(name), rest, args.length);
}

export async function runCli(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (error) {
    // Loaded only now: a run that ends without a word of cordon's never loads consola.
    const { printMessage } = await import("./messages.ts");
    if (error instanceof CordonError) {
      await printMessage("error", ...errorLines(error));
      return error.exitCode;
    }
    const message = messageOf(error);
    await printMessage("error", `internal error: ${message}`);
    if (process.env.CORDON_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT.CORDON;
  }
}
