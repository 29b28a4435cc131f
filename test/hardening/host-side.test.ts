// The host side stays out of the sandbox's reach. Stage 1 runs outside the
// sandbox with all of the user's rights: whatever it touches after the command
// starts, and whatever runs as cordon next time, is attack surface.
//   - --report FILE inside a write root: the command swaps the report for a
//     symlink to a victim, and a write by path after the run would follow it.
//   - cordon's own files inside a write root: the command rewrites the cordon
//     that the next run starts unsandboxed.
import { afterAll, beforeAll, describe, expect } from "bun:test";
import {
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, removeDir } from "../helpers/attacks.ts";
import { CORDON, cordon, isRoot, missingTool, NOBODY, run, type RunOptions } from "../helpers/cordon.ts";
import { MODES, type Mode } from "./modes.ts";

const VICTIM_TEXT = "the victim's own content\n";
const notRoot = isRoot ? undefined : "needs root to run as nobody";
const noMkfifo = missingTool("mkfifo");

/** A directory the user under test owns: a write root, or a place for its victims. */
function ownedDir(prefix: string, asNobody: boolean): string {
  const dir = hostDir(prefix);
  if (asNobody) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** A file of the user's own outside every write root: what an attack would destroy. */
function victimIn(dir: string, asNobody: boolean): string {
  const victim = join(dir, "victim");
  writeFileSync(victim, VICTIM_TEXT);
  if (asNobody) chownSync(victim, NOBODY, NOBODY);
  return victim;
}

/** cordon's options for `mode`; landlock-only mode as root must accept the metadata gap by name. */
function modeArgs(mode: Mode, asNobody: boolean): string[] {
  const metadata = mode === "landlock" && !asNobody ? ["--allow-degraded", "metadata"] : [];
  return ["--mode", mode, "-q", ...metadata];
}

function cordonAs(asNobody: boolean, args: string[], options: RunOptions = {}) {
  return cordon(args, { ...options, asNobody });
}

const scratch: string[] = [];
afterAll(() => scratch.forEach(removeDir));
function tracked(dir: string): string {
  scratch.push(dir);
  return dir;
}

for (const mode of MODES) {
  for (const asNobody of [false, true]) {
    const who = asNobody ? "as nobody" : "as root";
    const skip = asNobody ? [notRoot] : [];

    describe(`${mode} mode, ${who}: --report inside a write root`, () => {
      attackTest("the command swaps the report for a symlink: the victim is untouched", skip, () => {
        const root = tracked(ownedDir("cordon-report-root-", asNobody));
        const victim = victimIn(tracked(ownedDir("cordon-report-victim-", asNobody)), asNobody);
        // The report goes on under another name; a symlink to the victim takes its place.
        const swap = `mv r.json kept.json && ln -s ${victim} r.json`;
        const args = [...modeArgs(mode, asNobody), "-w", ".", "--report", "r.json", "--", "sh", "-c", swap];
        const result = cordonAs(asNobody, args, { cwd: root });
        expect(result.exitCode).toBe(0);
        expect(readFileSync(victim, "utf8")).toBe(VICTIM_TEXT);
        // The report went to the file cordon opened before the run, wherever the command moved it.
        expect(JSON.parse(readFileSync(join(root, "kept.json"), "utf8"))).toMatchObject({ exitStatus: 0, mode });
        expect(result.stderr).toContain("cordon: warning: the file now at r.json is not cordon's report");

        // Without the protection: a write by path, as cordon did, now lands in the victim.
        writeFileSync(join(root, "r.json"), "{}\n");
        expect(readFileSync(victim, "utf8")).toBe("{}\n");
      });

      attackTest("the command removes the report: a warning, the command's status stands", skip, () => {
        const root = tracked(ownedDir("cordon-report-gone-", asNobody));
        const args = [...modeArgs(mode, asNobody), "-w", ".", "--report", "r.json", "--", "sh", "-c", "rm r.json"];
        const result = cordonAs(asNobody, args, { cwd: root });
        expect(result.exitCode).toBe(0);
        expect(result.stderr).toContain("the file now at r.json is not cordon's report");
        expect(existsSync(join(root, "r.json"))).toBe(false);
      });
    });

    describe(`${mode} mode, ${who}: a report path cordon refuses before the run`, () => {
      let root: string;
      let victim: string;
      let marker: string;
      beforeAll(() => {
        root = tracked(ownedDir("cordon-report-bad-", asNobody));
        victim = victimIn(tracked(ownedDir("cordon-report-bad-victim-", asNobody)), asNobody);
        marker = join(root, "ran");
      });

      /** Runs with `--report report`; refused: 125, the message, nothing run, the victim untouched. */
      const expectRefused = (report: string, message: string) => {
        const args = [...modeArgs(mode, asNobody), "-w", ".", "--report", report, "--", "touch", marker];
        const result = cordonAs(asNobody, args, { cwd: root, timeoutMs: 20_000 });
        expect(result.stderr).toContain(`cordon: --report ${report}: ${message}`);
        expect(result.stderr).not.toContain("    at ");
        expect(result.exitCode).toBe(125);
        expect(existsSync(marker)).toBe(false);
        expect(readFileSync(victim, "utf8")).toBe(VICTIM_TEXT);
      };
      /** `path`, made the user's own. */
      const owned = (path: string) => {
        if (asNobody) chownSync(path, NOBODY, NOBODY);
        return path;
      };

      attackTest("a symlink (an earlier run planted it)", skip, () => {
        symlinkSync(victim, join(root, "link.json"));
        expectRefused("link.json", "is a symlink, which cordon does not follow");
      });

      attackTest("a directory on the way that is a symlink inside the write root (reports -> elsewhere)", skip, () => {
        symlinkSync(join(victim, ".."), join(root, "reports"));
        expectRefused("reports/victim", `${root}/reports on the way is a symlink inside a directory`);
      });

      attackTest("a FIFO: refused at once, never waited on", [...skip, noMkfifo], () => {
        const fifo = join(root, "fifo");
        expect(run(["mkfifo", fifo]).exitCode).toBe(0);
        owned(fifo);
        expectRefused("fifo", "is a FIFO");
      });

      attackTest("a directory", skip, () => {
        mkdirSync(join(root, "dir"));
        owned(join(root, "dir"));
        expectRefused("dir", "is a directory");
      });

      attackTest("a file with another name (a hard link to the victim)", skip, () => {
        linkSync(victim, join(root, "hard.json"));
        expectRefused("hard.json", "has 2 hard links");
      });

      attackTest("a place cordon cannot write", skip, () => {
        const report = "/proc/cordon-report.json";
        const args = [...modeArgs(mode, asNobody), "--report", report, "--", "touch", marker];
        const result = cordonAs(asNobody, args, { cwd: root });
        expect(result.stderr).toContain(`cordon: --report ${report}: cannot write there`);
        expect(result.exitCode).toBe(125);
        expect(existsSync(marker)).toBe(false);
      });
    });
  }
}

describe("cordon's own files inside a write root", () => {
  let root: string;
  let copy: string;
  let marker: string;
  beforeAll(() => {
    root = tracked(hostDir("cordon-planted-"));
    mkdirSync(join(root, "bin"));
    copy = join(root, "bin", "cordon");
    copyFileSync(CORDON, copy);
    run(["chmod", "755", copy]);
    marker = join(root, "ran");
  });

  const refusal = "lies inside the write root";
  const hint = "--allow-degraded cordon-writable";

  for (const mode of MODES) {
    attackTest(`${mode} mode: a copy of the binary in the write root is refused; accepted by name it runs`, [], () => {
      const options = [...modeArgs(mode, false), "-w", root];
      const refused = run([copy, ...options, "--", "touch", marker]);
      expect(refused.exitCode).toBe(125);
      expect(refused.stderr).toContain(`cordon: cordon's executable ${copy} ${refusal} ${root}`);
      expect(refused.stderr).toContain(hint);
      expect(refused.stderr).toContain("npm install -g cordon");
      expect(existsSync(marker)).toBe(false);

      const accepted = run([copy, ...options, "--allow-degraded", "cordon-writable", "--", "touch", marker]);
      expect(accepted.exitCode).toBe(0);
      expect(existsSync(marker)).toBe(true);
      removeDir(marker);
    });
  }

  attackTest("a symlink to cordon inside the write root, through which it was started, is refused", [], () => {
    const link = join(root, "cordon-link");
    symlinkSync(CORDON, link);
    const result = run([link, ...modeArgs("bwrap", false), "-w", root, "--", "touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`the symlink ${link} (on the path cordon was started by) ${refusal} ${root}`);
    expect(existsSync(marker)).toBe(false);
  });

  attackTest("a symlink to cordon inside the write root, found on PATH by its bare name, is refused", [], () => {
    const dir = join(root, "path-bin");
    mkdirSync(dir);
    symlinkSync(CORDON, join(dir, "cordon"));
    const line = `PATH='${dir}':"$PATH" exec cordon "$@"`;
    const result = run(["sh", "-c", line, "sh", ...modeArgs("bwrap", false), "-w", root, "--", "touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(`the symlink ${dir}/cordon (on the path cordon was started by) ${refusal} ${root}`);
    expect(existsSync(marker)).toBe(false);
  });

  attackTest("an npm package in the write root (a stand-in layout) is refused; the variable stays cordon's", [], () => {
    const pkg = join(root, "node_modules", "cordon");
    mkdirSync(join(pkg, "bin"), { recursive: true });
    copyFileSync(join(import.meta.dir, "../../bin/cordon.cjs"), join(pkg, "bin", "cordon.cjs"));
    const env = { CORDON_NPM_PACKAGE: pkg };
    const refused = cordon([...modeArgs("bwrap", false), "-w", root, "--", "touch", marker], { env });
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toContain(`cordon's npm package ${pkg} ${refusal} ${root}`);
    expect(existsSync(marker)).toBe(false);

    // A write root inside the package reaches it just the same.
    const inside = cordon([...modeArgs("bwrap", false), "-w", join(pkg, "bin"), "--", "true"], { env });
    expect(inside.exitCode).toBe(125);
    expect(inside.stderr).toContain(`the write root ${pkg}/bin lies inside cordon's npm package ${pkg}`);

    // Outside the write roots it runs, and the command never sees the variable.
    const elsewhere = tracked(hostDir("cordon-planted-elsewhere-"));
    const printVariable = ["sh", "-c", "echo ${CORDON_NPM_PACKAGE-unset}"];
    const echo = cordon([...modeArgs("bwrap", false), "-w", elsewhere, "--", ...printVariable], { env });
    expect(echo.exitCode).toBe(0);
    expect(echo.stdout).toBe("unset\n");
  });
});
