// Programs that reopen their terminal (less, git's pager, stty -F, vim, ssh
// password prompts) must work in both modes, as root and as nobody. In bwrap mode the terminal
// behind stdout appears as /dev/console (bwrap binds it there), which Landlock
// must grant with its ioctls; /dev/tty must open. A pager that cannot set up
// the terminal echoes the keys and never quits on `q`.
import { afterAll, describe, expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, python3Missing, removeDir, sandboxArgs } from "../helpers/attacks.ts";
import { CORDON, commandLine, isRoot, missingSystemTool } from "../helpers/cordon.ts";
import { typeKeysOnTerminal } from "../helpers/tty.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-pagers-");
afterAll(() => removeDir(scratch));

const longFile = join(scratch, "pager-long.txt");
writeFileSync(longFile, Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`).join("\n") + "\n", { mode: 0o644 });

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;
const shellLine = (argv: string[]) => argv.map(quote).join(" ");

/**
 * Who sits at the terminal: root; nobody on a terminal of its own (a real
 * user's case: the pty belongs to whoever opened it); nobody started by root
 * on root's terminal (cordon under `setpriv` inside root's `script`).
 */
const SEATS = [
  { name: "root", harnessAsNobody: false, cordonAsNobody: false },
  ...(isRoot
    ? [
        { name: "nobody on its own terminal", harnessAsNobody: true, cordonAsNobody: false },
        { name: "nobody on root's terminal", harnessAsNobody: false, cordonAsNobody: true },
      ]
    : []),
];

/** A full-screen program's environment: a real terminal type, no history file to write. */
const TERMINAL_ENV = "export TERM=xterm LESSHISTFILE=- ; ";

/** Runs `command` (cordon's argv, or none for the control) on a fresh pty; says whether the terminal came back sane. */
function pagerScript(prefix: string[], command: string[]): string {
  return (
    `${TERMINAL_ENV}before=$(stty -g); ${shellLine([...prefix, ...command])}; echo "KEYS-HANDLED $?"; ` +
    `[ "$before" = "$(stty -g)" ] && echo SANE-TERMINAL`
  );
}

/** Full-screen programs and the keys that quit them. */
const PROGRAMS = [
  { name: "less", argv: ["less", longFile], quit: "q" },
  // No vimrc, swap file or viminfo: nothing of the user's is read or written.
  { name: "vim", argv: ["vim", "-u", "NONE", "-i", "NONE", "-N", "-n", longFile], quit: ":q\r" },
];

describe("without cordon (control)", () => {
  for (const seat of SEATS) {
    for (const program of PROGRAMS) {
      const needs = [missingSystemTool(program.name), python3Missing];
      attackTest(`as ${seat.name}, ${program.name} shows a long file and quits`, needs, () => {
        const script = pagerScript(commandLine([], seat.cordonAsNobody), program.argv);
        const run = typeKeysOnTerminal(script, "pager-long.txt", program.quit, seat.harnessAsNobody);
        expect(run.result.stdout).toContain("KEYS-HANDLED 0");
        expect(run.result.stdout).toContain("SANE-TERMINAL");
        expect(run.tookSeconds).toBeLessThan(5);
      });
    }
  }

  // Reopening the terminal by name is the terminal's file permissions' business: nobody cannot open root's pty.
  const asNobody = isRoot ? undefined : "dropping to nobody needs root";
  attackTest("as nobody on root's terminal, stty -F \"$(tty)\" is refused by the pty's own mode", [asNobody], () => {
    const script = `${shellLine(commandLine(["sh", "-c", 'stty -F "$(tty)" size'], true))}; echo "KEYS-HANDLED $?"`;
    const run = typeKeysOnTerminal(script, "NEVER", "");
    expect(run.result.stdout).toContain("Permission denied");
  });
});

for (const mode of MODES) {
  for (const seat of SEATS) {
    describe(`${mode} mode, ${seat.name}`, () => {
      const prefix = commandLine([CORDON, ...sandboxArgs(mode, [])], seat.cordonAsNobody);

      for (const program of PROGRAMS) {
        const needs = [missingSystemTool(program.name), python3Missing];
        attackTest(`${program.name} shows a long file, quits at once, and leaves the terminal sane`, needs, () => {
          const script = pagerScript(prefix, program.argv);
          const run = typeKeysOnTerminal(script, "pager-long.txt", program.quit, seat.harnessAsNobody);
          const screen = run.result.stdout;
          expect(screen).toContain("line 23");
          expect(screen, screen).toContain("KEYS-HANDLED 0");
          expect(screen).toContain("SANE-TERMINAL");
          expect(screen).not.toContain("HARNESS-TIMEOUT");
          expect(run.tookSeconds).toBeLessThan(5);
        });
      }

      attackTest(
        "the terminal reopens by the name `tty` reports and as /dev/tty: stty -F works on both",
        [python3Missing],
        () => {
          const probe = 'tty; stty -F "$(tty)" size && stty -F /dev/tty size && echo REOPENED';
          const script = `stty rows 24 cols 80; ${shellLine([...prefix, "sh", "-c", probe])}; echo "KEYS-HANDLED $?"`;
          const run = typeKeysOnTerminal(script, "NEVER", "", seat.harnessAsNobody);
          const screen = run.result.stdout;
          if (seat.cordonAsNobody) {
            // root's pty refuses nobody by its mode (0620 root:tty), with or without cordon; /dev/tty still works.
            expect(screen).toContain("Permission denied");
            return;
          }
          expect(screen, screen).toContain("REOPENED");
          expect(screen.match(/^24 80$/gm)?.length).toBe(2);
          expect(screen).toMatch(mode === "bwrap" ? /^\/dev\/console$/m : /^\/dev\/pts\/\d+$/m);
        },
      );
    });
  }
}
