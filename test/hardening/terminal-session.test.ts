// The terminal behind a command that is not interactive on it. Agents and
// CI run commands with pipes, yet such a command can still open its
// controlling terminal as /dev/tty: read what the user types to the agent
// meanwhile (an API key), or print a fake prompt on the user's screen. cordon
// runs it in a new session instead, where /dev/tty opens nothing (ENXIO) and
// no name of the user's terminal is granted. A command interactive on the
// terminal keeps the session, so job control, Ctrl-C and resizes reach it.
import { afterAll, describe, expect } from "bun:test";
import { chownSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  attackTest,
  attempts,
  ERRNO,
  hostDir,
  python,
  python3Missing,
  removeDir,
  sandboxArgs,
} from "../helpers/attacks.ts";
import { CORDON, commandLine, isRoot, missingSystemTool, NOBODY, systemTool } from "../helpers/cordon.ts";
import { typeOnTerminal } from "../helpers/tty.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-terminal-session-");
afterAll(() => removeDir(scratch));

/**
 * Opens each path given (the user's terminal by its names), then /dev/tty:
 * there it prints a fake prompt and reads one line. Reports "LABEL ok" or
 * "LABEL errno=N" for each open.
 */
const THIEF = `
import os, sys
reports = []
def attempt(label, path):
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except OSError as error:
        reports.append("%s errno=%d" % (label, error.errno))
        return None
    reports.append("%s ok" % label)
    return fd
for path in sys.argv[1:]:
    fd = attempt("open-" + path, path)
    if fd is not None:
        os.close(fd)
fd = attempt("tty-open", "/dev/tty")
if fd is not None:
    os.write(fd, b"FAKE-PROMPT Password:\\n")
    reports.append("stole:" + os.read(fd, 100).decode(errors="replace").strip())
# After the terminal is done with: stdout is a pipe, and its lines must not interleave with the prompt.
print("\\n".join(reports), flush=True)
`;
const thief = join(scratch, "thief.py");
writeFileSync(thief, THIEF, { mode: 0o644 });
const python3 = systemTool("python3") ?? "python3";

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
const shellLine = (argv: string[]) => argv.map(quote).join(" ");
const USERS = [{ name: "root", asNobody: false }, ...(isRoot ? [{ name: "nobody", asNobody: true }] : [])];

let counter = 0;
function workDir(owner?: number): string {
  const work = join(scratch, `work-${counter++}`);
  mkdirSync(work);
  if (owner !== undefined) chownSync(work, owner, owner);
  return work;
}

/**
 * The script a terminal runs: the thief with stdin from /dev/null and its
 * output through a pipe (as an agent runs a command), handed the terminal's
 * own names; then, unless the thief is expected to take it, the shell reads
 * the line typed.
 */
function pipedThief(prefix: string[], shellReads = true): string {
  const thiefLine = shellLine([...prefix, python3, thief]);
  const after = shellReads ? `IFS= read -r line; echo "SHELL-READ:$line"` : "true";
  return `echo READY; ${thiefLine} "$(tty)" /dev/console </dev/null 2>&1 | cat; echo "AFTER"; ${after}`;
}

describe("without cordon: a command on pipes still reaches the user's terminal", () => {
  for (const user of USERS) {
    attackTest(`as ${user.name}: /dev/tty prints a fake prompt and reads the line typed next`, [python3Missing], () => {
      const script = pipedThief(commandLine([], user.asNobody), false);
      const screen = typeOnTerminal(script, "READY", "typed-secret").stdout;
      expect(attempts(screen).get("tty-open"), screen).toEqual({ ok: true, detail: undefined });
      expect(screen).toContain("FAKE-PROMPT");
      expect(screen).toContain("stole:typed-secret");
    });
  }

  attackTest("as root, the terminal also opens by its name", [python3Missing], () => {
    const screen = typeOnTerminal(pipedThief([], false), "READY", "x").stdout;
    const byName = [...attempts(screen)].find(([label]) => label.startsWith("open-/dev/pts/"));
    expect(byName?.[1], screen).toEqual({ ok: true, detail: undefined });
  });
});

/**
 * Ctrl-C typed at a terminal whose shell runs `script` (cordon with its
 * output in `log`): waits for "ready" in the log, types Ctrl-C once, and
 * prints how many times the command saw SIGINT and the shell's status.
 */
const CTRL_C_HARNESS = `
import os, pty, sys, time
script, log = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", script])
def logged():
    try:
        return open(log, "rb").read()
    except OSError:
        return b""
def wait_for(text, seconds):
    end = time.monotonic() + seconds
    while text not in logged() and time.monotonic() < end:
        time.sleep(0.02)
wait_for(b"ready", 20)
os.write(fd, b"\\x03")
wait_for(b"got-INT", 5)
_, status = os.waitpid(pid, 0)
print("INTERRUPTS", logged().count(b"got-INT"), "STATUS", os.waitstatus_to_exitcode(status))
`;

/**
 * An interactive bash with job control on a fresh pty: runs `line`, waits for
 * "started", types Ctrl-Z, lists the stopped job's processes, resumes it with
 * `fg`, and prints its status once it finished. Output: the whole screen.
 */
const JOB_CONTROL_HARNESS = `
import os, pty, select, sys, time
line = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "PROMPT$ "
    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
out = b""
def pump(until, seconds=20):
    global out
    end = time.monotonic() + seconds
    while until not in out and time.monotonic() < end:
        if select.select([fd], [], [], 0.05)[0]:
            try:
                out += os.read(fd, 4096)
            except OSError:
                return
pump(b"PROMPT$ ")
os.write(fd, line.encode() + b"\\n")
pump(b"started")
os.write(fd, b"\\x1a")
pump(b"Stopped")
os.write(fd, b"ps -o stat=,args= -t \\"$(tty | cut -c6-)\\" | grep -v grep | grep cordon-job-marker\\n")
pump(b"PROMPT$ ", 5)
os.write(fd, b"fg\\n")
pump(b"finished")
os.write(fd, b"echo EX''IT=$?; exit\\n")
pump(b"EXIT=", 10)
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\\r\\n", "\\n"))
`;

/** Counts each SIGINT; exits 3 once the first has been handled and a moment has passed for a second one. */
const COUNTS_INTERRUPTS = 'trap "echo got-INT >&2; sleep 0.3; exit 3" INT; echo ready >&2; sleep 20 & wait';

for (const mode of MODES) {
  for (const user of USERS) {
    describe(`${mode} mode as ${user.name}: a command interactive on the terminal keeps the session`, () => {
      const cordonLine = (work: string, command: string[]) =>
        shellLine(commandLine([CORDON, ...sandboxArgs(mode, command, { write: [work] })], user.asNobody));

      // Documented, not a hole: the kept session shares the terminal with the user's shell.
      attackTest(
        "it reaches /dev/tty and reads the keys typed while it runs, also with stdin elsewhere",
        [python3Missing],
        () => {
          const work = workDir(user.asNobody ? NOBODY : undefined);
          for (const stdin of ["", " </dev/null"]) {
            const script = `echo READY; ${cordonLine(work, [python3, thief])}${stdin}; echo AFTER`;
            const screen = typeOnTerminal(script, "READY", "typed-line").stdout;
            expect(attempts(screen).get("tty-open"), screen).toEqual({ ok: true, detail: undefined });
            expect(screen).toContain("stole:typed-line");
          }
        },
      );

      attackTest("Ctrl-C interrupts it once, also when only stdout is the terminal", [python3Missing], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const log = join(work, "log");
        const boxed = cordonLine(work, ["sh", "-c", COUNTS_INTERRUPTS]);
        const result = python(CTRL_C_HARNESS, [`exec ${boxed} </dev/null 2>${quote(log)}`, log], { timeoutMs: 60_000 });
        expect(result.stdout.trim(), readFileSync(log, "latin1")).toBe("INTERRUPTS 1 STATUS 3");
      });

      attackTest(
        "Ctrl-Z stops it with cordon as one job of the shell, and fg resumes it",
        [python3Missing, missingSystemTool("bash")],
        () => {
          const work = workDir(user.asNobody ? NOBODY : undefined);
          // "start""ed": the echoed command line must not match.
          const job = `echo start""ed; sleep 1; echo finish""ed cordon-job-marker`;
          const result = python(JOB_CONTROL_HARNESS, [cordonLine(work, ["sh", "-c", job])], { timeoutMs: 90_000 });
          const screen = result.stdout;
          expect(screen, screen).toMatch(/\[1\]\+ +Stopped/);
          // While stopped, the sandboxed shell is stopped too (state T), not running on in the background.
          expect(screen).toMatch(/^T\S* +sh -c echo start/m);
          expect(screen).toContain("finished cordon-job-marker");
          expect(screen).toContain("EXIT=0");
        },
      );

      attackTest("a window resize reaches it (SIGWINCH), and it sees the new size", [], () => {
        const work = workDir(user.asNobody ? NOBODY : undefined);
        const waits = `trap "echo got-WINCH" WINCH; touch "$0/ready"; while [ ! -e "$0/done" ]; do sleep 0.05; done`;
        const command = ["sh", "-c", `${waits}; stty size`, work];
        // Another process on the terminal resizes it, as a terminal emulator does when its window changes.
        const resizer =
          `(while [ ! -e ${quote(work)}/ready ]; do sleep 0.05; done; stty rows 33 cols 99 </dev/tty; ` +
          `sleep 0.3; touch ${quote(work)}/done) &`;
        const screen = typeOnTerminal(`stty rows 24 cols 80; ${resizer} ${cordonLine(work, command)}`, "NEVER", "");
        expect(screen.stdout, screen.stdout).toContain("got-WINCH");
        expect(screen.stdout).toContain("33 99");
      });
    });
  }
}

for (const mode of MODES) {
  for (const user of USERS) {
    describe(`${mode} mode as ${user.name}: a command on pipes gets a session of its own`, () => {
      const cordonPrefix = (work: string) =>
        commandLine([CORDON, ...sandboxArgs(mode, [], { write: [work] })], user.asNobody);

      attackTest(
        "/dev/tty opens nothing (ENXIO), no name of the terminal opens, the next line reaches the shell",
        [python3Missing],
        () => {
          const work = workDir(user.asNobody ? NOBODY : undefined);
          const screen = typeOnTerminal(pipedThief(cordonPrefix(work)), "READY", "typed-secret").stdout;
          const seen = attempts(screen);
          expect(seen.get("tty-open"), screen).toEqual({ ok: false, errno: ERRNO.ENXIO });
          for (const [label, attempt] of seen) {
            if (label.startsWith("open-")) expect(attempt.ok, `${label}\n${screen}`).toBe(false);
          }
          expect(screen).not.toContain("FAKE-PROMPT");
          expect(screen).not.toContain("stole:");
          expect(screen).toContain("AFTER");
          expect(screen).toContain("SHELL-READ:typed-secret");
        },
      );

      attackTest(
        "Ctrl-C still interrupts it, once (cordon, in the terminal's foreground, forwards it)",
        [python3Missing],
        () => {
          const work = workDir(user.asNobody ? NOBODY : undefined);
          const log = join(work, "log");
          const interrupted = sandboxArgs(mode, ["sh", "-c", COUNTS_INTERRUPTS]);
          const boxed = shellLine(commandLine([CORDON, ...interrupted], user.asNobody));
          const script = `exec ${boxed} </dev/null >${quote(log)} 2>&1`;
          const result = python(CTRL_C_HARNESS, [script, log], { timeoutMs: 60_000 });
          expect(result.stdout.trim(), readFileSync(log, "latin1")).toBe("INTERRUPTS 1 STATUS 3");
        },
      );
    });
  }
}
