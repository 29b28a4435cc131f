// cordon's seccomp profile, assembled for every (arch, network, mode) and run
// through the test suite's BPF interpreter over many (arch, nr, args) inputs.
import { describe, expect, test } from "bun:test";
import { SYSCALLS, SYSCALL_NAMES, type KernelArch, type SyscallName } from "../../ffi/syscalls.ts";
import { assembleSeccompProgram } from "../../src/seccomp/assemble.ts";
import { SECCOMP_PROFILE, profileApplies, seccompSpecFor, type ProfileOptions } from "../../src/seccomp/profile.ts";
import { ARCH, verdict, type Insn } from "../helpers/bpf.ts";

// Independent of ffi/: <asm/errno.h>, <linux/socket.h>, <asm-generic/ioctls.h>, <linux/sched.h>.
const EPERM = "ERRNO(1)";
const ENOSYS = "ERRNO(38)";
const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, VSOCK: 40 } as const;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
const TCGETS = 0x5401;
const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

/** Hard-coded numbers, checked by hand against asm/unistd_64.h and asm-generic/unistd.h. */
const NUMBERS = {
  x86_64: { read: 0, write: 1, openat: 257, mmap: 9, futex: 202, execve: 59, socket: 41, socketpair: 53, ioctl: 16, clone: 56, unshare: 272, clone3: 435, io_uring_setup: 425, setns: 308, mount: 165, keyctl: 250, bpf: 321, shmget: 29, ptrace: 101, connect: 42 },
  aarch64: { read: 63, write: 64, openat: 56, mmap: 222, futex: 98, execve: 221, socket: 198, socketpair: 199, ioctl: 29, clone: 220, unshare: 97, clone3: 435, io_uring_setup: 425, setns: 268, mount: 40, keyctl: 219, bpf: 280, shmget: 194, ptrace: 117, connect: 203 },
} as const;

const NATIVE: Record<KernelArch, number> = { x86_64: ARCH.X86_64, aarch64: ARCH.AARCH64 };
const FOREIGN: Record<KernelArch, number[]> = { x86_64: [ARCH.I386, ARCH.AARCH64, ARCH.ARM], aarch64: [ARCH.ARM, ARCH.X86_64, ARCH.I386] };

const ALL_OPTIONS: ProfileOptions[] = (["x86_64", "aarch64"] as const).flatMap((arch) =>
  (["none", "all"] as const).flatMap((network) => (["landlock", "bwrap"] as const).map((mode) => ({ arch, network, mode }))),
);
const label = (o: ProfileOptions) => `${o.arch} net=${o.network} mode=${o.mode}`;

function programFor(options: ProfileOptions): Insn[] {
  return assembleSeccompProgram(seccompSpecFor(options));
}

describe.each(ALL_OPTIONS.map((o) => [label(o), o] as const))("profile %s", (_name, options) => {
  const program = programFor(options);
  const n = NUMBERS[options.arch];
  const call = (nr: number, args: (number | bigint)[] = []) => verdict(program, { arch: NATIVE[options.arch], nr, args });
  const netOff = options.network === "none";

  test("fits the kernel's 4096-instruction limit", () => {
    expect(program.length).toBeGreaterThan(10);
    expect(program.length).toBeLessThanOrEqual(4096);
  });

  test("a foreign architecture is killed, whatever the number", () => {
    for (const arch of FOREIGN[options.arch]) {
      // 359 is socket and 102 socketcall on i386 (int 0x80); 0..3 and the native numbers too.
      for (const nr of [0, 1, 2, 3, 102, 359, n.socket, n.read, n.execve, 425]) {
        expect(verdict(program, { arch, nr, args: [AF.INET] })).toBe("KILL_PROCESS");
        expect(verdict(program, { arch, nr, args: [AF.UNIX] })).toBe("KILL_PROCESS");
      }
    }
  });

  test("x32 calls (nr | 0x40000000) get ENOSYS on x86_64; aarch64 has no x32 and no such numbers", () => {
    // On aarch64 such a number is no syscall at all; the kernel itself answers ENOSYS.
    const expected = options.arch === "x86_64" ? ENOSYS : "ALLOW";
    for (const nr of [n.read, n.write, n.socket, n.execve, 102, 359, 425, 0x3fffffff]) {
      expect(call((nr | 0x40000000) >>> 0, [AF.INET])).toBe(expected);
    }
  });

  test("ordinary calls are allowed", () => {
    for (const nr of [n.read, n.write, n.openat, n.mmap, n.futex, n.execve, n.ptrace, n.connect]) expect(call(nr, [0, 0, 0])).toBe("ALLOW");
  });

  test(`socket() and socketpair(): AF_UNIX allowed, other families ${netOff ? "EPERM" : "allowed"}`, () => {
    for (const nr of [n.socket, n.socketpair]) {
      expect(call(nr, [AF.UNIX, 1, 0])).toBe("ALLOW");
      // High 32 bits of an int argument are ignored by the kernel, so by the filter too.
      expect(call(nr, [0xdeadbeef00000000n | BigInt(AF.UNIX), 1, 0])).toBe("ALLOW");
      for (const family of [AF.INET, AF.INET6, AF.NETLINK, AF.PACKET, AF.VSOCK, 0, 255]) {
        expect(call(nr, [family, 1, 0])).toBe(netOff ? EPERM : "ALLOW");
        expect(call(nr, [0x100000000n | BigInt(family), 1, 0])).toBe(netOff ? EPERM : "ALLOW");
      }
    }
  });

  test("io_uring_setup gets EPERM", () => {
    expect(call(n.io_uring_setup, [8, 0])).toBe(EPERM);
  });

  test("clone with CLONE_NEWUSER gets EPERM; plain clone is allowed; clone3 gets ENOSYS", () => {
    expect(call(n.clone, [SIGCHLD])).toBe("ALLOW");
    expect(call(n.clone, [0x003d0f00])).toBe("ALLOW"); // pthread_create's flags
    expect(call(n.clone, [CLONE_NEWUSER | SIGCHLD])).toBe(EPERM);
    expect(call(n.clone, [0x7c000000 | SIGCHLD])).toBe(EPERM); // every namespace flag
    expect(call(n.unshare, [CLONE_NEWUSER])).toBe(EPERM);
    expect(call(n.unshare, [0x00000200])).toBe("ALLOW"); // CLONE_FS
    expect(call(n.clone3, [0, 88])).toBe(ENOSYS);
  });

  test("ioctl TIOCSTI and TIOCLINUX get EPERM, also with high bits in the 64-bit cmd; TCGETS is allowed", () => {
    for (const cmd of [TIOCSTI, TIOCLINUX]) {
      expect(call(n.ioctl, [0, cmd, 0])).toBe(EPERM);
      expect(call(n.ioctl, [0, 0xffffffff00000000n | BigInt(cmd), 0])).toBe(EPERM);
      expect(call(n.ioctl, [0, 0x100000000n | BigInt(cmd), 0])).toBe(EPERM);
    }
    expect(call(n.ioctl, [0, TCGETS, 0])).toBe("ALLOW");
    expect(call(n.ioctl, [0, 0x5413, 0])).toBe("ALLOW"); // TIOCGWINSZ
  });

  test("key calls are refused independently of the table", () => {
    for (const nr of [n.setns, n.mount, n.keyctl, n.bpf]) expect(call(nr, [0, 0])).toBe(EPERM);
    expect(call(n.shmget, [0, 4096, 0])).toBe(options.mode === "landlock" ? EPERM : "ALLOW");
  });

  test("every entry of SECCOMP_PROFILE is compiled as the table says", () => {
    const numbers = SYSCALLS[options.arch];
    const expectedErrno = (errno: "EPERM" | "ENOSYS") => (errno === "EPERM" ? EPERM : ENOSYS);
    for (const entry of SECCOMP_PROFILE) {
      const applies = profileApplies(entry, options);
      for (const name of entry.syscalls) {
        const nr = numbers[name];
        const hit = expectedErrno(entry.errno);
        if (!entry.when || entry.when.length === 0) {
          expect(`${name}: ${call(nr, [0, 0, 0])}`).toBe(`${name}: ${applies ? hit : "ALLOW"}`);
          continue;
        }
        // Build arguments that satisfy every test, then break each test in turn.
        const matching = [0, 0, 0, 0, 0, 0];
        for (const t of entry.when) matching[t.arg] = t.op === "eq" ? t.value : t.op === "ne" ? t.value + 1 : t.mask;
        expect(`${name} matching: ${call(nr, matching)}`).toBe(`${name} matching: ${applies ? hit : "ALLOW"}`);
        for (const t of entry.when) {
          const broken = [...matching];
          broken[t.arg] = t.op === "eq" ? t.value + 1 : t.op === "ne" ? t.value : 0;
          // Another entry may still catch the broken value (e.g. a second ioctl entry), so only check
          // when no other entry matches it.
          const otherMatches = SECCOMP_PROFILE.some(
            (other) => other !== entry && profileApplies(other, options) && other.syscalls.includes(name) &&
              (other.when ?? []).every((o) => (o.op === "eq" ? broken[o.arg] === o.value : o.op === "ne" ? broken[o.arg] !== o.value : (broken[o.arg]! & o.mask) !== 0)),
          );
          if (!otherMatches) expect(`${name} broken: ${call(nr, broken)}`).toBe(`${name} broken: ALLOW`);
        }
      }
    }
  });

  test("syscalls outside the table are allowed", () => {
    const inTable = new Set<SyscallName>(SECCOMP_PROFILE.filter((e) => profileApplies(e, options)).flatMap((e) => e.syscalls));
    for (const name of SYSCALL_NAMES) {
      if (!inTable.has(name)) expect(`${name}: ${call(SYSCALLS[options.arch][name], [2, 0x5412, 0])}`).toBe(`${name}: ALLOW`);
    }
  });

  test("a sweep of numbers never leaves the program or takes an unknown action", () => {
    const allowed = new Set(["ALLOW", EPERM, ENOSYS, "KILL_PROCESS"]);
    for (let nr = 0; nr < 600; nr++) {
      for (const args of [[], [AF.INET, TIOCSTI], [CLONE_NEWUSER, TIOCLINUX]]) {
        expect(allowed.has(call(nr, args))).toBe(true);
      }
    }
  });
});

describe("numbers in ffi/syscalls.ts", () => {
  test("agree with the hard-coded numbers used above", () => {
    for (const arch of ["x86_64", "aarch64"] as const) {
      for (const [name, nr] of Object.entries(NUMBERS[arch])) {
        if (name in SYSCALLS[arch]) expect(`${arch} ${name}=${SYSCALLS[arch][name as SyscallName]}`).toBe(`${arch} ${name}=${nr}`);
      }
    }
  });

  test("no two names share a number on one architecture", () => {
    for (const arch of ["x86_64", "aarch64"] as const) {
      const numbers = Object.values(SYSCALLS[arch]);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });
});
