// Shell completion is generated from the option tables: every option appears,
// and bash accepts and runs the script.
import { expect, test } from "bun:test";
import { bashCompletion } from "../../src/cli/commands/completion.ts";
import { RUN_OPTIONS } from "../../src/cli/commands/run-options.ts";
import { cordon, missingTool, run } from "../helpers/cordon.ts";

test("every run option is offered", () => {
  const script = bashCompletion();
  for (const name of Object.keys(RUN_OPTIONS)) expect(script).toContain(`--${name}`);
});

test.skipIf(Boolean(missingTool("bash")))("bash completes options, modes and profiles from the real binary's script", () => {
  const generated = cordon(["completion", "bash"]);
  expect(generated.exitCode).toBe(0);
  const complete = (words: string[]) =>
    run(["bash", "-c", `${generated.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _cordon; echo "\${COMPREPLY[@]}"`]).stdout.trim();
  expect(complete(["cordon", "--deny-r"])).toBe("--deny-read");
  expect(complete(["cordon", "--mode", ""])).toBe("auto bwrap landlock");
  expect(complete(["cordon", "--profile", "w"])).toBe("workspace");
  expect(cordon(["completion", "fish"]).exitCode).toBe(125);
});
