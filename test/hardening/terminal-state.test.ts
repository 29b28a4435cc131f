// The user's terminal after the run: a sandboxed process that made itself
// the terminal's foreground group would read the next line the user types at
// their shell, and a command can leave the terminal raw and silent. cordon
// kills every process of the sandbox and puts the foreground group and the
// terminal's settings back before it returns. What it cannot put back (the
// line discipline, a hangup, locked settings) seccomp refuses.
import { afterAll, describe, expect } from "bun:test";
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  attempts,
  ERRNO,
  gccMissing,
  hostDir,
  python3Missing,
  removeDir,
  sandboxArgs,
} from "../helpers/attacks.ts";
import { CORDON, isRoot, NOBODY, commandLine, run } from "../helpers/cordon.ts";
import { typeOnTerminal } from "../helpers/tty.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-terminal-state-");
const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => {
  tools?.cleanup();
  removeDir(scratch);
});

/** The ioctls that would change the terminal beyond the run, as try-syscall names them. */
const TERMINAL_CHANGES = ["tiocsetd", "tioccons", "tiocvhangup", "tiocslcktrmios"] as const;

/** Takes the foreground, says so, and reads one line; a polite thief gives the terminal back after. */
const THIEF = `
import os, signal, sys, time
work = sys.argv[1]
if os.fork() == 0:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    fd = os.open("/dev/tty", os.O_RDWR)
    shell = os.tcgetpgrp(fd)
    os.tcsetpgrp(fd, os.getpgrp())
    open(work + "/took", "w").close()
    data = os.read(fd, 100)
    open(work + "/stolen", "wb").write(data)
    os.tcsetpgrp(fd, shell)
    os._exit(0)
while not os.path.exists(work + "/took"):
    time.sleep(0.02)
`;
const thief = join(scratch, "thief.py");
writeFileSync(thief, THIEF, { mode: 0o644 });

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
const shellLine = (argv: string[]) => argv.map(quote).join(" ");

/** Puts the terminal on stdout in exclusive mode: later opens by anyone without CAP_SYS_ADMIN fail (EBUSY). */
const SET_EXCLUSIVE = "import fcntl, termios; fcntl.ioctl(1, termios.TIOCEXCL)";
/** Suspends the terminal's output, as Ctrl-S does: whatever the shell writes next blocks. */
const SUSPEND_OUTPUT = "import termios; termios.tcflow(1, termios.TCOOFF)";
/** Opens /dev/tty as nobody, as the user's next pager or password prompt would (root would bypass EBUSY). */
const REOPEN_AS_USER = shellLine(
  commandLine(["sh", "-c", "stty -F /dev/tty size >/dev/null && echo REOPENED"], isRoot),
);
/** Writes after the run, giving up when the write blocks. */
const WRITE_AFTER = "timeout 3 echo NOT-FROZEN";

/** Prints whether stdin's open file is non-blocking. */
const PRINT_NONBLOCK = 'import fcntl, os; print("NONBLOCK", bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK))';

let counter = 0;
function workDir(owner?: number): string {
  const work = join(scratch, `work-${counter++}`);
  mkdirSync(work);
  if (owner !== undefined) chownSync(work, owner, owner);
  return work;
}

const USERS = [{ name: "root", asNobody: false }, ...(isRoot ? [{ name: "nobody", asNobody: true }] : [])];

describe("without cordon, on a real terminal", () => {
  attackTest("a process that takes the foreground reads the line typed next", [python3Missing], () => {
    const work = workDir();
    const script = `python3 ${quote(thief)} ${quote(work)}; echo COMMAND-RETURNED; sleep 1; echo SHELL-DONE`;
    const screen = typeOnTerminal(script, "COMMAND-RETURNED", "typed-secret");
    expect(screen.stdout).toContain("SHELL-DONE");
    expect(readFileSync(join(work, "stolen"), "latin1")).toContain("typed-secret");
  });

  attackTest("a command leaves O_NONBLOCK on the terminal it shares with the shell", [python3Missing], () => {
    const setNonblocking =
      "import fcntl, os; fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)";
    const check = `python3 -c '${PRINT_NONBLOCK}'`;
    expect(typeOnTerminal(`python3 -c '${setNonblocking}'; ${check}`, "NEVER", "").stdout).toContain("NONBLOCK True");
  });

  attackTest("a command leaves the terminal raw and silent", [], () => {
    const script =
      `before=$(stty -g); stty raw -echo; after=$(stty -g); stty "$before"; ` +
      `[ "$before" = "$after" ] && echo SAME || echo CHANGED`;
    expect(typeOnTerminal(script, "NEVER", "").stdout).toContain("CHANGED");
  });

  for (const user of USERS) {
    attackTest(`as ${user.name}, TIOCSETD N_NULL on stdin leaves the terminal deaf and mute`, [gccMissing], () => {
      const attack = shellLine(commandLine([trySyscall, "tty-change", "tiocsetd", "stdin"], user.asNobody));
      const screen = typeOnTerminal(`${attack}; echo "AFTER $?"`, "NEVER", "");
      // Neither the attack's own report nor the shell's next line ever reaches the screen.
      expect(screen.stdout).not.toContain("TTY-CHANGE-DONE");
      expect(screen.stdout).not.toContain("AFTER");
    });
  }

  attackTest("exclusive mode left on the terminal makes every later open of /dev/tty fail", [python3Missing], () => {
    const screen = typeOnTerminal(`python3 -c '${SET_EXCLUSIVE}'; ${REOPEN_AS_USER} || echo BUSY`, "NEVER", "");
    expect(screen.stdout).toContain("Device or resource busy");
    expect(screen.stdout).toContain("BUSY");
  });

  attackTest("output left suspended freezes the shell's next write", [python3Missing], () => {
    const screen = typeOnTerminal(`python3 -c '${SUSPEND_OUTPUT}'; ${WRITE_AFTER}`, "NEVER", "");
    expect(screen.stdout).not.toContain("NOT-FROZEN");
  });

  attackTest("the terminal-changing ioctls reach the kernel: on /dev/null it answers ENOTTY", [gccMissing], () => {
    for (const name of TERMINAL_CHANGES) {
      const result = run([trySyscall, "tty-change", name, "null"]);
      expect(attempts(result.stdout).get(name), name).toEqual({ ok: false, errno: ERRNO.ENOTTY });
    }
  });
});

/** One shell loop trying every terminal-changing ioctl on stdin, /dev/tty and a non-terminal, also with high bits. */
function allTerminalChanges(): string[] {
  const tries = TERMINAL_CHANGES.flatMap((name) =>
    ["stdin", "tty", "null"].flatMap((where) => [
      `"$0" tty-change ${name} ${where}`,
      `"$0" tty-change ${name} ${where} high`,
    ]),
  );
  return ["sh", "-c", tries.join("; "), trySyscall];
}

for (const mode of MODES) {
  for (const user of USERS) {
    describe(`${mode} mode as ${user.name}: the terminal after the run`, () => {
      const cordonLine = (work: string, command: string[]) =>
        shellLine(commandLine([CORDON, ...sandboxArgs(mode, command, { write: [work] })], user.asNobody));

      attackTest("the foreground group is the shell's again: the next line reaches the shell", [python3Missing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const run = cordonLine(work, ["python3", thief, work]);
        const script = `${run}; echo "COMMAND-RETURNED $?"; IFS= read -r line; echo "SHELL-READ:$line"`;
        const screen = typeOnTerminal(script, "COMMAND-RETURNED", "typed-secret");
        expect(existsSync(join(work, "took"))).toBe(true);
        expect(screen.stdout).toContain("COMMAND-RETURNED 0");
        expect(screen.stdout).toContain("SHELL-READ:typed-secret");
        expect(existsSync(join(work, "stolen"))).toBe(false);
      });

      attackTest("O_NONBLOCK left on the shared stdin is undone: the shell's next read works", [python3Missing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const setNonblocking =
          "import fcntl, os; fcntl.fcntl(0, fcntl.F_SETFL, fcntl.fcntl(0, fcntl.F_GETFL) | os.O_NONBLOCK)";
        const run = cordonLine(work, ["python3", "-c", setNonblocking]);
        const check = `python3 -c '${PRINT_NONBLOCK}'`;
        expect(typeOnTerminal(`${run}; ${check}`, "NEVER", "").stdout).toContain("NONBLOCK False");
      });

      attackTest("TIOCSETD is refused: the shell reads and shows the next line", [gccMissing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const boxed = cordonLine(work, [trySyscall, "tty-change", "tiocsetd", "stdin"]);
        const script = `${boxed}; echo "AFTER $?"; IFS= read -r line; echo "SHELL-READ:$line"`;
        const screen = typeOnTerminal(script, "AFTER", "typed-line");
        expect(attempts(screen.stdout).get("tiocsetd"), screen.stdout).toEqual({ ok: false, errno: ERRNO.EPERM });
        expect(screen.stdout).toContain("AFTER 1");
        expect(screen.stdout).toContain("SHELL-READ:typed-line");
      });

      attackTest(
        "every terminal-changing ioctl is refused by the filter, whatever the descriptor",
        [gccMissing],
        () => {
          const work = workDir(user.asNobody ? NOBODY : undefined);
          const boxed = cordonLine(work, allTerminalChanges());
          const compare = `[ "$before" = "$(stty -g)" ] && echo SAME-SETTINGS`;
          const script = `before=$(stty -g); ${boxed}; echo "AFTER $?"; ${compare}`;
          const screen = typeOnTerminal(script, "NEVER", "");
          const lines = screen.stdout.split("\n");
          for (const name of TERMINAL_CHANGES) {
            // EPERM on /dev/null too, where the kernel itself says ENOTTY: the filter answered, every time.
            const reports = lines.filter(
              (line) => line.startsWith(`${name} `) || line.startsWith(`${name}-high-bits `),
            );
            const refused = [`${name} errno=${ERRNO.EPERM}`, `${name}-high-bits errno=${ERRNO.EPERM}`];
            expect(reports, screen.stdout).toEqual([...refused, ...refused, ...refused]);
          }
          expect(screen.stdout).toContain("AFTER 1");
          expect(screen.stdout).toContain("SAME-SETTINGS");
        },
      );

      attackTest("raw mode and no echo are undone", [], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const run = cordonLine(work, ["stty", "raw", "-echo"]);
        const script =
          `before=$(stty -g); ${run}; status=$?; after=$(stty -g); stty "$before"; ` +
          `[ "$before" = "$after" ] && echo "SAME $status" || echo "CHANGED $status"`;
        expect(typeOnTerminal(script, "NEVER", "").stdout).toContain("SAME 0");
      });

      attackTest("exclusive mode is undone: the user's next open of /dev/tty works", [python3Missing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const run = cordonLine(work, ["python3", "-c", SET_EXCLUSIVE]);
        const screen = typeOnTerminal(`${run}; echo "STATUS $?"; ${REOPEN_AS_USER} || echo BUSY`, "NEVER", "");
        expect(screen.stdout).toContain("STATUS 0");
        expect(screen.stdout).toContain("REOPENED");
      });

      attackTest("suspended output is restarted: the shell's next write shows", [python3Missing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const run = cordonLine(work, ["python3", "-c", SUSPEND_OUTPUT]);
        expect(typeOnTerminal(`${run}; ${WRITE_AFTER}`, "NEVER", "").stdout).toContain("NOT-FROZEN");
      });

      // The window size is not put back (README, "The terminal"): cordon cannot tell who set it.
      attackTest("a window resized by the user during the run keeps its new size afterwards", [], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const waits = `touch "$0/running"; while [ ! -e "$0/resized" ]; do sleep 0.05; done`;
        const run = cordonLine(work, ["sh", "-c", waits, work]);
        const resizer =
          `(while [ ! -e ${quote(work)}/running ]; do sleep 0.05; done; ` +
          `stty rows 33 cols 99 </dev/tty; touch ${quote(work)}/resized) &`;
        const script = `stty rows 24 cols 80; ${resizer} ${run}; echo "SIZE $(stty size)"`;
        expect(typeOnTerminal(script, "NEVER", "").stdout).toContain("SIZE 33 99");
      });

      attackTest("documented limit: a window size the command sets stays after the run", [], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const run = cordonLine(work, ["stty", "rows", "5", "cols", "7"]);
        const script = `stty rows 24 cols 80; ${run}; echo "SIZE $(stty size)"`;
        expect(typeOnTerminal(script, "NEVER", "").stdout).toContain("SIZE 5 7");
      });
    });
  }
}
