// cordon runs in untrusted directories: a bunfig.toml with a preload and a
// .env there must not reach cordon's own Bun runtime.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cordon, REPO, run, scratchDir, modeArgs } from "../helpers/cordon.ts";

const BUN = join(REPO, "node_modules/.bin/bun");
const cleanup: string[] = [];
afterEach(() => {
  for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
});

/** A working directory whose bunfig.toml preloads code that writes `marker`, and whose .env redirects TMPDIR. */
function hostileDirectory() {
  const dir = scratchDir("cordon-hostile-");
  const elsewhere = scratchDir("cordon-hostile-out-");
  cleanup.push(dir, elsewhere);
  const marker = join(elsewhere, "preload-ran");
  const evilTmp = join(elsewhere, "evil-tmp");
  mkdirSync(evilTmp);
  writeFileSync(join(dir, "evil.ts"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "pwned");\n`);
  writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./evil.ts"]\n\n[run]\npreload = ["./evil.ts"]\n');
  writeFileSync(join(dir, ".env"), `CORDON_DOTENV_MARKER=pwned\nTMPDIR=${evilTmp}\nBUN_OPTIONS=--preload ./evil.ts\n`);
  writeFileSync(join(dir, "probe.ts"), "console.log(`env=${process.env.CORDON_DOTENV_MARKER}`);\n");
  return { dir, marker, evilTmp };
}

describe("hostile bunfig.toml and .env in the working directory", () => {
  test.skipIf(!existsSync(BUN))("the files are hostile to a plain bun", () => {
    const { dir, marker } = hostileDirectory();
    const result = run([BUN, "run", "probe.ts"], { cwd: dir });
    expect(result.stdout).toContain("env=pwned");
    expect(existsSync(marker)).toBe(true);
  });

  test("have no effect on cordon: no preload, no .env variable, TMPDIR not redirected", () => {
    const { dir, marker, evilTmp } = hostileDirectory();
    const env = { CORDON_DOTENV_MARKER: undefined, TMPDIR: undefined, BUN_OPTIONS: undefined };
    const result = cordon([...modeArgs("landlock"), "-q", "-w", dir, "--", "sh", "-c", 'echo "TMPDIR=$TMPDIR"; env'], {
      cwd: dir,
      env,
    });
    expect(result.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(result.stdout).not.toContain("CORDON_DOTENV_MARKER");
    expect(result.stdout).not.toContain("BUN_OPTIONS");
    expect(result.stdout).not.toContain(evilTmp);
    expect(result.stdout).toMatch(/^TMPDIR=\/tmp\/cordon-/m);
    expect(readdirSync(evilTmp)).toEqual([]);
  });

  test("nor on cordon's own commands (--version, explain)", () => {
    const { dir, marker } = hostileDirectory();
    expect(cordon(["--version"], { cwd: dir }).exitCode).toBe(0);
    cordon(["explain"], { cwd: dir });
    expect(existsSync(marker)).toBe(false);
  });
});
