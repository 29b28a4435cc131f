// What stage 2 leaves behind for the command, observed from inside: the
// seccomp filter really installed, no-new-privs, no capabilities, no stray
// descriptors, and the launch plan nowhere in argv or the environment.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, readFileSync } from "node:fs";
import {
  cordon,
  finish,
  isRoot,
  missingSystemTool,
  run,
  start,
  startCordon,
  systemTool,
  modeArgs,
} from "../helpers/cordon.ts";

const LL = [...modeArgs("landlock"), "-q"];
const PYTHON = systemTool("python3") ?? "python3";

// params is a 120-byte struct io_uring_params; 8 entries. Prints "result errno".
const IO_URING_SCRIPT = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
r = libc.syscall(425, 8, params)
print(r, ctypes.get_errno())
`;
/** The attack must work without cordon (a container's own filter or io_uring_disabled may refuse it). */
const ioUringUnavailable =
  Boolean(missingSystemTool("python3")) || !/^\d+ 0$/.test(run([PYTHON, "-c", IO_URING_SCRIPT]).stdout.trim());

function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1] ?? `(no ${name})`;
}

describe("seccomp and privileges inside the sandbox", () => {
  test.skipIf(ioUringUnavailable)("io_uring_setup (425) works outside and fails with EPERM inside", () => {
    const inside = cordon([...LL, "--", PYTHON, "-c", IO_URING_SCRIPT]);
    expect(inside.exitCode).toBe(0);
    expect(inside.stdout.trim()).toBe("-1 1");
  });

  test("Seccomp: 2, one more filter than the parent, NoNewPrivs: 1", () => {
    const own = readFileSync("/proc/self/status", "latin1");
    const result = cordon([...LL, "--", "cat", "/proc/self/status"]);
    expect(result.exitCode).toBe(0);
    expect(statusField(result.stdout, "Seccomp")).toBe("2");
    expect(statusField(result.stdout, "NoNewPrivs")).toBe("1");
    expect(Number(statusField(result.stdout, "Seccomp_filters"))).toBe(Number(statusField(own, "Seccomp_filters")) + 1);
  });

  test.skipIf(!isRoot)("a root caller's command has no capabilities at all", () => {
    const own = readFileSync("/proc/self/status", "latin1");
    expect(statusField(own, "CapEff")).not.toBe("0000000000000000");
    const result = cordon([...LL, "--", "cat", "/proc/self/status"]);
    for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) {
      expect(`${set}=${statusField(result.stdout, set)}`).toBe(`${set}=0000000000000000`);
    }
  });

  test("core dumps are off", () => {
    const result = cordon([...LL, "--", "sh", "-c", "ulimit -c; ulimit -H -c"]);
    expect(result.stdout).toBe("0\n0\n");
  });
});

describe("descriptors and the launch plan", () => {
  const held = openSync("/etc/hostname", "r");
  afterAll(() => closeSync(held));

  test("descriptors >= 3 given to cordon do not reach the command", async () => {
    // Without cordon, the extra descriptors do arrive.
    const plain = await finish(start(["sh", "-c", "ls /proc/$$/fd"], { extraFds: [held, held] }));
    expect(plain.stdout.split("\n").filter(Boolean).sort()).toEqual(["0", "1", "2", "3", "4"]);
    const result = await finish(startCordon([...LL, "--", "sh", "-c", "ls /proc/$$/fd"], { extraFds: [held, held] }));
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").filter(Boolean).sort()).toEqual(["0", "1", "2"]);
  });

  test("the plan is in no process's argv, and not in the command's environment", () => {
    const script =
      "ps -eo args; echo ---; tr '\\0' '\\n' < /proc/$PPID/cmdline; echo ---; tr '\\0' '\\n' < /proc/$$/environ";
    const result = cordon([...LL, "--", "sh", "-c", script]);
    expect(result.exitCode).toBe(0);
    // The parent (stage 1) shows its own arguments, and the environment was read.
    expect(result.stdout).toContain("--mode\nlandlock\n");
    expect(result.stdout).toMatch(/^PATH=/m);
    // Plan content only: "__cordon-stage2 FD" of a concurrent run may legitimately show in ps.
    for (const needle of ["handledFs", "pathRules", "restrictFlags", "writeRoots"]) {
      expect(result.stdout).not.toContain(needle);
    }
  });
});
