// The command table: each command's definition, loaded only when it runs.
import type { CommandDef } from "../command.ts";

type Loader = () => Promise<{ default: CommandDef }>;

export const COMMANDS = {
  run: () => import("./run.ts"),
  explain: () => import("./explain.ts"),
  doctor: () => import("./doctor.ts"),
  selftest: () => import("./selftest.ts"),
  completion: () => import("./completion.ts"),
} satisfies Record<string, Loader>;

type CommandName = keyof typeof COMMANDS;

export const DEFAULT_COMMAND: CommandName = "run";

export function isCommandName(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMANDS, name);
}

export async function loadCommand(name: CommandName): Promise<CommandDef> {
  return (await COMMANDS[name]()).default;
}

/** Every definition, in table order (help and completion). */
export async function loadAllCommands(): Promise<CommandDef[]> {
  return Promise.all((Object.keys(COMMANDS) as CommandName[]).map(loadCommand));
}
