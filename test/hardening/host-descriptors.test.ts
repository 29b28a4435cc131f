// --preserve-fds N hands descriptors 3..3+N-1 to the command: only ones the
// caller passed, never cordon's own. The runtime opens its event loop (an
// epoll, then an eventfd) at the lowest free numbers before any cordon code
// runs, so with nothing at 3, `cordon --preserve-fds 1` once gave the command
// cordon's epoll: it was seen as anon_inode:[eventpoll] in the command's
// /proc/self/fd, and a pipe registered in it with a chosen epoll_data made the
// supervisor dereference that pointer. And from 4 up, the passed descriptors
// did not reach the command at all (the runtime marks them close-on-exec).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, removeDir } from "../helpers/attacks.ts";
import { CORDON, isRoot, NOBODY, requireBinary, run, modeArgs, nobodyUnavailable } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const REFUSED = 125;

interface User {
  label: string;
  asNobody: boolean;
  unavailable?: string;
}

const USERS: User[] = [
  { label: isRoot ? "as root" : "as the invoking user", asNobody: false },
  { label: "as nobody", asNobody: true, unavailable: nobodyUnavailable() },
];

let dir = "";
beforeAll(() => {
  requireBinary();
  dir = hostDir("cordon-host-fds-");
  writeFileSync(join(dir, "three"), "through three\n");
  writeFileSync(join(dir, "five"), "through five\n");
});
afterAll(() => removeDir(dir));

/** A scratch directory the command may write (-w), owned by the user cordon runs as. */
function workDir(user: User, name: string): string {
  const work = join(dir, name);
  mkdirSync(work);
  if (user.asNobody) chownSync(work, NOBODY, NOBODY);
  return work;
}

/**
 * cordon with `args` from a shell that opens exactly `redirects` (such as
 * `3<file`): Bun.spawn leaves nothing above 2 open in the shell.
 */
function cordonWith(user: User, redirects: string, args: string[]) {
  return run(["sh", "-c", `exec "$0" "$@" ${redirects}`, CORDON, ...args], { asNobody: user.asNobody });
}

function quietMode(mode: string): string[] {
  return [...modeArgs(mode), "-q"];
}

test.skipIf(!isRoot)("the premise: with nothing passed at 3, cordon's own fd 3 is the runtime's epoll", async () => {
  requireBinary();
  const child = Bun.spawn([CORDON, "-q", "--", "sh", "-c", "echo ready; sleep 30"], { stdout: "pipe", stderr: "pipe" });
  try {
    await child.stdout.getReader().read();
    expect(readlinkSync(`/proc/${child.pid}/fd/3`)).toBe("anon_inode:[eventpoll]");
    expect(readlinkSync(`/proc/${child.pid}/fd/4`)).toBe("anon_inode:[eventfd]");
  } finally {
    child.kill("SIGTERM");
    await child.exited;
  }
});

for (const mode of MODES) {
  for (const user of USERS) {
    const reasons = [user.unavailable];
    describe(`${mode} mode, ${user.label}: --preserve-fds`, () => {
      attackTest(
        "with nothing passed at 3, --preserve-fds 1 is refused naming fd 3; the command never runs",
        reasons,
        () => {
          const work = workDir(user, `${mode}-${user.asNobody ? "nobody" : "self"}-unpassed`);
          const marker = join(work, "ran");
          const result = cordonWith(user, "", [
            ...modeArgs(mode),
            "-w",
            work,
            "--preserve-fds",
            "1",
            "--",
            "sh",
            "-c",
            `touch '${marker}'; readlink /proc/self/fd/3`,
          ]);
          expect(result.exitCode).toBe(REFUSED);
          expect(result.stderr).toContain(
            "--preserve-fds 1: descriptor 3 was not passed to cordon: it is the runtime's own (anon_inode:[eventpoll])",
          );
          expect(result.stdout).toBe("");
          expect(existsSync(marker)).toBe(false);
        },
      );

      attackTest("with 3 and 5 passed but not 4, --preserve-fds 3 is refused naming fd 4", reasons, () => {
        const work = workDir(user, `${mode}-${user.asNobody ? "nobody" : "self"}-gap`);
        const marker = join(work, "ran");
        const result = cordonWith(user, `3<'${join(dir, "three")}' 5<'${join(dir, "five")}'`, [
          ...modeArgs(mode),
          "-w",
          work,
          "--preserve-fds",
          "3",
          "--",
          "touch",
          marker,
        ]);
        expect(result.exitCode).toBe(REFUSED);
        expect(result.stderr).toContain("descriptor 4 was not passed to cordon: it is the runtime's own");
        expect(existsSync(marker)).toBe(false);
      });

      attackTest("3, 4 and 5 passed all reach the command, each the caller's own file", reasons, () => {
        const work = workDir(user, `${mode}-${user.asNobody ? "nobody" : "self"}-passed`);
        const written = join(work, "four");
        writeFileSync(written, "");
        if (user.asNobody) chownSync(written, NOBODY, NOBODY);
        const result = cordonWith(user, `3<'${join(dir, "three")}' 4>>'${written}' 5<'${join(dir, "five")}'`, [
          ...modeArgs(mode),
          "--preserve-fds",
          "3",
          "--",
          "sh",
          "-c",
          // Nothing but 3-5 above 2: the listing's own descriptor is the only other one.
          "cat <&3; echo through four >&4; cat <&5; ls /proc/self/fd | sort -n | tr '\\n' ' '",
        ]);
        expect(result.stderr).toBe("");
        expect(result.exitCode).toBe(0);
        const [three, five, listing] = result.stdout.split("\n");
        expect([three, five]).toEqual(["through three", "through five"]);
        expect(listing!.trim().split(" ").map(Number).slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(listing!.trim().split(" ").length).toBeLessThanOrEqual(7);
        expect(readFileSync(written, "utf8")).toBe("through four\n");
      });
    });
  }
}
