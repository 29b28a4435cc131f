// Adversarial review of the host-side changes (--report by descriptor,
// cordon's own files outside the write roots, --preserve-fds). Each test
// asserts the secure behaviour and fails while the hole it names is open.
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { attackTest, holeTest, hostDir, removeDir } from "../helpers/attacks.ts";
import { CORDON, cordon, isRoot, missingTool, NOBODY, run } from "../helpers/cordon.ts";

const VICTIM_TEXT = "the victim's own content\n";
const notRoot = isRoot ? undefined : "needs root (mount, setpriv)";
const noMount = missingTool("mount");

const dirs: string[] = [];
function tracked(dir: string): string {
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

describe("--report on a refusal before the policy is known", () => {
  // finish() opens the report with only the working directory as suspect when
  // cordon refuses in choosePolicy (unknown profile, bad policy file, ...): the
  // -w roots on the command line are not suspects, so a symlink an earlier run
  // planted inside one is followed, and cordon truncates the file it leads to.
  for (const asNobody of [false, true]) {
    const who = asNobody ? "as nobody" : "as root";
    attackTest(
      `${who}: a planted symlink in a -w root is refused, the victim untouched`,
      [asNobody ? notRoot : undefined],
      () => {
        const root = tracked(hostDir("cordon-rv-report-root-"));
        const victimDir = tracked(hostDir("cordon-rv-report-victim-"));
        const elsewhere = tracked(hostDir("cordon-rv-report-cwd-"));
        const victim = join(victimDir, "r.json");
        writeFileSync(victim, VICTIM_TEXT);
        // What an earlier `cordon -w ROOT` run could leave: ROOT/out -> the victim's directory.
        symlinkSync(victimDir, join(root, "out"));
        if (asNobody) for (const path of [root, victimDir, victim]) chownSync(path, NOBODY, NOBODY);
        const result = cordon(
          ["-w", root, "--profile", "no-such-profile", "--report", join(root, "out", "r.json"), "--", "true"],
          { cwd: elsewhere, asNobody },
        );
        expect(result.exitCode).toBe(125);
        expect(readFileSync(victim, "utf8")).toBe(VICTIM_TEXT);
      },
    );
  }
});

describe("cordon's executable reachable through another path of the same directory", () => {
  // plan/sandbox.ts compares canonical paths only. A bind mount (fstab, a
  // container's volume, `mount --bind`) gives the directory that holds cordon a
  // second path that realpath does not lead back from: -w ALIAS lets the
  // command replace the cordon that the next run starts unsandboxed.
  holeTest(
    "a write root that is a bind-mounted alias of cordon's directory is refused",
    "write roots are compared with cordon's files by canonical path, not by the identity of each directory",
    [notRoot, noMount],
    () => {
      const base = tracked(hostDir("cordon-rv-alias-"));
      const binDir = join(base, "bin");
      const alias = join(base, "alias");
      mkdirSync(binDir);
      mkdirSync(alias);
      const binary = join(binDir, "cordon");
      copyFileSync(CORDON, binary);
      chmodSync(binary, 0o755);
      const mounted = run(["mount", "--bind", binDir, alias]);
      expect(mounted.exitCode).toBe(0);
      try {
        const trojan =
          `mv ${alias}/cordon ${alias}/old && ` +
          `printf '#!/bin/sh\\necho TROJAN\\n' > ${alias}/cordon && chmod +x ${alias}/cordon`;
        const result = run([binary, "--mode", "bwrap", "-w", alias, "--", "sh", "-c", trojan]);
        expect(result.exitCode).toBe(125);
        expect(result.stderr).toContain("cordon-writable");
        expect(run([binary, "--version"]).stdout).not.toContain("TROJAN");
      } finally {
        run(["umount", alias]);
      }
    },
  );
});

describe("the shared libraries cordon and bubblewrap load", () => {
  // cordon refuses a write root holding bwrap, but not one holding the libc
  // that dist/cordon (and bwrap) load unsandboxed on the next run.
  holeTest(
    "a write root holding cordon's libc is refused",
    "the libraries cordon and bwrap load are not counted among cordon's files " +
      "(such a write root exposes every program)",
    [],
    () => {
      const ldd = run(["ldd", CORDON]).stdout;
      const libc = /libc\.so\.6 => (\S+)/.exec(ldd)?.[1];
      expect(libc).toBeDefined();
      const result = cordon(["--mode", "bwrap", "-w", dirname(libc!), "--", "true"]);
      expect(result.exitCode).toBe(125);
    },
  );
});

describe("the PATH lookup of a bare `cordon`", () => {
  // cordon-files.ts checks the symlinks on the way to the PATH match, but not
  // the PATH directories searched before it: a write root that is one of them
  // lets the command drop a `cordon` there, which the next bare `cordon` runs
  // unsandboxed (PATH=~/bin:/usr/local/bin with -w ~/bin, or "." on PATH with -w .).
  attackTest("a write root that is an earlier PATH entry than cordon's is refused", [], () => {
    const base = tracked(hostDir("cordon-rv-path-"));
    const early = join(base, "early");
    const binDir = join(base, "bin");
    mkdirSync(early);
    mkdirSync(binDir);
    const binary = join(binDir, "cordon");
    copyFileSync(CORDON, binary);
    chmodSync(binary, 0o755);
    const env = { PATH: `${early}:${binDir}:/usr/bin:/bin` };
    const plant = `printf '#!/bin/sh\\necho TROJAN\\n' > ${early}/cordon && chmod +x ${early}/cordon`;
    const result = run(
      ["sh", "-c", 'exec cordon "$@"', "sh", "--mode", "bwrap", "-w", early, "--", "sh", "-c", plant],
      {
        env,
      },
    );
    expect(result.exitCode).toBe(125);
    expect(run(["sh", "-c", "cordon --version"], { env }).stdout).not.toContain("TROJAN");
  });
});
