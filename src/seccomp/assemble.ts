// A tiny classic-BPF assembler for seccomp filters: a filter spec (already
// resolved to numbers for one architecture) in, sock_filter instructions out.
import { AUDIT_ARCH, X32_SYSCALL_BIT, type KernelArch } from "../../ffi/syscalls.ts";
import { BPF, BPF_MAXINSNS, SECCOMP_DATA, SECCOMP_RET, type SockFilter } from "../../ffi/seccomp.ts";

type Action = { kind: "allow" } | { kind: "errno"; errno: number } | { kind: "kill" };

/** A test on the low 32 bits of one syscall argument. */
export type ArgTest =
  | { arg: number; op: "eq"; value: number }
  | { arg: number; op: "ne"; value: number }
  | { arg: number; op: "hasAnyBit"; mask: number }
  | { arg: number; op: "maskedNe"; mask: number; value: number };

/** `action` when every test holds; with no tests, always. */
interface FilterRule {
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

  /** Instructions so far, labels not counted. */
  get size(): number {
    return this.items.filter((item) => !("label" in item)).length;
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

/** Ranges this small are tested one number after another. */
const LINEAR_RANGE = 4;

/**
 * A decision tree on the syscall number (in the accumulator): `jge` splits
 * the sorted numbers in halves, small ranges end in `jeq`s, and a number that
 * is in no block is allowed at once.
 */
function emitDispatch(program: Program, numbers: readonly number[], blockOf: (nr: number) => string): void {
  if (numbers.length <= LINEAR_RANGE) {
    for (const nr of numbers) {
      const next = program.fresh("next");
      program.jump(BPF.JEQ_K, nr, blockOf(nr), next);
      program.label(next);
    }
    program.ret(SECCOMP_RET.ALLOW);
    return;
  }
  const middle = Math.floor(numbers.length / 2);
  const lower = program.fresh("lower");
  program.jump(BPF.JGE_K, numbers[middle]!, 0, lower);
  emitDispatch(program, numbers.slice(middle), blockOf);
  program.label(lower);
  emitDispatch(program, numbers.slice(0, middle), blockOf);
}

/**
 * Layout: check the architecture (anything else is killed: its syscall
 * numbers mean other calls), refuse x32, dispatch on the number, then one
 * block per listed syscall: it tries its rules in order and falls through to ALLOW.
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
  const numbers = [...byNr.keys()].sort((a, b) => a - b);
  // Syscalls with the same rules share one block (most are a bare "ret EPERM"):
  // the program stays small and every jump within BPF's 255-instruction reach.
  const blocks = new Map<string, FilterRule[]>();
  const blockName = new Map<number, string>();
  for (const nr of numbers) {
    const rules = byNr.get(nr)!;
    const key = JSON.stringify(rules.map(({ when, action }) => ({ when, action })));
    if (!blocks.has(key)) blocks.set(key, rules);
    blockName.set(nr, `block${[...blocks.keys()].indexOf(key)}`);
  }
  const blockOf = (nr: number) => blockName.get(nr)!;

  // Every syscall of the command passes through here: a binary search over
  // the listed numbers costs about log2(n) comparisons instead of n.
  emitDispatch(program, numbers, blockOf);

  for (const [index, rules] of [...blocks.values()].entries()) {
    // Only the dispatch jumps here; a block's tests load arguments, never the number.
    program.label(`block${index}`);
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
  }

  if (program.size > BPF_MAXINSNS) {
    throw new Error(`seccomp program has ${program.size} instructions, the kernel takes ${BPF_MAXINSNS}`);
  }
  return program.resolve();
}
