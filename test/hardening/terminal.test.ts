// Terminal injection: TIOCSTI pushes bytes into a terminal's input queue, so
// a sandboxed command could type a command line that the user's shell runs,
// unsandboxed, after it exits. cordon keeps the terminal (no new session, so
// job control works) and refuses TIOCSTI/TIOCLINUX in seccomp instead.
import { afterAll, describe, expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  ERRNO,
  gccMissing,
  hostDir,
  python3Missing,
  removeDir,
  sandboxArgs,
} from "../helpers/attacks.ts";
import { CORDON, isRoot } from "../helpers/cordon.ts";
import { attackOtherTerminal, runOnTerminal } from "../helpers/tty.ts";
import { MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
const scratch = hostDir("cordon-tty-");
afterAll(() => {
  tools?.cleanup();
  removeDir(scratch);
});

// Linux 6.2+ can restrict TIOCSTI to CAP_SYS_ADMIN (dev.tty.legacy_tiocsti=0);
// then only root can show the attack working.
function legacyTiocstiReason(): string | undefined {
  try {
    if (readFileSync("/proc/sys/dev/tty/legacy_tiocsti", "latin1").trim() === "0" && !isRoot) {
      return "TIOCSTI is restricted to CAP_SYS_ADMIN here (dev.tty.legacy_tiocsti=0) and the tests do not run as root";
    }
  } catch {
    // Older kernels have no such switch: TIOCSTI works for everyone.
  }
  return undefined;
}

const VARIANTS = [
  { name: "TIOCSTI on stdin", args: ["stdin"] },
  { name: "TIOCSTI on /dev/tty", args: ["tty"] },
  // Bits above 31 of the command are ignored by the kernel: the filter must
  // match the low 32 bits only, or this variant slips through.
  {
    name: "TIOCSTI with garbage in the command's high 32 bits",
    args: ["stdin"],
    high: true,
    label: "tiocsti-high-bits",
  },
] as const;

for (const mode of MODES) {
  describe(`${mode} mode: terminal injection`, () => {
    let n = 0;
    for (const variant of VARIANTS) {
      attackTest(
        `${variant.name} is refused and nothing typed runs afterwards`,
        [gccMissing, python3Missing, legacyTiocstiReason()],
        () => {
          const label = "label" in variant ? variant.label : "tiocsti";
          const attack = (marker: string) => [
            trySyscall,
            "tiocsti",
            ...variant.args,
            `touch ${marker}\n`,
            ...("high" in variant ? ["high"] : []),
          ];

          const plainMarker = join(scratch, `plain-${++n}`);
          const plain = runOnTerminal(attack(plainMarker));
          expect(plain.attempts.get(label), plain.result.stdout).toEqual({ ok: true, detail: undefined });
          expect(existsSync(plainMarker)).toBe(true);

          const marker = join(scratch, `sandboxed-${n}`);
          const boxed = runOnTerminal([CORDON, ...sandboxArgs(mode, attack(marker))]);
          expect(boxed.attempts.get(label), boxed.result.stdout).toEqual({ ok: false, errno: ERRNO.EPERM });
          // The outer shell still ran (the terminal works) but had nothing injected to run.
          expect(boxed.result.stdout).toContain("SHELL-DONE");
          expect(existsSync(marker)).toBe(false);
        },
      );
    }

    // Reading another pty of the same user steals keystrokes typed into another
    // session; writing one paints fake output (or escape sequences) onto it.
    // Landlock-only mode grants only the terminal behind fds 0-2 (and /dev/tty);
    // bwrap mode has a private devpts instance.
    const steal = ["sh", "-c", 'IFS= read -r line < "$1"; echo "stole:$line"; echo pwned-from-sandbox > "$1"', "sh"];
    attackTest(
      "another terminal's keystrokes and screen are reachable without cordon (control)",
      [python3Missing],
      () => {
        const plain = attackOtherTerminal(steal);
        expect(plain.result.stdout).toContain("stole:typed-secret");
        expect(plain.screen).toContain("pwned-from-sandbox");
      },
    );
    const otherTerminal = "another terminal of the same user (/dev/pts/N) cannot be read or written";
    const check = () => {
      const boxed = attackOtherTerminal([CORDON, ...sandboxArgs(mode, steal)]);
      expect(boxed.result.stdout).toContain("TERMINAL-SAW");
      expect(boxed.result.stdout).not.toContain("stole:typed-secret");
      expect(boxed.screen).not.toContain("pwned-from-sandbox");
    };
    attackTest(otherTerminal, [python3Missing], check);
  });
}
