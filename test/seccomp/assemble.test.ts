// The assembler's meaning, proven by running its output through the test
// suite's own BPF interpreter, plus the sock_filter encoding and the
// disassembler's shape.
import { describe, expect, test } from "bun:test";
import { decodeSockFilters, encodeSockFilters, type SockFilter } from "../../ffi/seccomp.ts";
import { actionValue, assembleSeccompProgram, type FilterSpec } from "../../src/seccomp/assemble.ts";
import { disassembleSeccompProgram } from "../../src/seccomp/disassemble.ts";
import { seccompSpecFor } from "../../src/seccomp/profile.ts";
import { ARCH, OP, RET, verdict } from "../helpers/bpf.ts";

const EPERM = 1;
const ENOSYS = 38;

/** A spec exercising every kind of test: eq, ne, hasAnyBit, two tests ANDed, two rules on one nr. */
const SPEC: FilterSpec = {
  arch: "x86_64",
  x32Action: { kind: "errno", errno: ENOSYS },
  rules: [
    { nr: 100, when: [], action: { kind: "errno", errno: EPERM } },
    { nr: 200, when: [{ arg: 1, op: "eq", value: 7 }], action: { kind: "errno", errno: 13 } },
    { nr: 200, when: [{ arg: 1, op: "eq", value: 8 }], action: { kind: "kill" } },
    { nr: 300, when: [{ arg: 0, op: "ne", value: 1 }], action: { kind: "errno", errno: EPERM } },
    { nr: 400, when: [{ arg: 2, op: "hasAnyBit", mask: 0x30 }], action: { kind: "errno", errno: EPERM } },
    {
      nr: 500,
      when: [
        { arg: 0, op: "eq", value: 1 },
        { arg: 5, op: "eq", value: 2 },
      ],
      action: { kind: "errno", errno: EPERM },
    },
  ],
};

describe("actionValue", () => {
  test("maps actions to the kernel's return values", () => {
    expect(actionValue({ kind: "allow" })).toBe(RET.ALLOW);
    expect(actionValue({ kind: "kill" })).toBe(RET.KILL_PROCESS);
    expect(actionValue({ kind: "errno", errno: EPERM })).toBe(RET.ERRNO | 1);
    expect(actionValue({ kind: "errno", errno: 0x1ffff })).toBe((RET.ERRNO | 0xffff) >>> 0);
  });
});

describe("assembleSeccompProgram (x86_64)", () => {
  const program = assembleSeccompProgram(SPEC);
  const x86 = (nr: number, args: (number | bigint)[] = []) => verdict(program, { arch: ARCH.X86_64, nr, args });

  test("uses only the opcodes the interpreter knows", () => {
    const known = new Set<number>(Object.values(OP));
    for (const insn of program) expect(known.has(insn.code)).toBe(true);
  });

  test("kills every other architecture before looking at nr", () => {
    for (const arch of [ARCH.I386, ARCH.AARCH64, ARCH.ARM, 0, 0xffffffff]) {
      for (const nr of [0, 100, 200, 359, 102]) expect(verdict(program, { arch, nr })).toBe("KILL_PROCESS");
    }
  });

  test("gives x32 calls (bit 30 set in nr) the x32 action, whatever the number", () => {
    for (const nr of [0, 1, 100, 200, 0x3fffffff]) expect(x86(nr | 0x40000000)).toBe("ERRNO(38)");
    expect(x86(-1)).toBe("ERRNO(38)");
  });

  test("unconditional rule", () => {
    expect(x86(100)).toBe("ERRNO(1)");
    expect(x86(100, [1, 2, 3])).toBe("ERRNO(1)");
  });

  test("two rules on one number are tried in order, and neither matching allows", () => {
    expect(x86(200, [0, 7])).toBe("ERRNO(13)");
    expect(x86(200, [0, 8])).toBe("KILL_PROCESS");
    expect(x86(200, [0, 9])).toBe("ALLOW");
    expect(x86(200, [7, 0])).toBe("ALLOW");
  });

  test("ne and hasAnyBit", () => {
    expect(x86(300, [1])).toBe("ALLOW");
    expect(x86(300, [2])).toBe("ERRNO(1)");
    expect(x86(300, [0])).toBe("ERRNO(1)");
    expect(x86(400, [0, 0, 0x10])).toBe("ERRNO(1)");
    expect(x86(400, [0, 0, 0x20])).toBe("ERRNO(1)");
    expect(x86(400, [0, 0, 0x7f])).toBe("ERRNO(1)");
    expect(x86(400, [0, 0, 0x7f & ~0x30])).toBe("ALLOW");
  });

  test("tests are ANDed", () => {
    expect(x86(500, [1, 0, 0, 0, 0, 2])).toBe("ERRNO(1)");
    expect(x86(500, [1, 0, 0, 0, 0, 3])).toBe("ALLOW");
    expect(x86(500, [0, 0, 0, 0, 0, 2])).toBe("ALLOW");
  });

  test("tests read only the low 32 bits of an argument", () => {
    expect(x86(200, [0, 0xffffffff00000007n])).toBe("ERRNO(13)");
    expect(x86(300, [0x100000001n])).toBe("ALLOW");
  });

  test("numbers without rules, and numbers between rules, are allowed", () => {
    for (const nr of [0, 1, 99, 101, 199, 201, 299, 301, 450, 501, 1000]) expect(x86(nr)).toBe("ALLOW");
  });
});

describe("assembleSeccompProgram (aarch64)", () => {
  const program = assembleSeccompProgram({ ...SPEC, arch: "aarch64" });

  test("only aarch64 passes the architecture check", () => {
    expect(verdict(program, { arch: ARCH.AARCH64, nr: 100 })).toBe("ERRNO(1)");
    for (const arch of [ARCH.ARM, ARCH.X86_64, ARCH.I386])
      expect(verdict(program, { arch, nr: 100 })).toBe("KILL_PROCESS");
  });

  test("has no x32 check: bit 30 is just an unknown number", () => {
    expect(verdict(program, { arch: ARCH.AARCH64, nr: 0x40000000 | 100 })).toBe("ALLOW");
  });
});

describe("limits", () => {
  test("a program over 4096 instructions is refused", () => {
    // Distinct errnos: syscalls with the same rules would share one block.
    const rules = Array.from({ length: 2100 }, (_, nr) => ({
      nr,
      when: [],
      action: { kind: "errno" as const, errno: 1 + nr },
    }));
    expect(() => assembleSeccompProgram({ ...SPEC, rules })).toThrow(/4096/);
  });

  test("a jump too far for an 8-bit offset is refused, not truncated", () => {
    // The dispatch jumps to syscall 8's block over syscall 7's 300 instructions.
    const rules = [
      ...Array.from({ length: 100 }, (_, i) => ({
        nr: 7,
        when: [{ arg: 0, op: "eq" as const, value: i }],
        action: { kind: "errno" as const, errno: EPERM },
      })),
      { nr: 8, when: [], action: { kind: "errno" as const, errno: EPERM } },
    ];
    expect(() => assembleSeccompProgram({ ...SPEC, rules })).toThrow(/out of range/);
  });
});

describe("sock_filter encoding", () => {
  test("8 bytes per instruction: u16 code, u8 jt, u8 jf, u32 k, little-endian", () => {
    const bytes = encodeSockFilters([{ code: 0x15, jt: 1, jf: 2, k: 0xc000003e }]);
    expect([...bytes]).toEqual([0x15, 0x00, 0x01, 0x02, 0x3e, 0x00, 0x00, 0xc0]);
  });

  test("encode then decode gives the same program back", () => {
    for (const spec of [
      SPEC,
      seccompSpecFor({ arch: "x86_64", network: "none", mode: "landlock" }),
      seccompSpecFor({ arch: "aarch64", network: "all", mode: "bwrap" }),
    ]) {
      const program = assembleSeccompProgram(spec);
      const bytes = encodeSockFilters(program);
      expect(bytes.length).toBe(program.length * 8);
      expect(decodeSockFilters(bytes)).toEqual(program);
    }
  });

  test("decode respects the view's offset into a larger buffer", () => {
    const program: SockFilter[] = [{ code: 0x06, jt: 0, jf: 0, k: RET.ALLOW }];
    const padded = new Uint8Array(24);
    padded.set(encodeSockFilters(program), 8);
    expect(decodeSockFilters(padded.subarray(8, 16))).toEqual(program);
  });
});

describe("disassembleSeccompProgram", () => {
  test("one line per instruction, numbered, naming the loads, syscalls and actions", () => {
    const program = assembleSeccompProgram(seccompSpecFor({ arch: "x86_64", network: "none", mode: "landlock" }));
    const lines = disassembleSeccompProgram(program, "x86_64");
    expect(lines.length).toBe(program.length);
    lines.forEach((line, i) => {
      expect(line).not.toContain("\n");
      expect(line.startsWith(`${String(i).padStart(4, "0")}: `)).toBe(true);
      expect(line).not.toContain("???");
    });
    expect(lines[0]).toBe("0000: ld  arch");
    expect(lines[1]).toContain("AUDIT_ARCH_X86_64");
    expect(lines[2]).toBe("0002: ret KILL_PROCESS");
    const text = lines.join("\n");
    expect(text).toContain("16 (ioctl)");
    expect(text).toContain("ret ERRNO(EPERM)");
    expect(text).toContain("ret ERRNO(ENOSYS)");
    expect(text).toContain("args[0].lo");
  });

  // Constants are named after what the accumulator holds, followed along the jumps.
  test("names every syscall number compared against nr, not only those before the first argument load", () => {
    const program = assembleSeccompProgram(seccompSpecFor({ arch: "x86_64", network: "none", mode: "landlock" }));
    const text = disassembleSeccompProgram(program, "x86_64").join("\n");
    expect(text).toContain("41 (socket)");
    expect(text).toContain("425 (io_uring_setup)");
  });

  test("an unknown opcode is shown, not hidden", () => {
    const lines = disassembleSeccompProgram([{ code: 0x07, jt: 0, jf: 0, k: 0 }], "aarch64");
    expect(lines).toEqual(["0000: ??? code=0x7 k=0x0"]);
  });
});
