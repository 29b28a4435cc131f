// Shell completion is generated from the option tables: every option appears,
// and bash accepts and runs the script.
import { expect, test } from "bun:test";
import { bashCompletion } from "../../src/cli/commands/completion.ts";
import { loadAllCommands } from "../../src/cli/commands/index.ts";
import { cordon, missingTool, run } from "../helpers/cordon.ts";

test("every option of every command is offered", async () => {
  const commands = await loadAllCommands();
  const script = bashCompletion(commands, "run");
  for (const command of commands) {
    expect(script).toContain(`    ${command.meta.name}) opts=`);
    for (const name of Object.keys(command.options)) expect(script).toContain(`--${name}`);
  }
});

test.skipIf(Boolean(missingTool("bash")))(
  "bash completes options, modes and profiles from the real binary's script",
  () => {
    const generated = cordon(["completion", "bash"]);
    expect(generated.exitCode).toBe(0);
    const complete = (words: string[]) =>
      run([
        "bash",
        "-c",
        `${generated.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); ` +
          `COMP_CWORD=${words.length - 1}; _cordon; echo "\${COMPREPLY[@]}"`,
      ]).stdout.trim();
    expect(complete(["cordon", "--deny-r"])).toBe("--deny-read");
    expect(complete(["cordon", "--mode", ""])).toBe("auto bwrap landlock");
    expect(complete(["cordon", "--profile", "w"])).toBe("workspace");
    expect(cordon(["completion", "fish"]).exitCode).toBe(125);
  },
);
