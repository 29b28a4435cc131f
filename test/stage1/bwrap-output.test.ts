// What a user sees when bwrap cannot start the sandbox (issue 16, items 8 and
// 10): bwrap's own stderr is cordon's to interpret until the command starts,
// so its raw line never shows, -q silences an allowed fallback, and a refusal
// is three lines: the cause, the one fix, the alternative. The command's own
// fd 2 stays the caller's file throughout.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FakeBwraps } from "../diagnostics/fake-bwrap.ts";
import { CORDON, cordon, isRoot, missingTool, modeArgs, run, scratchDir } from "../helpers/cordon.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";
const noUnshare = isRoot ? missingTool("unshare") : "needs root to write user.max_user_namespaces in a user namespace";
const ACCEPT_AS_ROOT = isRoot ? ["--allow-degraded", "metadata"] : [];
const DOCKER_MESSAGE =
  "bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged " +
  "user namespaces.";

const fakes = new FakeBwraps();
const cleanup: string[] = [];
afterAll(() => {
  fakes.cleanup();
  for (const path of cleanup) rmSync(path, { recursive: true, force: true });
});

/** cordon ARGS in a user namespace of its own whose user.max_user_namespaces is 0: no userns for bwrap. */
function withoutUserns(args: string[]) {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  return run(["unshare", "-Ur", "sh", "-c", `echo 0 > /proc/sys/user/max_user_namespaces; exec ${quoted}`]);
}

const lines = (text: string) => text.split("\n").filter((line) => line !== "");

describe.skipIf(noBwrap !== undefined || noUnshare !== undefined)("no user namespaces (a real bwrap)", () => {
  // A write root: without one, landlock-only mode locks metadata with seccomp and root may fall back.
  test("-q: no raw bwrap line, and the refusal is three lines of cordon's", () => {
    const dir = scratchDir();
    cleanup.push(dir);
    const result = withoutUserns([CORDON, "-q", "-w", dir, "--", "true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).not.toContain("bwrap:");
    expect(result.stderr).not.toContain("Creating new namespace");
    const said = lines(result.stderr);
    expect(said).toHaveLength(3);
    expect(said.every((line) => line.startsWith("cordon: "))).toBe(true);
    expect(said[0]).toContain("user.max_user_namespaces=0");
    expect(said[1]).toBe(
      "cordon: fix: `sudo sysctl -w user.max_user_namespaces=15000` (and a line in /etc/sysctl.d/ to keep it)",
    );
    expect(said[2]).toStartWith("cordon: or: running as root, `--mode landlock --allow-degraded metadata`");
    expect(said[2]).toContain("chmod of system files is not blocked");
  });

  test("-v says the run was refused and why, not 'mode bwrap ... nothing weaker'", () => {
    const dir = scratchDir();
    cleanup.push(dir);
    const result = withoutUserns([CORDON, "-v", "-w", dir, "--", "true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).not.toContain("nothing weaker");
    expect(result.stderr).not.toMatch(/cordon: mode bwrap/);
    expect(result.stderr).toMatch(/cordon: refused, the command was not run: .*user\.max_user_namespaces=0/);
  });

  test("the fallback, accepted, is one line that -q silences", () => {
    const dir = scratchDir();
    cleanup.push(dir);
    const args = [CORDON, ...ACCEPT_AS_ROOT, "-w", dir, "--", "sh", "-c", `echo ran > ${dir}/out`];
    const said = lines(withoutUserns(args).stderr);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^cordon: bubblewrap cannot run here: .*; using landlock-only mode \(/);
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("ran\n");
    const quiet = withoutUserns([CORDON, "-q", ...args.slice(1)]);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe("");
  });
});

describe.skipIf(noBwrap !== undefined)("nested: cordon inside another sandbox", () => {
  test.each(["bwrap", "landlock"])("inside %s mode, it says so instead of blaming a container", (mode) => {
    const result = cordon([...modeArgs(mode), "--", CORDON, "--mode", "bwrap", "--", "true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).not.toContain("bwrap:");
    expect(result.stderr).not.toMatch(/docker|container/);
    const outer = mode === "bwrap" ? "a bwrap sandbox" : "another cordon's sandbox";
    expect(lines(result.stderr)[0]).toContain(`cordon runs inside ${outer}`);
    expect(lines(result.stderr)).toHaveLength(3);
  });
});

describe("a fake bwrap that fails like Docker's default profile", () => {
  const bwrap = fakes.failing("docker-like", DOCKER_MESSAGE);

  test("auto mode: one line, naming the cause, never bwrap's raw text; -q: nothing", () => {
    const result = cordon(["--bwrap", bwrap, ...ACCEPT_AS_ROOT, "--", "echo", "ran"]);
    expect(result.stdout).toBe("ran\n");
    expect(result.stderr).not.toContain("bwrap: No permissions");
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain("using landlock-only mode");
    const quiet = cordon(["-q", "--bwrap", bwrap, ...ACCEPT_AS_ROOT, "--", "echo", "ran"]);
    expect(quiet.stdout).toBe("ran\n");
    expect(quiet.stderr).toBe("");
  });

  test("--mode bwrap: three lines, the third the landlock-only alternative", () => {
    const result = cordon(["--mode", "bwrap", "--bwrap", bwrap, "--", "true"]);
    expect(result.exitCode).toBe(125);
    const said = lines(result.stderr);
    expect(said).toHaveLength(3);
    expect(said[1]).toStartWith("cordon: fix: ");
    expect(said[2]).toStartWith("cordon: or: `--mode landlock");
  });
});

describe.skipIf(noBwrap !== undefined)("the command's stderr, with bwrap's captured", () => {
  test.each(["bwrap", "landlock"])("%s mode: stage 2's own errors still reach the user", (mode) => {
    const result = cordon([...modeArgs(mode), "-q", "--", "/nonexistent/cordon-command"]);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toBe("cordon: /nonexistent/cordon-command: No such file or directory\n");
  });

  test.each(["bwrap", "landlock"])("%s mode: a closed fd 2 stays /dev/null, nothing else", (mode) => {
    const script = `"$0" ${modeArgs(mode).join(" ")} -q -- readlink /proc/self/fd/2 2>&-`;
    const result = run(["sh", "-c", script, CORDON]);
    expect(result.stdout).toBe("/dev/null\n");
  });

  test.each(["bwrap", "landlock"])("%s mode: --preserve-fds leaves fd 2 and no descriptor of cordon's", (mode) => {
    const dir = scratchDir();
    cleanup.push(dir);
    const script =
      `"$0" ${modeArgs(mode).join(" ")} -q --preserve-fds 1 -- ` +
      `sh -c 'readlink /proc/self/fd/2; ls /proc/self/fd' 3</dev/null 2>>"$1/err"`;
    const result = run(["sh", "-c", script, CORDON, dir]);
    const [fd2, ...fds] = lines(result.stdout);
    expect(fd2).toBe(join(dir, "err"));
    // 0, 1, 2, the preserved 3, and ls's own directory descriptor.
    expect(fds).toEqual(["0", "1", "2", "3", "4"]);
  });
});
