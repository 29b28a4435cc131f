// cordon's own messages go through consola (issue 16, item 11): coloured on a
// terminal only, never with NO_COLOR or off a terminal, and consola is loaded
// only when a message is printed, so a quiet run never pays for it.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { wantsColour } from "../../src/cli/messages.ts";
import { CORDON, cordon, missingTool, REPO, run } from "../helpers/cordon.ts";

const ESC = "\u001b[";
const missingScript = missingTool("script");

/** Runs cordon ARGS with a pseudo-terminal as its stdio (util-linux `script`), returning what it printed. */
function onTerminal(args: string[], env: Record<string, string | undefined> = {}): string {
  const line = [CORDON, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  return run(["script", "-qec", line, "/dev/null"], { env: { TERM: "xterm", ...env } }).stdout;
}

describe("colour", () => {
  test("off a terminal, no ANSI codes, whatever CI or FORCE_COLOR say", () => {
    const result = cordon(["-w", "/nonexistent-cordon-root", "--", "true"], { env: { CI: "true", FORCE_COLOR: "1" } });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toStartWith("cordon: ");
    expect(result.stderr).not.toContain(ESC);
  });

  test.skipIf(missingScript !== undefined)("on a terminal, the prefix takes the level's colour", () => {
    const said = onTerminal(["-w", "/nonexistent-cordon-root", "--", "true"], { NO_COLOR: undefined });
    expect(said).toContain(`${ESC}31mcordon:`);
    expect(said).toContain("write root /nonexistent-cordon-root");
  });

  test.skipIf(missingScript !== undefined)("NO_COLOR on a terminal: plain text", () => {
    const said = onTerminal(["-w", "/nonexistent-cordon-root", "--", "true"], { NO_COLOR: "1" });
    expect(said).toContain("cordon: write root /nonexistent-cordon-root");
    expect(said).not.toContain(ESC);
  });

  test("the decision: a terminal, TERM not dumb, NO_COLOR unset or empty", () => {
    expect(wantsColour({ TERM: "xterm" }, true)).toBe(true);
    expect(wantsColour({ TERM: "xterm", NO_COLOR: "" }, true)).toBe(true);
    expect(wantsColour({ TERM: "xterm", NO_COLOR: "1" }, true)).toBe(false);
    expect(wantsColour({ TERM: "dumb" }, true)).toBe(false);
    expect(wantsColour({ TERM: "xterm", CI: "true", FORCE_COLOR: "1" }, false)).toBe(false);
  });
});

describe("consola is loaded only when a message is printed", () => {
  const sources = readdirSync(join(REPO, "src"), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(REPO, join(entry.parentPath, entry.name)));

  test("only src/cli/messages.ts imports consola", () => {
    const importers = sources.filter((file) =>
      /["']consola(\/[a-z]+)?["']/.test(readFileSync(join(REPO, file), "utf8")),
    );
    expect(importers).toEqual(["src/cli/messages.ts"]);
  });

  test("messages.ts is reached only through import(), never a static import", () => {
    const staticImport = /^\s*import\s+(?!type\b)[^;]*["'][./]*(?:cli\/)?messages\.ts["']/m;
    const offenders = sources.filter((file) => staticImport.test(readFileSync(join(REPO, file), "utf8")));
    expect(offenders).toEqual([]);
  });

  // The bundler hoists a static import of a Node built-in to the top of the binary, lazy module or not:
  // consola/utils' node:tty once cost every run, quiet ones too, about 6 ms of CPU.
  test("the bundle loads no node:tty at start-up", async () => {
    const built = await Bun.build({ entrypoints: [join(REPO, "src/main.ts")], target: "bun", format: "esm" });
    expect(built.success).toBe(true);
    const text = await built.outputs[0]!.text();
    expect(text).not.toMatch(/^import[^;]*from\s*"(node:)?tty"/m);
  });

  test("messages.ts imports consola only inside a function (import()), never at its top", () => {
    const text = readFileSync(join(REPO, "src/cli/messages.ts"), "utf8");
    expect(text).not.toMatch(/^import\s+(?!type\b)[^;]*["']consola/m);
    expect(text).toContain('import("consola/core")');
  });
});
