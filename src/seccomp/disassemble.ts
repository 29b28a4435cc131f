// Renders a seccomp program one line per instruction, for `explain`.
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

function describeConstant(k: number, arch: KernelArch, loaded: string): string {
  if (loaded === "arch") {
    const name = Object.entries(AUDIT_ARCH).find(([, value]) => value === k)?.[0];
    return name ? `AUDIT_ARCH_${name.toUpperCase()}` : `0x${k.toString(16)}`;
  }
  if (loaded === "nr") {
    const name = Object.entries(SYSCALLS[arch]).find(([, value]) => value === k)?.[0];
    return name ? `${k} (${name})` : `0x${k.toString(16)}`;
  }
  return `0x${k.toString(16)}`;
}

/**
 * What the accumulator holds on entry to each instruction. Jumps only go
 * forward, so one pass in order sees every predecessor first; where paths
 * disagree, the value is unnamed ("").
 */
function accumulatorStates(program: readonly SockFilter[]): string[] {
  const states: (string | undefined)[] = program.map(() => undefined);
  states[0] = "";
  const reach = (target: number, value: string) => {
    if (target >= program.length) return;
    const known = states[target];
    states[target] = known === undefined || known === value ? value : "";
  };
  program.forEach((insn, i) => {
    const entry = states[i] ?? "";
    switch (insn.code) {
      case BPF.LD_W_ABS:
        reach(i + 1, describeLoad(insn.k));
        return;
      case BPF.AND_K:
        reach(i + 1, "");
        return;
      case BPF.RET_K:
        return;
      case BPF.JEQ_K:
      case BPF.JGE_K:
      case BPF.JGT_K:
      case BPF.JSET_K:
        reach(i + 1 + insn.jt, entry);
        reach(i + 1 + insn.jf, entry);
        return;
      default:
        reach(i + 1, "");
    }
  });
  return states.map((state) => state ?? "");
}

export function disassembleSeccompProgram(program: readonly SockFilter[], arch: KernelArch): string[] {
  const states = accumulatorStates(program);
  return program.map((insn, i) => {
    const at = (offset: number) => i + 1 + offset;
    const pad = String(i).padStart(4, "0");
    const loaded = states[i]!;
    switch (insn.code) {
      case BPF.LD_W_ABS:
        return `${pad}: ld  ${describeLoad(insn.k)}`;
      case BPF.JEQ_K:
      case BPF.JGE_K:
      case BPF.JGT_K:
      case BPF.JSET_K: {
        const op = { [BPF.JEQ_K]: "jeq", [BPF.JGE_K]: "jge", [BPF.JGT_K]: "jgt", [BPF.JSET_K]: "jset" }[insn.code];
        return `${pad}: ${op} ${describeConstant(insn.k, arch, loaded)} ? ${at(insn.jt)} : ${at(insn.jf)}`;
      }
      case BPF.AND_K:
        return `${pad}: and 0x${insn.k.toString(16)}`;
      case BPF.RET_K:
        return `${pad}: ret ${describeReturn(insn.k)}`;
      default:
        return `${pad}: ??? code=0x${insn.code.toString(16)} k=0x${insn.k.toString(16)}`;
    }
  });
}
