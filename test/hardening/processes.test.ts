// Host processes are out of reach: no signal (direct, to a process group, or
// sent by the kernel through F_SETOWN/SIGIO), no ptrace, no peeking at their
// environment through /proc. In landlock-only mode the host's processes stay
// visible in /proc; Landlock's signal scope (ABI 6) and its ptrace rule (a
// domain can only trace itself and nested domains) are what stop these.
import { afterAll, describe, expect } from "bun:test";
import { readFileSync } from "node:fs";
import { AttackTools, attackTest, attempt, ERRNO, gccMissing, hostSleeper, sandboxed } from "../helpers/attacks.ts";
import { run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

const SIGKILL = 9;

/** Signals pending for `pid`, thread-directed and process-wide. */
function pendingSignals(pid: number): bigint {
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const field = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)`, "m").exec(status)?.[1] ?? "0"}`);
  return field("SigPnd") | field("ShdPnd");
}
const SIGTERM = 15;

for (const mode of MODES) {
  describe(`${mode} mode: host processes`, () => {
    attackTest("kill(2) of a host process fails and it survives", [gccMissing], async () => {
      const control = hostSleeper();
      const target = hostSleeper();
      try {
        expect(attempt(run([trySyscall, "kill", String(control.pid), String(SIGKILL)]), "kill").ok).toBe(true);
        await control.stop();

        const result = sandboxed(mode, [trySyscall, "kill", String(target.pid), String(SIGKILL)]);
        // EPERM from Landlock's signal scope; ESRCH where the pid is not even visible.
        expect(attempt(result, "kill").ok).toBe(false);
        expect<number[]>([ERRNO.EPERM, ERRNO.ESRCH]).toContain(attempt(result, "kill").errno!);
        expect(target.alive()).toBe(true);
      } finally {
        await control.stop();
        await target.stop();
      }
    });

    attackTest("the shell's kill builtin cannot kill a host process", [], async () => {
      const target = hostSleeper();
      try {
        const result = sandboxed(mode, ["sh", "-c", 'kill -TERM "$1"', "sh", String(target.pid)]);
        expect(result.exitCode).not.toBe(0);
        expect(target.alive()).toBe(true);
      } finally {
        await target.stop();
      }
    });

    attackTest("a signal to a host process group fails and its leader survives", [gccMissing], async () => {
      const control = hostSleeper({ detached: true });
      const target = hostSleeper({ detached: true });
      try {
        expect(attempt(run([trySyscall, "kill", String(-control.pid), String(SIGTERM)]), "kill").ok).toBe(true);
        const result = sandboxed(mode, [trySyscall, "kill", String(-target.pid), String(SIGTERM)]);
        expect(attempt(result, "kill").ok).toBe(false);
        expect(target.alive()).toBe(true);
      } finally {
        await control.stop();
        await target.stop();
      }
    });

    // F_SETOWN makes the kernel signal the owner when I/O is possible: the
    // signal is sent by the kernel, but on behalf of the sandboxed process.
    attackTest("SIGIO through F_SETOWN does not reach a host process", [gccMissing], async () => {
      const control = hostSleeper();
      const target = hostSleeper();
      try {
        run([trySyscall, "sigio", String(control.pid)]);
        // SIGIO's default action ends the process: the control dies of it.
        const deadline = Date.now() + 10_000;
        while (control.alive() && Date.now() < deadline) await Bun.sleep(10);
        expect(control.alive()).toBe(false);

        sandboxed(mode, [trySyscall, "sigio", String(target.pid)]);
        // The signal would be queued synchronously by the write: none is pending.
        expect(pendingSignals(target.pid)).toBe(0n);
        expect(target.alive()).toBe(true);
      } finally {
        await control.stop();
        await target.stop();
      }
    });

    attackTest("ptrace(PTRACE_ATTACH) and PTRACE_SEIZE of a host process fail", [gccMissing], async () => {
      const target = hostSleeper();
      try {
        expect(attempt(run([trySyscall, "ptrace-attach", String(target.pid)]), "ptrace-attach").ok).toBe(true);
        for (const [attack, label] of [
          ["ptrace-attach", "ptrace-attach"],
          ["ptrace-seize", "ptrace-seize"],
        ] as const) {
          const result = sandboxed(mode, [trySyscall, attack, String(target.pid)]);
          expect(attempt(result, label).ok).toBe(false);
        }
        expect(target.alive()).toBe(true);
        // Not left stopped or traced by the attempts.
        const status = readFileSync(`/proc/${target.pid}/status`, "latin1");
        expect(status).toMatch(/^TracerPid:\s+0$/m);
        expect(status).toMatch(/^State:\s+S/m);
      } finally {
        await target.stop();
      }
    });

    attackTest("a host process's environment cannot be read through /proc", [], async () => {
      const secret = `cordon-secret-${process.pid}`;
      const target = hostSleeper({ env: { CORDON_TEST_SECRET: secret } });
      try {
        expect(run(["cat", `/proc/${target.pid}/environ`]).stdout).toContain(secret);
        const result = sandboxed(mode, ["cat", `/proc/${target.pid}/environ`]);
        expect(result.exitCode).not.toBe(0);
        expect(result.stdout + result.stderr).not.toContain(secret);
      } finally {
        await target.stop();
      }
    });
  });
}
