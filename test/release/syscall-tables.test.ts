// ffi/syscalls.ts against the kernel's own headers, for both architectures we
// ship. A wrong number would make the seccomp filter guard the wrong call, and
// nothing at run time would notice. Plain file parsing: no qemu needed.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { ABSENT, SYSCALL_NAMES, SYSCALLS, type KernelArch } from "../../ffi/syscalls.ts";

/** Syscalls numbered after the 5.1 unification get one number on every architecture. */
const UNIFIED_FROM = 424;

const HEADERS: Record<KernelArch, string[]> = {
  // linux-libc-dev-arm64-cross; the generic header is the same table for
  // aarch64 (x86 uses its own), so linux-libc-dev's copy serves as a fallback.
  aarch64: ["/usr/aarch64-linux-gnu/include/asm-generic/unistd.h", "/usr/include/asm-generic/unistd.h"],
  x86_64: ["/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"],
};

function headerFor(arch: KernelArch): string | undefined {
  return HEADERS[arch].find((path) => existsSync(path));
}

/** `#define __NR_name 123` lines, and names defined as an __NR3264_ number; other macros are ignored. */
export function parseUnistd(text: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const match of text.matchAll(/^#define __NR_(\w+)\s+(\d+)\s*$/gm)) table.set(match[1]!, Number(match[2]));
  // The generic table numbers calls whose 32-bit and 64-bit forms differ (fstatfs, mmap) as __NR3264_x;
  // "__NR_fstatfs __NR3264_fstatfs" names it for 64-bit, "__NR_fstatfs64" for 32-bit.
  const numbered = new Map<string, number>();
  for (const match of text.matchAll(/^#define __NR3264_(\w+)\s+(\d+)\s*$/gm)) numbered.set(match[1]!, Number(match[2]));
  for (const match of text.matchAll(/^#define __NR_(\w+)\s+__NR3264_(\w+)\s*$/gm)) {
    const number = numbered.get(match[2]!);
    if (number !== undefined && !table.has(match[1]!)) table.set(match[1]!, number);
  }
  return table;
}

for (const arch of ["aarch64", "x86_64"] as const) {
  const header = headerFor(arch);
  describe.skipIf(header === undefined)(
    `${arch} syscall numbers match ` +
      (header ??
        "the kernel headers (skipped: install " +
          `${arch === "aarch64" ? "linux-libc-dev-arm64-cross or linux-libc-dev" : "linux-libc-dev"})`),
    () => {
      const kernel = parseUnistd(header ? readFileSync(header, "utf8") : "");
      const ours = SYSCALLS[arch];

      test("every syscall cordon names has the header's number", () => {
        expect(kernel.size).toBeGreaterThan(250);
        const compared: string[] = [];
        const mismatches: string[] = [];
        for (const name of SYSCALL_NAMES) {
          const theirs = kernel.get(name);
          if (theirs === undefined) continue;
          compared.push(name);
          if (ours[name] !== theirs) mismatches.push(`${name}: ours ${ours[name]}, header ${theirs}`);
        }
        expect(mismatches).toEqual([]);
        // Older headers lack the newest few calls, but the rest must be checked.
        const present = SYSCALL_NAMES.filter((name) => ours[name] !== ABSENT).length;
        expect(compared.length).toBeGreaterThanOrEqual(present - 4);
      });

      test("calls the header does not know are absent on this arch or newer than the header", () => {
        const unexplained = SYSCALL_NAMES.filter((name) => !kernel.has(name))
          .filter((name) => ours[name] !== ABSENT && ours[name] < UNIFIED_FROM)
          .map((name) => `${name} (${ours[name]})`);
        expect(unexplained).toEqual([]);
      });

      test("calls marked absent really are missing from the header", () => {
        const present = SYSCALL_NAMES.filter((name) => ours[name] === ABSENT && kernel.has(name));
        expect(present).toEqual([]);
      });
    },
  );
}

test("syscalls numbered since the 5.1 unification share one number on both architectures", () => {
  const differing = SYSCALL_NAMES.filter(
    (name) => SYSCALLS.x86_64[name] >= UNIFIED_FROM || SYSCALLS.aarch64[name] >= UNIFIED_FROM,
  ).filter((name) => SYSCALLS.x86_64[name] !== SYSCALLS.aarch64[name]);
  expect(differing).toEqual([]);
});
