// Process lifecycle in both modes: signals, terminals, PID 1, and nothing of
// the sandbox outliving cordon.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CORDON, missingTool, requireBinary, run, modeArgs } from "../helpers/cordon.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

function alive(marker: string): boolean {
  return run(["pgrep", "-f", marker]).exitCode === 0;
}

async function waitFor(predicate: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await Bun.sleep(20);
  }
  return predicate();
}

describe.each(MODES)("lifecycle in %s mode", (mode) => {
  const start = (command: string[]) => {
    requireBinary();
    return Bun.spawn([CORDON, ...modeArgs(mode), "-q", "--", ...command], { stdout: "pipe", stderr: "pipe" });
  };

  for (const signal of ["SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"] as const) {
    test(`${signal} sent to cordon reaches the command, which exits 7`, async () => {
      const name = signal.slice(3);
      const child = start(["sh", "-c", `trap 'exit 7' ${name}; echo ready; while :; do sleep 0.05; done`]);
      const reader = child.stdout.getReader();
      await reader.read(); // "ready": the trap is installed
      child.kill(signal);
      expect(await child.exited).toBe(7);
    });
  }

  test("SIGWINCH reaches the command", async () => {
    const child = start(["sh", "-c", "trap 'echo winch; exit 0' WINCH; echo ready; while :; do sleep 0.05; done"]);
    const reader = child.stdout.getReader();
    await reader.read();
    child.kill("SIGWINCH");
    expect(await child.exited).toBe(0);
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("winch");
  });

  test("when cordon is SIGKILLed, nothing of the sandbox survives", async () => {
    const marker = `cordon-survivor-${mode}-${process.pid}`;
    // The markers ride in each shell's $0 (sleep itself refuses extra arguments).
    const command = `(setsid sh -c 'sleep 300; :' daemon-${marker} &); exec sh -c 'sleep 301; :' main-${marker}`;
    const child = start(["sh", "-c", command]);
    expect(await waitFor(() => alive(`daemon-${marker}`) && alive(`main-${marker}`))).toBe(true);
    child.kill("SIGKILL");
    await child.exited;
    // In landlock-only mode the setsid daemon is documented to escape a SIGKILLed cordon.
    const gone = await waitFor(() => !alive(`main-${marker}`));
    expect(gone).toBe(true);
    if (mode === "bwrap") expect(await waitFor(() => !alive(marker))).toBe(true);
    run(["pkill", "-f", marker]);
  });

  test("what the command leaves running is killed when it exits", async () => {
    const marker = `cordon-leftover-${mode}-${process.pid}`;
    const child = start(["sh", "-c", `(setsid sleep 300 ${marker} &); sleep 0.2; exit 3`]);
    expect(await child.exited).toBe(3);
    expect(await waitFor(() => !alive(marker))).toBe(true);
  });

  test("stdin and stdout pass through byte for byte", () => {
    const input = Buffer.alloc(8 * 1024 * 1024, "cordon\n");
    const result = Bun.spawnSync([CORDON, ...modeArgs(mode), "-q", "--", "cat"], { stdin: input, stdout: "pipe" });
    expect(result.exitCode).toBe(0);
    expect(Buffer.compare(result.stdout, input)).toBe(0);
  });

  test.skipIf(missingTool("python3") !== undefined)("Ctrl-C in a terminal interrupts the command once", () => {
    const script = `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(${JSON.stringify(CORDON)}, ["cordon", ${modeArgs(mode)
      .map((arg) => JSON.stringify(arg))
      .join(", ")}, "-q", "--", "sh", "-c",
        'trap "echo got-INT; exit 3" INT; echo ready; sleep 10 & wait; echo after'])
out = b""
def pump(seconds, until=None):
    global out
    end = time.time() + seconds
    while time.time() < end and not (until and until in out):
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: return
pump(10, b"ready")
os.write(fd, b"\\x03")
pump(3, b"got-INT")
pump(0.3)
_, status = os.waitpid(pid, 0)
print(out.count(b"got-INT"), os.waitstatus_to_exitcode(status))
`;
    const result = run(["python3", "-c", script]);
    expect(result.stdout.trim()).toBe("1 3");
  });

  test.skipIf(missingTool("unshare") !== undefined)(
    "as PID 1 of a container it reaps zombies and exits promptly on SIGTERM",
    async () => {
      requireBinary();
      const child = Bun.spawn(
        [
          "unshare",
          "--pid",
          "--fork",
          "--mount-proc",
          CORDON,
          ...modeArgs(mode),
          "-q",
          "--",
          "sh",
          "-c",
          // Orphans that exit: they become cordon's zombies unless it reaps them.
          "for i in 1 2 3 4 5; do (sleep 0.01 &); done; sleep 0.5; ps -eo stat= | grep -c '^Z' ; exec sleep 300",
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      const reader = child.stdout.getReader();
      const first = new TextDecoder().decode((await reader.read()).value).trim();
      expect(first).toBe("0");
      // unshare --fork waits for cordon; signal cordon itself, PID 1 inside.
      const cordonPid = Number(run(["pgrep", "-P", String(child.pid)]).stdout.trim());
      expect(cordonPid).toBeGreaterThan(0);
      process.kill(cordonPid, "SIGTERM");
      expect(await child.exited).toBe(143);
    },
  );
});
