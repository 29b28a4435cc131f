// A tiny classic-BPF assembler for seccomp filters: a filter spec (already
// resolved to numbers for one architecture) in, sock_filter instructions out.
import { AUDIT_ARCH, X32_SYSCALL_BIT, type KernelArch } from "../../ffi/syscalls.ts";
import { BPF, BPF_MAXINSNS, SECCOMP_DATA, SECCOMP_RET, type SockFilter } from "../../ffi/seccomp.ts";

export type Action = { kind: "allow" } | { kind: "errno"; errno: number } | { kind: "kill" };

/** A test on the low 32 bits of one syscall argument. */
export type ArgTest =
  | { arg: number; op: "eq"; value: number }
  | { arg: number; op: "ne"; value: number }
  | { arg: number; op: "hasAnyBit"; mask: number }
  | { arg: number; op: "maskedNe"; mask: number; value: number };

/** `action` when every test holds; with no tests, always. */
export interface FilterRule {
  nr: number;
  when: ArgTest[];
  action: Action;
}

export interface FilterSpec {
  arch: KernelArch;
  /** Calls through the x32 ABI (x86_64 only) get this. */
  x32Action: Action;
  rules: FilterRule[];
}

export function actionValue(action: Action): number {
  switch (action.kind) {
    case "allow":
      return SECCOMP_RET.ALLOW;
    case "kill":
      return SECCOMP_RET.KILL_PROCESS;
    case "errno":
      return (SECCOMP_RET.ERRNO | (action.errno & 0xffff)) >>> 0;
  }
}

type Target = string | number;
type Item = { label: string } | { insn: SockFilter; jt?: Target; jf?: Target };

/** Collects instructions with symbolic jump targets, then resolves them. */
class Program {
  private items: Item[] = [];
  private nextLabel = 0;

  label(name: string): void {
    this.items.push({ label: name });
  }
  fresh(prefix: string): string {
    return `${prefix}${this.nextLabel++}`;
  }
  load(offset: number): void {
    this.items.push({ insn: { code: BPF.LD_W_ABS, jt: 0, jf: 0, k: offset } });
  }
  jump(code: number, k: number, jt: Target, jf: Target): void {
    this.items.push({ insn: { code, jt: 0, jf: 0, k: k >>> 0 }, jt, jf });
  }
  and(k: number): void {
    this.items.push({ insn: { code: BPF.AND_K, jt: 0, jf: 0, k: k >>> 0 } });
  }
  ret(value: number): void {
    this.items.push({ insn: { code: BPF.RET_K, jt: 0, jf: 0, k: value >>> 0 } });
  }

  resolve(): SockFilter[] {
    const positions = new Map<string, number>();
    let count = 0;
    for (const item of this.items) {
      if ("label" in item) positions.set(item.label, count);
      else count++;
    }
    const out: SockFilter[] = [];
    for (const item of this.items) {
      if ("label" in item) continue;
      const here = out.length;
      const offset = (target: Target | undefined): number => {
        if (target === undefined) return 0;
        if (typeof target === "number") return target;
        const position = positions.get(target);
        if (position === undefined) throw new Error(`seccomp assembler: unknown label ${target}`);
        const distance = position - here - 1;
        if (distance < 0 || distance > 255) throw new Error(`seccomp assembler: jump to ${target} out of range`);
        return distance;
      };
      out.push({ ...item.insn, jt: offset(item.jt), jf: offset(item.jf) });
    }
    return out;
  }
}

function emitTest(program: Program, test: ArgTest, pass: string, fail: string): void {
  program.load(SECCOMP_DATA.argLow(test.arg));
  switch (test.op) {
    case "eq":
      return program.jump(BPF.JEQ_K, test.value, pass, fail);
    case "ne":
      return program.jump(BPF.JEQ_K, test.value, fail, pass);
    case "hasAnyBit":
      return program.jump(BPF.JSET_K, test.mask, pass, fail);
    case "maskedNe":
      program.and(test.mask);
      return program.jump(BPF.JEQ_K, test.value, fail, pass);
  }
}

/**
 * Layout: check the architecture (anything else is killed: its syscall
 * numbers mean other calls), refuse x32, then one block per syscall number.
 * A block tries its rules in order and falls through to ALLOW.
 */
export function assembleSeccompProgram(spec: FilterSpec): SockFilter[] {
  const program = new Program();
  program.load(SECCOMP_DATA.arch);
  program.jump(BPF.JEQ_K, AUDIT_ARCH[spec.arch], 1, 0);
  program.ret(SECCOMP_RET.KILL_PROCESS);
  program.load(SECCOMP_DATA.nr);
  if (spec.arch === "x86_64") {
    program.jump(BPF.JGE_K, X32_SYSCALL_BIT, 0, 1);
    program.ret(actionValue(spec.x32Action));
  }

  const byNr = new Map<number, FilterRule[]>();
  for (const rule of spec.rules) byNr.set(rule.nr, [...(byNr.get(rule.nr) ?? []), rule]);

  for (const [nr, rules] of [...byNr].sort((a, b) => a[0] - b[0])) {
    const next = program.fresh("nr");
    program.jump(BPF.JEQ_K, nr, 0, next);
    for (const rule of rules) {
      const hit = program.fresh("hit");
      const miss = program.fresh("miss");
      rule.when.forEach((test, i) => {
        const pass = i === rule.when.length - 1 ? hit : program.fresh("and");
        emitTest(program, test, pass, miss);
        if (pass !== hit) program.label(pass);
      });
      program.label(hit);
      program.ret(actionValue(rule.action));
      program.label(miss);
    }
    program.ret(SECCOMP_RET.ALLOW);
    // Only the jump above reaches here, so the accumulator still holds nr.
    program.label(next);
  }
  program.ret(SECCOMP_RET.ALLOW);

  const instructions = program.resolve();
  if (instructions.length > BPF_MAXINSNS) {
    throw new Error(`seccomp program has ${instructions.length} instructions, the kernel takes ${BPF_MAXINSNS}`);
  }
  return instructions;
}
