// cordon's seccomp profile, assembled for every (arch, network, mode) and run
// through the test suite's BPF interpreter over many (arch, nr, args) inputs.
import { describe, expect, test } from "bun:test";
import { ABSENT, SYSCALLS, SYSCALL_NAMES, type KernelArch, type SyscallName } from "../../ffi/syscalls.ts";
import { assembleSeccompProgram, type ArgTest } from "../../src/seccomp/assemble.ts";
import { SECCOMP_PROFILE, profileApplies, seccompSpecFor, type ProfileOptions } from "../../src/seccomp/profile.ts";
import { ARCH, verdict, type Insn } from "../helpers/bpf.ts";

// Independent of ffi/: <asm/errno.h>, <linux/socket.h>, <asm-generic/ioctls.h>, <linux/sched.h>.
const EPERM = "ERRNO(1)";
const ENOSYS = "ERRNO(38)";
const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, VSOCK: 40 } as const;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/** Ioctls that change the terminal beyond the run. */
const TERMINAL_CHANGES = { TIOCSETD: 0x5423, TIOCCONS: 0x541d, TIOCVHANGUP: 0x5437, TIOCSLCKTRMIOS: 0x5457 };
const TCGETS = 0x5401;
const CLONE_NEWUSER = 0x10000000;
const SIGCHLD = 17;

/** Hard-coded numbers, checked by hand against asm/unistd_64.h and asm-generic/unistd.h. */
const NUMBERS = {
  x86_64: {
    read: 0,
    write: 1,
    openat: 257,
    mmap: 9,
    futex: 202,
    execve: 59,
    socket: 41,
    socketpair: 53,
    ioctl: 16,
    clone: 56,
    unshare: 272,
    clone3: 435,
    io_uring_setup: 425,
    setns: 308,
    mount: 165,
    keyctl: 250,
    bpf: 321,
    shmget: 29,
    ptrace: 101,
    connect: 42,
  },
  aarch64: {
    read: 63,
    write: 64,
    openat: 56,
    mmap: 222,
    futex: 98,
    execve: 221,
    socket: 198,
    socketpair: 199,
    ioctl: 29,
    clone: 220,
    unshare: 97,
    clone3: 435,
    io_uring_setup: 425,
    setns: 268,
    mount: 40,
    keyctl: 219,
    bpf: 280,
    shmget: 194,
    ptrace: 117,
    connect: 203,
  },
} as const;

const NATIVE: Record<KernelArch, number> = { x86_64: ARCH.X86_64, aarch64: ARCH.AARCH64 };
const FOREIGN: Record<KernelArch, number[]> = {
  x86_64: [ARCH.I386, ARCH.AARCH64, ARCH.ARM],
  aarch64: [ARCH.ARM, ARCH.X86_64, ARCH.I386],
};

const ALL_OPTIONS: ProfileOptions[] = (["x86_64", "aarch64"] as const).flatMap((arch) =>
  (["none", "tcp", "all"] as const).flatMap((network) =>
    (["landlock", "bwrap"] as const).map((mode) => ({ arch, network, mode })),
  ),
);
const label = (o: ProfileOptions) => `${o.arch} net=${o.network} mode=${o.mode}`;

function programFor(options: ProfileOptions): Insn[] {
  return assembleSeccompProgram(seccompSpecFor(options));
}

describe.each(ALL_OPTIONS.map((o) => [label(o), o] as const))("profile %s", (_name, options) => {
  const program = programFor(options);
  const n = NUMBERS[options.arch];
  const call = (nr: number, args: (number | bigint)[] = []) =>
    verdict(program, { arch: NATIVE[options.arch], nr, args });
  const netOff = options.network !== "all";

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
    for (const nr of [n.read, n.write, n.openat, n.mmap, n.futex, n.execve, n.ptrace, n.connect])
      expect(call(nr, [0, 0, 0])).toBe("ALLOW");
  });

  test(
    `socket() and socketpair(): AF_UNIX allowed, other families ` +
      `${options.network === "all" ? "allowed" : "EPERM"}${options.network === "tcp" ? " but TCP streams" : ""}`,
    () => {
      for (const nr of [n.socket, n.socketpair]) {
        expect(call(nr, [AF.UNIX, 1, 0])).toBe("ALLOW");
        // High 32 bits of an int argument are ignored by the kernel, so by the filter too.
        expect(call(nr, [0xdeadbeef00000000n | BigInt(AF.UNIX), 1, 0])).toBe("ALLOW");
        for (const family of [AF.NETLINK, AF.PACKET, AF.VSOCK, 0, 255]) {
          expect(call(nr, [family, 1, 0])).toBe(netOff ? EPERM : "ALLOW");
          expect(call(nr, [0x100000000n | BigInt(family), 1, 0])).toBe(netOff ? EPERM : "ALLOW");
        }
      }
      for (const family of [AF.INET, AF.INET6]) {
        const tcpOk = options.network === "none" ? EPERM : "ALLOW";
        expect(call(n.socketpair, [family, 1, 0])).toBe(netOff ? EPERM : "ALLOW");
        expect(call(n.socket, [family, 1, 0])).toBe(tcpOk); // SOCK_STREAM, default protocol
        expect(call(n.socket, [family, 1 | 0x80000 | 0x800, 6])).toBe(tcpOk); // SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_TCP
        const otherOk = options.network === "all" ? "ALLOW" : EPERM;
        expect(call(n.socket, [family, 2, 0])).toBe(otherOk); // UDP
        expect(call(n.socket, [family, 3, 255])).toBe(otherOk); // raw
        expect(call(n.socket, [family, 1, 262])).toBe(otherOk); // MPTCP
      }
    },
  );

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

  test("ioctls that change the terminal beyond the run get EPERM, on the low 32 bits of the command", () => {
    for (const cmd of Object.values(TERMINAL_CHANGES)) {
      expect(call(n.ioctl, [0, cmd, 0])).toBe(EPERM);
      expect(call(n.ioctl, [1, 0xffffffff00000000n | BigInt(cmd), 0])).toBe(EPERM);
      expect(call(n.ioctl, [2, 0x100000000n | BigInt(cmd), 0])).toBe(EPERM);
    }
    // Reading them back, the window size and the settings stay allowed.
    for (const cmd of [0x5424, 0x5413, 0x5414, 0x5456, 0x5402]) expect(call(n.ioctl, [0, cmd, 0])).toBe("ALLOW");
  });

  test("key calls are refused independently of the table", () => {
    for (const nr of [n.setns, n.mount, n.keyctl, n.bpf]) expect(call(nr, [0, 0])).toBe(EPERM);
    expect(call(n.shmget, [0, 4096, 0])).toBe(options.mode === "landlock" ? EPERM : "ALLOW");
  });

  test("every entry of SECCOMP_PROFILE is compiled as the table says", () => {
    const numbers = SYSCALLS[options.arch];
    // The table's meaning, evaluated directly: entries in order, the first whose
    // tests all hold decides; "allow" ends the checks; nothing matching allows.
    const low = (value: number) => value >>> 0;
    const holds = (t: ArgTest, args: number[]) => {
      const v = low(args[t.arg] ?? 0);
      switch (t.op) {
        case "eq":
          return v === low(t.value);
        case "ne":
          return v !== low(t.value);
        case "hasAnyBit":
          return (v & t.mask) !== 0;
        case "maskedNe":
          return (v & t.mask) !== low(t.value);
      }
    };
    const tableVerdict = (name: SyscallName, args: number[]) => {
      for (const entry of SECCOMP_PROFILE) {
        if (!profileApplies(entry, options) || !entry.syscalls.includes(name)) continue;
        if ((entry.when ?? []).every((t) => holds(t, args)))
          return entry.errno === "allow" ? "ALLOW" : entry.errno === "EPERM" ? EPERM : ENOSYS;
      }
      return "ALLOW";
    };
    const satisfy = (t: ArgTest) =>
      t.op === "eq" ? t.value : t.op === "ne" ? t.value + 1 : t.op === "hasAnyBit" ? t.mask : (t.value + 1) & t.mask;
    const violate = (t: ArgTest) =>
      t.op === "eq" ? t.value + 1 : t.op === "ne" ? t.value : t.op === "hasAnyBit" ? 0 : t.value;
    let checked = 0;
    for (const entry of SECCOMP_PROFILE) {
      for (const name of entry.syscalls) {
        const nr = numbers[name];
        if (nr === ABSENT) continue;
        const vectors: number[][] = [[0, 0, 0, 0, 0, 0]];
        const matching = [0, 0, 0, 0, 0, 0];
        for (const t of entry.when ?? []) matching[t.arg] = satisfy(t);
        vectors.push(matching);
        for (const t of entry.when ?? []) {
          const broken = [...matching];
          broken[t.arg] = violate(t);
          vectors.push(broken);
        }
        for (const args of vectors) {
          expect(`${name} ${args.join(",")}: ${call(nr, args)}`).toBe(
            `${name} ${args.join(",")}: ${tableVerdict(name, args)}`,
          );
          checked++;
        }
        // The entry itself decides its matching vector when it applies and nothing earlier caught it.
        if (profileApplies(entry, options)) expect(tableVerdict(name, matching)).not.toBe(undefined);
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  test("syscalls outside the table are allowed", () => {
    const inTable = new Set<SyscallName>(
      SECCOMP_PROFILE.filter((e) => profileApplies(e, options)).flatMap((e) => e.syscalls),
    );
    for (const name of SYSCALL_NAMES) {
      if (!inTable.has(name) && SYSCALLS[options.arch][name] !== ABSENT)
        expect(`${name}: ${call(SYSCALLS[options.arch][name], [2, 0x5412, 0])}`).toBe(`${name}: ALLOW`);
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
        if (name in SYSCALLS[arch])
          expect(`${arch} ${name}=${SYSCALLS[arch][name as SyscallName]}`).toBe(`${arch} ${name}=${nr}`);
      }
    }
  });

  test("no two names share a number on one architecture", () => {
    for (const arch of ["x86_64", "aarch64"] as const) {
      const numbers = Object.values(SYSCALLS[arch]).filter((nr) => nr !== ABSENT);
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });
});
