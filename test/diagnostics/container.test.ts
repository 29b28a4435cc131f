// The README's container recipe (issue 16, item 12), in a stand-in for a
// container: a new user, mount and PID namespace with a fresh /proc, masked
// or not the way Docker and podman mask it (a file bound over
// /proc/timer_list). No Docker or podman engine runs here.
import { expect, test } from "bun:test";
import { CORDON, missingTool, run } from "../helpers/cordon.ts";

const unshareMissing =
  missingTool("unshare") ??
  (run(["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc", "true"]).exitCode === 0
    ? undefined
    : "unshare cannot make a user, mount and PID namespace here");

/** Runs cordon with `args` in the stand-in container; `masked` as Docker's default systempaths. */
function inContainer(masked: boolean, args: string[]) {
  const mask = masked ? "mount --bind /dev/null /proc/timer_list && " : "";
  const script = `${mask}cd /var/tmp && exec "$0" "$@"`;
  return run(
    ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork", "--mount-proc"].concat([
      "sh",
      "-c",
      script,
      CORDON,
      ...args,
    ]),
  );
}

test.skipIf(unshareMissing !== undefined)("without systempaths=unconfined: one line, then landlock-only mode", () => {
  const result = inContainer(true, ["--", "echo", "ran"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe("ran\n");
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("masks parts of /proc");
  expect(lines[0]).toContain("landlock-only mode");
  // -q silences it.
  expect(inContainer(true, ["-q", "--", "true"]).stderr).toBe("");
});

test.skipIf(unshareMissing !== undefined)(
  "--mode bwrap there: refused in three lines, the fix naming every option Docker and podman need",
  () => {
    const result = inContainer(true, ["--mode", "bwrap", "--", "echo", "ran"]);
    expect(result.exitCode).toBe(125);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const option of ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined", "unmask=ALL"]) {
      expect(lines[1]).toContain(option);
    }
    expect(lines[2]).toContain("--mode landlock");
  },
);

test.skipIf(unshareMissing !== undefined)("with /proc whole (the recipe's flags): bwrap mode runs", () => {
  const result = inContainer(false, ["--mode", "bwrap", "--", "echo", "ran"]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe("ran\n");
});
