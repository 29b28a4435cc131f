// cordon's own process. Stage 1 is the user's own program, run with the
// user's environment: LD_PRELOAD or BUN_OPTIONS the user exported reach it as
// they reach any program, and the command gets the user's environment too
// (it runs sandboxed, so that is fine). What must never happen is hostile code
// running in STAGE 2: it runs before Landlock and seccomp are applied, so code
// injected there would run unsandboxed on behalf of the command. Stage 2 is
// told apart by its argv (`__cordon-stage2 FD`) and, to be sure of the
// vehicle, the command's own line (Seccomp: 2) must show up.
import { afterAll, describe, expect } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AttackTools, attackTest, gccMissing, holeTest, hostDir, removeDir, sandboxed } from "../helpers/attacks.ts";
import { cordon, run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-self-");
const preloadMarker = join(scratch, "ld-preload.log");
const tools = gccMissing ? undefined : new AttackTools();
const evilLibrary =
  tools?.compile("preload-marker", { flags: ["-shared", "-fPIC", `-DMARKER="${preloadMarker}"`] }) ?? "";
afterAll(() => {
  tools?.cleanup();
  removeDir(scratch);
});

const STAGE2 = "__cordon-stage2";

function markerLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, "latin1").split("\n").filter(Boolean) : [];
}

for (const mode of MODES) {
  describe(`${mode} mode: cordon's own process`, () => {
    attackTest("LD_PRELOAD in the environment runs no code in stage 2", [gccMissing], () => {
      removeDir(preloadMarker);
      const result = sandboxed(mode, ["true"], { env: { LD_PRELOAD: evilLibrary }, write: [scratch] });
      expect(result.exitCode).toBe(0);
      const lines = markerLines(preloadMarker);
      // The vehicle works: the sandboxed command itself loaded the library.
      expect(lines).toContain("seccomp=2 cmdline=true");
      expect(lines.filter((line) => line.includes(STAGE2))).toEqual([]);
      // Nothing but stage 1 (the user's own process, cordon's argv) ran it unsandboxed.
      for (const line of lines.filter((l) => l.startsWith("seccomp=0 "))) {
        expect(line).toContain("--mode");
      }
    });

    attackTest("BUN_OPTIONS=--preload in the environment runs no code in stage 2", [], () => {
      const marker = join(scratch, "bun-options.log");
      const evil = join(scratch, "evil.js");
      writeFileSync(
        evil,
        `require("node:fs").appendFileSync(${JSON.stringify(marker)}, "argv=" + ` +
          `process.argv.slice(1).join(" ") + "\\n");\n`,
      );
      const env = { BUN_OPTIONS: `--preload ${evil}` };
      removeDir(marker);
      // The vehicle works: a plain Bun runs the preload.
      run([process.execPath, "-e", "0"], { env });
      expect(markerLines(marker).length).toBe(1);
      removeDir(marker);

      const result = sandboxed(mode, ["true"], { env, write: [scratch] });
      expect(result.exitCode).toBe(0);
      // Stage 1 (the compiled binary) honours BUN_OPTIONS like any Bun
      // program; the line it writes names cordon's own argv. Stage 2 starts
      // with an environment stage 1 controls, so it must not appear.
      expect(markerLines(marker).filter((line) => line.includes(STAGE2))).toEqual([]);
    });
  });
}

describe("cordon's own process, whatever the mode", () => {
  // BUN_BE_BUN=1 turns any `bun build --compile` binary back into the bun
  // CLI: `cordon run -- CMD` then means `bun run -- CMD`, which runs CMD with
  // no sandbox at all, and `cordon -- ./script.js` runs the script the same
  // way. An environment variable must never turn the sandbox off.
  const FORMS = [
    {
      form: "cordon run -- sh -c ...",
      argv: (marker: string) => ["run", "--", "sh", "-c", 'touch "$1"', "sh", marker],
    },
    { form: "cordon -- ./script.js", argv: (marker: string) => ["--", script(marker)] },
  ];
  function script(marker: string): string {
    const path = `${marker}.js`;
    writeFileSync(path, `#!/usr/bin/env node\nrequire("node:fs").writeFileSync(${JSON.stringify(marker)}, "");\n`, {
      mode: 0o755,
    });
    return path;
  }
  FORMS.forEach(({ form, argv }, i) => {
    attackTest(`BUN_BE_BUN=1 makes bun run it: \`${form.replace("cordon", "bun")}\` (control)`, [], () => {
      const marker = join(scratch, `be-bun-plain-${i}`);
      run([process.execPath, ...argv(marker)], { env: { BUN_BE_BUN: "1" } });
      expect(existsSync(marker)).toBe(true);
    });
    holeTest(
      `BUN_BE_BUN=1 in the environment cannot make \`${form}\` run unsandboxed`,
      "the compiled binary honours BUN_BE_BUN before any cordon code runs",
      [],
      () => {
        const marker = join(scratch, `be-bun-${i}`);
        const result = cordon(argv(marker), { env: { BUN_BE_BUN: "1" } });
        // Either sandboxed (the marker is outside every write root) or refused.
        expect(existsSync(marker)).toBe(false);
        expect(result.exitCode).not.toBe(0);
      },
    );
  });
});
