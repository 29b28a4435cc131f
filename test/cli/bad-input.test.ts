// Small false refusals and accepted mistakes from trying cordon as users do
// (issue 16, item 3, and the deleted working directory of item 2). Each runs
// the compiled binary; a mistake gets a clear error (125) and runs nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CORDON, cordon, missingTool, REPO, run } from "../helpers/cordon.ts";

const scratch = mkdtempSync(join(tmpdir(), "cordon-bad-input-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("option values", () => {
  test("-w -- COMMAND: the forgotten value is named; -- is no path, and nothing runs", () => {
    const marker = join(scratch, "ran");
    const result = cordon(["-w", "--", "touch", marker], { cwd: scratch });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("-w needs a value before --");
    expect(existsSync(marker)).toBe(false);
    // A directory really named "--" is still reachable as ./--.
    mkdirSync(join(scratch, "--"));
    expect(cordon(["-w", "./--", "--", "true"], { cwd: scratch }).exitCode).toBe(0);
  });

  test("--env with a name holding a space or a control character is refused, from flags and from files", () => {
    for (const args of [
      ["--env", "BAD NAME=1"],
      ["--env", "BAD NAME"],
      ["--env", "TAB\tNAME=1"],
      ["-p", '{"env":{"set":{"A B":"1"}}}'],
      ["-p", '{"env":{"unset":["A\\nB"]}}'],
    ]) {
      const result = cordon([...args, "--", "true"]);
      expect({ args, exitCode: result.exitCode }).toEqual({ args, exitCode: 125 });
      expect(result.stderr).not.toContain("internal error");
    }
    // npm's per-registry settings are names too.
    expect(cordon(["--env", "npm_config_//registry.example/:always-auth=true", "--", "true"]).exitCode).toBe(0);
  });
});

describe("a policy from a pipe", () => {
  test("-p /dev/stdin reads the policy from a pipe", () => {
    const file = join(scratch, "from-pipe");
    const result = cordon(["-p", "/dev/stdin", "--", "sh", "-c", `touch ${file}`], {
      stdin: JSON.stringify({ write: [scratch] }),
    });
    expect(result.exitCode).toBe(0);
    expect(existsSync(file)).toBe(true);
  });

  test("a directory is still no policy file", () => {
    const result = cordon(["-p", scratch, "--", "true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("is a directory");
  });
});

describe("a deleted working directory", () => {
  // Bun stops before any cordon code runs: documented in the README's Exit status.
  test("the binary: the runtime's own message and exit 1, as the README says", () => {
    const gone = join(scratch, "gone");
    mkdirSync(gone);
    const result = run(["sh", "-c", `cd '${gone}' && rmdir '${gone}' && exec "$0" -- true`, CORDON]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("The current working directory was deleted");
  });

  test.skipIf(missingTool("node") !== undefined)("the npm launcher says it cordon's way, exit 125", () => {
    const gone = join(scratch, "gone-npm");
    mkdirSync(gone);
    const launcher = join(REPO, "bin/cordon.cjs");
    const result = run(["sh", "-c", `cd '${gone}' && rmdir '${gone}' && exec node "$0" -- true`, launcher]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toBe(
      "cordon: the working directory was deleted; cd to an existing directory " +
        "(-C does not help: the runtime checks first)\n",
    );
    expect(existsSync(gone)).toBe(false);
  });
});
