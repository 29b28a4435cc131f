// A classic-BPF interpreter for seccomp programs, written independently of the
// assembler so tests can prove what a filter means without installing it.
// Constants come from <linux/filter.h>, <linux/seccomp.h> and <linux/audit.h>,
// not from ffi/, so a wrong constant there cannot hide in both places.

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const OP = {
  LD_W_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JGE_K: 0x35,
  JGT_K: 0x25,
  JSET_K: 0x45,
  AND_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RET_K: 0x06, // BPF_RET | BPF_K
} as const;

export const ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** struct seccomp_data; args are the full 64-bit registers. */
export interface SeccompInput {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: readonly (bigint | number)[];
}

const DATA_SIZE = 64;

function toU64(value: bigint | number): bigint {
  return BigInt.asUintN(64, typeof value === "number" ? BigInt(value) : value);
}

/** Lays out struct seccomp_data little-endian, as the kernel presents it. */
export function seccompData(input: SeccompInput): DataView {
  const view = new DataView(new ArrayBuffer(DATA_SIZE));
  view.setInt32(0, input.nr | 0, true);
  view.setUint32(4, input.arch >>> 0, true);
  view.setBigUint64(8, toU64(input.ip ?? 0n), true);
  const args = input.args ?? [];
  if (args.length > 6) throw new Error(`seccomp_data has 6 args, got ${args.length}`);
  for (let i = 0; i < 6; i++) view.setBigUint64(16 + 8 * i, toU64(args[i] ?? 0n), true);
  return view;
}

/**
 * Runs `program` over `input` and returns the 32-bit return value. Throws on
 * any opcode outside the subset cordon's assembler may emit, on a misaligned
 * or out-of-range load, on a jump past the end, and on falling off the end.
 */
export function runSeccompProgram(program: readonly Insn[], input: SeccompInput): number {
  if (program.length === 0) throw new Error("empty BPF program");
  const data = seccompData(input);
  let acc = 0;
  let pc = 0;
  // Classic BPF only jumps forward, so this bound can only trip on a bug here.
  for (let steps = 0; steps <= program.length; steps++) {
    if (pc < 0 || pc >= program.length)
      throw new Error(`BPF: pc ${pc} outside a ${program.length}-instruction program`);
    const insn = program[pc]!;
    const k = insn.k >>> 0;
    const jump = (taken: boolean): void => {
      const offset = taken ? insn.jt : insn.jf;
      const target = pc + 1 + offset;
      if (target >= program.length)
        throw new Error(`BPF: jump from ${pc} to ${target} past the end (${program.length})`);
      pc = target;
    };
    switch (insn.code) {
      case OP.LD_W_ABS:
        if (k % 4 !== 0 || k + 4 > DATA_SIZE) throw new Error(`BPF: load at offset ${k} outside seccomp_data`);
        acc = data.getUint32(k, true);
        pc++;
        break;
      case OP.JEQ_K:
        jump(acc === k);
        break;
      case OP.JGE_K:
        jump(acc >= k);
        break;
      case OP.JGT_K:
        jump(acc > k);
        break;
      case OP.JSET_K:
        jump((acc & k) >>> 0 !== 0);
        break;
      case OP.AND_K:
        acc = (acc & k) >>> 0;
        pc++;
        break;
      case OP.RET_K:
        return k;
      default:
        throw new Error(`BPF: unsupported opcode 0x${insn.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("BPF: program did not return");
}

/** A return value as text: ALLOW, KILL_PROCESS, ERRNO(1), ... */
export function describeRet(value: number): string {
  const action = (value & 0xffff0000) >>> 0;
  const data = value & 0xffff;
  if (value >>> 0 === RET.KILL_PROCESS) return "KILL_PROCESS";
  if (action === RET.ALLOW) return "ALLOW";
  if (action === RET.ERRNO) return `ERRNO(${data})`;
  if (action === RET.KILL_THREAD) return "KILL_THREAD";
  if (action === RET.TRAP) return "TRAP";
  if (action === RET.TRACE) return "TRACE";
  if (action === RET.LOG) return "LOG";
  return `0x${(value >>> 0).toString(16)}`;
}

/** Runs the program and describes the outcome. */
export function verdict(program: readonly Insn[], input: SeccompInput): string {
  return describeRet(runSeccompProgram(program, input));
}
