// The terminal behind a command that is not interactive on it. Agents and
// CI run commands with pipes, yet such a command can still open its
// controlling terminal as /dev/tty: read what the user types to the agent
// meanwhile (an API key), or print a fake prompt on the user's screen. cordon
// runs it in a new session instead, where /dev/tty opens nothing (ENXIO) and
// no name of the user's terminal is granted. A command interactive on the
// terminal keeps the session, so job control, Ctrl-C and resizes reach it.
import { afterAll, describe, expect } from "bun:test";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
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
import { CORDON, commandLine, isRoot, NOBODY, systemTool } from "../helpers/cordon.ts";
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
    });
  }
}
