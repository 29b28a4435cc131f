// Help is rendered from each command's definition, the same way for every
// command: plain text, one USAGE block, lines of at most 80 columns.
import { expect, test } from "bun:test";
import { loadAllCommands } from "../../src/cli/commands/index.ts";
import { cordon } from "../helpers/cordon.ts";

const commands = await loadAllCommands();

test.each(commands.map((command) => command.meta.name))("cordon %s --help", (name) => {
  const result = cordon([name, "--help"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).not.toContain("\u001b[");
  expect(result.stdout.match(/^USAGE$/gm)).toHaveLength(1);
  expect(result.stdout).toContain(`cordon ${name === "run" ? "[run]" : name}`);
  const command = commands.find((candidate) => candidate.meta.name === name)!;
  for (const option of Object.keys(command.options)) expect(result.stdout).toContain(`--${option}`);
  expect(result.stdout.split("\n").filter((line) => line.length > 80)).toEqual([]);
});

test("cordon --help lists every command, then run's help", () => {
  const result = cordon(["--help"]);
  expect(result.exitCode).toBe(0);
  for (const command of commands) expect(result.stdout).toContain(`  ${command.meta.name}`);
  expect(result.stdout).toContain("WHAT IS ENFORCED");
  expect(cordon(["-V"]).stdout).toMatch(/^cordon \d/);
  expect(cordon(["run", "--version"]).stdout).toMatch(/^cordon \d/);
});
