// The command's arguments reach it exactly: non-UTF-8 bytes, newlines, and
// 10,000 of them.
import { describe, expect, test } from "bun:test";
import { CORDON, cordon, missingSystemTool, run, systemTool, modeArgs } from "../helpers/cordon.ts";

const LL = [...modeArgs("landlock"), "-q"];
const PYTHON = systemTool("python3") ?? "python3";

describe.skipIf(Boolean(missingSystemTool("python3")))("command arguments", () => {
  test("non-UTF-8 bytes, newlines and empty arguments arrive byte for byte", () => {
    // Bun.spawn takes strings only, so python3 outside passes the raw bytes to cordon.
    const outer =
      `
import subprocess, sys
args = [b"\\xff\\xfe", b"line1\\nline2", b"", b"caf\\xc3\\xa9", b"\\x01\\x7f"]
inner = "import sys, os; print(repr([os.fsencode(a) for a in sys.argv[1:]]))"
r = subprocess.run([sys.argv[1], ${modeArgs("landlock")
        .map((arg) => JSON.stringify(arg))
        .join(", ")}, "-q", "--", sys.argv[2], "-c", inner, *args], ` +
      `capture_output=True)
sys.stdout.write(r.stdout.decode())
sys.stdout.write("same" if r.stdout.decode().strip() == repr(args) else "different")
`;
    const result = run([PYTHON, "-c", outer, CORDON, PYTHON]);
    expect(result.stdout).toContain("same");
  });

  test("10,000 arguments, in order", () => {
    const args = Array.from({ length: 10_000 }, (_, i) => `a${i}`);
    const script = "import sys; a = sys.argv[1:]; print(len(a), a[0], a[-1], a == ['a%d' % i for i in range(10000)])";
    const result = cordon([...LL, "--", PYTHON, "-c", script, ...args]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe("10000 a0 a9999 True");
  });

  test("options after the command belong to the command", () => {
    const result = cordon([...LL, "--", "echo", "-w", "--net", "--"]);
    expect(result.stdout).toBe("-w --net --\n");
    expect(cordon([...modeArgs("landlock"), "-q", "echo", "--mode", "x"]).stdout).toBe("--mode x\n");
  });
});

describe.skipIf(Boolean(missingSystemTool("script")))("terminal", () => {
  const sti =
    "import fcntl, termios\ntry:\n    fcntl.ioctl(0, termios.TIOCSTI, b'x'); " +
    "print('injected')\nexcept OSError as e:\n    print('sti', e.errno)";

  test.skipIf(Boolean(missingSystemTool("python3")))(
    "/dev/tty is usable inside, and TIOCSTI injection is refused",
    () => {
      // Without cordon the injection works here (or the kernel refuses it with EIO, not EPERM).
      // The script travels in the environment, which cordon passes through, to spare a layer of quoting.
      const env = { CORDON_TEST_STI: sti };
      const plain = run(["script", "-qec", `${PYTHON} -c "$CORDON_TEST_STI"`, "/dev/null"], { env });
      expect(plain.stdout).toMatch(/injected|sti 5/);
      const command = `sh -c 'echo via-tty > /dev/tty; ${PYTHON} -c "$CORDON_TEST_STI"'`;
      const inner = `${CORDON} ${modeArgs("landlock").join(" ")} -q -- ${command}`;
      const result = run(["script", "-qec", inner, "/dev/null"], { env });
      expect(result.stdout).toContain("via-tty");
      expect(result.stdout).toContain("sti 1");
      expect(result.stdout).not.toContain("injected");
    },
  );
});
