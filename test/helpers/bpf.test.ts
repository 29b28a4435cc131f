// The interpreter is the oracle for every seccomp test: prove it first.
import { describe, expect, test } from "bun:test";
import { ARCH, OP, RET, describeRet, runSeccompProgram, seccompData, type Insn } from "./bpf.ts";

const ld = (k: number): Insn => ({ code: OP.LD_W_ABS, jt: 0, jf: 0, k });
const ret = (k: number): Insn => ({ code: OP.RET_K, jt: 0, jf: 0, k });
const jmp = (code: number, k: number, jt: number, jf: number): Insn => ({ code, jt, jf, k });

describe("seccomp_data layout", () => {
  test("nr, arch, ip and args sit at the kernel's offsets, little-endian", () => {
    const view = seccompData({ nr: 41, arch: ARCH.X86_64, ip: 0x1122334455667788n, args: [0xaabbccdd00000002n, -1] });
    expect(view.getUint32(0, true)).toBe(41);
    expect(view.getUint32(4, true)).toBe(ARCH.X86_64);
    expect(view.getBigUint64(8, true)).toBe(0x1122334455667788n);
    expect(view.getUint32(16, true)).toBe(2);
    expect(view.getUint32(20, true)).toBe(0xaabbccdd);
    expect(view.getUint32(24, true)).toBe(0xffffffff);
    expect(view.getUint32(28, true)).toBe(0xffffffff);
    expect(view.getUint32(60, true)).toBe(0);
  });
});

describe("runSeccompProgram", () => {
  test("loads, compares unsigned and returns", () => {
    const program = [ld(4), jmp(OP.JGE_K, 0x80000000, 0, 1), ret(RET.ALLOW), ret(RET.ERRNO | 1)];
    expect(describeRet(runSeccompProgram(program, { nr: 0, arch: ARCH.X86_64 }))).toBe("ALLOW");
    expect(describeRet(runSeccompProgram(program, { nr: 0, arch: ARCH.I386 }))).toBe("ERRNO(1)");
  });

  test("JGT is strict, JSET tests any bit, AND masks the accumulator", () => {
    const gt = [ld(0), jmp(OP.JGT_K, 10, 0, 1), ret(1), ret(2)];
    expect(runSeccompProgram(gt, { nr: 10, arch: 0 })).toBe(2);
    expect(runSeccompProgram(gt, { nr: 11, arch: 0 })).toBe(1);
    const set = [ld(16), jmp(OP.JSET_K, 0x10000000, 0, 1), ret(1), ret(2)];
    expect(runSeccompProgram(set, { nr: 0, arch: 0, args: [0x10000011] })).toBe(1);
    expect(runSeccompProgram(set, { nr: 0, arch: 0, args: [0x01000011] })).toBe(2);
    const and = [ld(16), { code: OP.AND_K, jt: 0, jf: 0, k: 0xff }, jmp(OP.JEQ_K, 0x12, 0, 1), ret(1), ret(2)];
    expect(runSeccompProgram(and, { nr: 0, arch: 0, args: [0xabcd12] })).toBe(1);
  });

  test("fails loudly on unknown opcodes, bad loads, bad jumps and falling off the end", () => {
    expect(() => runSeccompProgram([{ code: 0x07, jt: 0, jf: 0, k: 0 }], { nr: 0, arch: 0 })).toThrow(/opcode/);
    expect(() => runSeccompProgram([ld(64), ret(0)], { nr: 0, arch: 0 })).toThrow(/outside seccomp_data/);
    expect(() => runSeccompProgram([ld(2), ret(0)], { nr: 0, arch: 0 })).toThrow(/outside seccomp_data/);
    expect(() => runSeccompProgram([jmp(OP.JEQ_K, 0, 5, 5), ret(0)], { nr: 0, arch: 0 })).toThrow(/past the end/);
    expect(() => runSeccompProgram([ld(0)], { nr: 0, arch: 0 })).toThrow();
    expect(() => runSeccompProgram([], { nr: 0, arch: 0 })).toThrow(/empty/);
  });
});
