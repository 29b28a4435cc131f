// Real-world runs that once failed: cordon started from /, a run that asked
// for landlock-only mode by name staying quiet, and a command reopening its
// own terminal by name under a real pty. Each runs the compiled binary, as
// root and as nobody, and checks that what must stay forbidden still is.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CORDON, cordon, isRoot, missingTool, run, modeArgs } from "../helpers/cordon.ts";

const USERS = [
  { label: "root", asNobody: false },
  { label: "nobody", asNobody: true },
].filter((user) => isRoot || !user.asNobody);

const PROBE = `/cordon-real-world-${process.pid}`;

describe.each(USERS)("as $label", ({ asNobody }) => {
  test.each(["bwrap", "landlock", "auto"])("from /, mode %s: runs, quietly, and / stays read-only", (mode) => {
    const result = cordon([...modeArgs(mode), "--", "sh", "-c", `touch ${PROBE}; touch .${PROBE}; true`], {
      cwd: "/",
      asNobody,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toContain("cordon:");
    expect(existsSync(PROBE)).toBe(false);
    expect(cordon(["explain", ...modeArgs(mode)], { cwd: "/", asNobody }).exitCode).toBe(0);
  });

  test("--mode landlock prints nothing of cordon's own; -v names what it does not enforce", () => {
    const quiet = cordon([...modeArgs("landlock"), "--", "true"], { cwd: "/tmp", asNobody });
    expect(quiet).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    const verbose = cordon(["-v", ...modeArgs("landlock"), "--", "true"], { cwd: "/tmp", asNobody });
    expect(verbose.stderr).toContain("landlock-only mode does not enforce");
  });
});

describe("under a real pty", () => {
  const skip = missingTool("script");
  test.skipIf(skip !== undefined)("the command reopens its own terminal by the name tty reports", () => {
    for (const mode of ["bwrap", "landlock"]) {
      const inner = `stty -F "$(tty)" size >/dev/null && echo reopened`;
      const command = `${CORDON} ${modeArgs(mode).join(" ")} -- sh -c '${inner}'`;
      const result = run(["script", "-qec", command, "/dev/null"]);
      expect(result.stdout).toContain("reopened");
      expect(result.stdout).not.toContain("Permission denied");
    }
  });
});
