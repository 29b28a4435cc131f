// Renders a seccomp program one line per instruction, for `explain`.
// Constants are named after what the accumulator holds at that instruction,
// followed along every (forward-only) jump, not after the line above.
import { BPF, SECCOMP_RET, SECCOMP_RET_DATA, type SockFilter } from "../../ffi/seccomp.ts";
import { AUDIT_ARCH, SYSCALLS, type KernelArch } from "../../ffi/syscalls.ts";
import { errnoName } from "../../ffi/constants.ts";

function describeReturn(k: number): string {
  const action = (k & 0xffff0000) >>> 0;
  if (action === SECCOMP_RET.ALLOW) return "ALLOW";
  if (action === SECCOMP_RET.KILL_PROCESS) return "KILL_PROCESS";
  if (action === SECCOMP_RET.ERRNO) return `ERRNO(${errnoName(k & SECCOMP_RET_DATA)})`;
  return `0x${k.toString(16)}`;
}

function describeLoad(k: number): string {
  if (k === 0) return "nr";
  if (k === 4) return "arch";
  if (k >= 16 && k < 64) return `args[${Math.floor((k - 16) / 8)}]${(k - 16) % 8 === 0 ? ".lo" : ".hi"}`;
  return `data[${k}]`;
}

function describeConstant(k: number, arch: KernelArch, held: string | undefined): string {
  if (held === "arch") {
    const name = Object.entries(AUDIT_ARCH).find(([, value]) => value === k)?.[0];
    if (name) return `AUDIT_ARCH_${name.toUpperCase()}`;
  }
  if (held === "nr") {
    const name = Object.entries(SYSCALLS[arch]).find(([, value]) => value === k)?.[0];
    if (name) return `${k} (${name})`;
  }
  return `0x${k.toString(16)}`;
}

const JUMPS: Record<number, string> = {
  [BPF.JEQ_K]: "jeq",
  [BPF.JGE_K]: "jge",
  [BPF.JGT_K]: "jgt",
  [BPF.JSET_K]: "jset",
};

export function disassembleSeccompProgram(program: readonly SockFilter[], arch: KernelArch): string[] {
  // What the accumulator holds on entry to each instruction; "?" where paths disagree.
  const holds: (string | undefined)[] = new Array(program.length).fill(undefined);
  const flow = (to: number, value: string | undefined) => {
    if (to >= program.length) return;
    holds[to] = holds[to] === undefined || holds[to] === value ? value : "?";
  };
  return program.map((insn, i) => {
    const held = holds[i];
    const at = (offset: number) => i + 1 + offset;
    const pad = String(i).padStart(4, "0");
    switch (insn.code) {
      case BPF.LD_W_ABS: {
        const loaded = describeLoad(insn.k);
        flow(i + 1, loaded);
        return `${pad}: ld  ${loaded}`;
      }
      case BPF.JEQ_K:
      case BPF.JGE_K:
      case BPF.JGT_K:
      case BPF.JSET_K:
        flow(at(insn.jt), held);
        flow(at(insn.jf), held);
        return `${pad}: ${JUMPS[insn.code]} ${describeConstant(insn.k, arch, held)} ? ${at(insn.jt)} : ${at(insn.jf)}`;
      case BPF.AND_K:
        flow(i + 1, `${held ?? "?"} & 0x${insn.k.toString(16)}`);
        return `${pad}: and 0x${insn.k.toString(16)}`;
      case BPF.RET_K:
        return `${pad}: ret ${describeReturn(insn.k)}`;
      default:
        flow(i + 1, "?");
        return `${pad}: ??? code=0x${insn.code.toString(16)} k=0x${insn.k.toString(16)}`;
    }
  });
}
