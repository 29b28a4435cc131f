// Terminal harnesses for the hardening suite, written in Python (its pty
// module gives a real controlling terminal without any extra tool).
import { python, type Attempt, attempts } from "./attacks.ts";
import { run, systemTool, type RunResult } from "./cordon.ts";

export interface TerminalRun {
  result: RunResult;
  attempts: Map<string, Attempt>;
}

/**
 * Runs `command` as a session leader on a fresh pty, the way a user's
 * terminal runs it, then lets an outer shell read one line from that
 * terminal and eval it: exactly what an interactive shell does with
 * keystrokes injected by TIOCSTI once the command ends. When the command
 * prints TIOCSTI-DONE, the harness types the harmless line "true" so that the
 * shell's read always returns; injected keystrokes, if any, were queued first.
 */
export function runOnTerminal(command: string[]): TerminalRun {
  const script = '"$@"; IFS= read -r line; eval "$line"; echo SHELL-DONE';
  const result = python(TYPE_AFTER_HARNESS, [script, "TIOCSTI-DONE", "true", ...command], { timeoutMs: 90_000 });
  return { result, attempts: attempts(result.stdout) };
}

/**
 * "Another terminal" of the same user: the harness opens a pty pair, types
 * a line into it (keystrokes its shell has not read yet), runs `command` with
 * the slave's path appended, and reports what the command wrote there.
 * Output: the command's output, then a line "TERMINAL-SAW <json>".
 */
const OTHER_TERMINAL_HARNESS = `
import json, os, pty, subprocess, sys
master, slave = pty.openpty()
os.set_blocking(master, False)
os.write(master, b"typed-secret\\n")
done = subprocess.run(sys.argv[1:] + [os.ttyname(slave)], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
sys.stdout.write(done.stdout.decode(errors="replace"))
sys.stdout.write(done.stderr.decode(errors="replace"))
import select
seen = b""
# Drain until the terminal has been quiet for a moment: output reaches the
# master side asynchronously.
while select.select([master], [], [], 0.3)[0]:
    try:
        chunk = os.read(master, 65536)
    except (BlockingIOError, OSError):
        break
    if not chunk:
        break
    seen += chunk
print("TERMINAL-SAW " + json.dumps(seen.decode(errors="replace")))
sys.exit(done.returncode)
`;

/** Runs `command PTS-PATH` against another terminal; returns what reached that terminal's screen. */
export function attackOtherTerminal(command: string[]): { result: RunResult; screen: string } {
  const result = python(OTHER_TERMINAL_HARNESS, command, { timeoutMs: 90_000 });
  const line = /^TERMINAL-SAW (.*)$/m.exec(result.stdout)?.[1];
  return { result, screen: line === undefined ? "" : (JSON.parse(line) as string) };
}

/**
 * Runs `sh -c SCRIPT sh ARG...` as a session leader on a fresh pty, the way a
 * user's terminal runs a shell, and types `line` (then a newline) the moment
 * `marker` appears in the output. Returns everything the terminal showed.
 */
const TYPE_AFTER_HARNESS = `
import os, pty, select, sys
script, marker, line = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", script, "sh"] + sys.argv[4:])
output = b""
typed = False
while True:
    ready, _, _ = select.select([fd], [], [], 60)
    if not ready:
        os.kill(pid, 9)
        output += b"\\nHARNESS-TIMEOUT\\n"
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    output += data
    if not typed and marker in output:
        os.write(fd, line + b"\\n")
        typed = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace").replace("\\r\\n", "\\n"))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
`;

export function typeOnTerminal(script: string, marker: string, line: string): RunResult {
  return python(TYPE_AFTER_HARNESS, [script, marker, line], { timeoutMs: 60_000 });
}

/**
 * A full-screen program on a real terminal: runs `sh -c SCRIPT` as the
 * session leader of a fresh 24x80 pty, types `keys` (no newline) the moment
 * `marker` appears, and reports how long after that the script printed
 * KEYS-HANDLED, as a last line "KEYS-TOOK SECONDS" (or "KEYS-TOOK never").
 * Nothing is answered for the program: a pager that cannot set up the
 * terminal echoes the keys and keeps waiting, and the harness gives up after
 * 15 quiet seconds (HARNESS-TIMEOUT).
 */
const KEYS_HARNESS = `
import fcntl, os, select, struct, sys, termios, time
script, marker, keys = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.execvp("sh", ["sh", "-c", script])
os.close(slave)
output = b""
typed_at = handled_at = None
while True:
    ready, _, _ = select.select([master], [], [], 15)
    if not ready:
        os.kill(pid, 9)
        output += b"\\nHARNESS-TIMEOUT\\n"
        break
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    output += data
    if typed_at is None and marker in output:
        os.write(master, keys)
        typed_at = time.monotonic()
    if typed_at is not None and handled_at is None and b"KEYS-HANDLED" in output:
        handled_at = time.monotonic()
_, status = os.waitpid(pid, 0)
sys.stdout.write(output.decode(errors="replace").replace("\\r\\n", "\\n"))
took = "never" if handled_at is None else "%.3f" % (handled_at - typed_at)
sys.stdout.write("\\nKEYS-TOOK %s\\n" % took)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
`;

export interface KeysRun {
  result: RunResult;
  /** Seconds from typing the keys to KEYS-HANDLED; undefined when it never came. */
  tookSeconds?: number;
}

/** Runs `script` on a fresh pty under the harness above; `asNobody` makes the pty (and all of it) nobody's. */
export function typeKeysOnTerminal(script: string, marker: string, keys: string, asNobody = false): KeysRun {
  // nobody cannot reach per-user shims such as ~/.pyenv: the system's python3.
  const python3 = asNobody ? (systemTool("python3") ?? "python3") : "python3";
  const result = run([python3, "-c", KEYS_HARNESS, script, marker, keys], { timeoutMs: 60_000, asNobody });
  const took = /^KEYS-TOOK (\S+)$/m.exec(result.stdout)?.[1];
  return took === undefined || took === "never" ? { result } : { result, tookSeconds: Number(took) };
}
