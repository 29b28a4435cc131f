// Network off (the default): every socket family but AF_UNIX is refused, also
// through socketpair, io_uring, the i386 entry point (int 0x80: socket and
// socketcall) and the x32 ABI, and nothing reaches a host listener.
import { afterAll, describe, expect } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import {
  AttackTools,
  attackTest,
  attempt,
  attempts,
  ERRNO,
  gccMissing,
  KILLED_BY_SIGSYS,
  python,
  python3Missing,
  sandboxed,
} from "../helpers/attacks.ts";
import { isRoot, run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

// Compiled when the file loads, not in beforeAll: some skip decisions probe
// the kernel with it while the tests are being defined.
const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16, PACKET: 17, VSOCK: 40, ALG: 38 } as const;
const IPPROTO_MPTCP = 262;

/** family -> succeeded, from a socket-sweep report. */
function sweep(stdout: string, kind: "socket" | "socketpair"): Map<number, { ok: boolean; errno?: number }> {
  const byFamily = new Map<number, { ok: boolean; errno?: number }>();
  for (const [label, found] of attempts(stdout)) {
    const match = new RegExp(`^${kind}-family-(\\d+)$`).exec(label);
    if (match) byFamily.set(Number(match[1]), found);
  }
  return byFamily;
}

/** Is this (int 0x80 / x32) entry point usable on this kernel at all? */
function entryPointReason(args: string[], label: string, what: string): string | undefined {
  if (gccMissing) return gccMissing;
  const found = attempts(run([trySyscall, ...args]).stdout).get(label);
  if (found?.ok) return undefined;
  return `${what} is unavailable in this kernel (errno ${found?.errno}), so the attack cannot be shown to work`;
}

for (const mode of MODES) {
  describe(`${mode} mode: sockets with the network off`, () => {
    attackTest("every socket family but AF_UNIX is refused with EPERM", [gccMissing], () => {
      const plain = sweep(run([trySyscall, "socket-sweep"]).stdout, "socket");
      // The attack is real: these families open without cordon.
      for (const family of [AF.INET, AF.INET6, AF.NETLINK, ...(isRoot ? [AF.PACKET] : [])]) {
        expect(plain.get(family)?.ok, `family ${family} without cordon`).toBe(true);
      }

      const result = sandboxed(mode, [trySyscall, "socket-sweep"]);
      const boxed = sweep(result.stdout, "socket");
      expect(boxed.size).toBe(46);
      for (const [family, found] of boxed) {
        if (family === AF.UNIX) expect(found.ok).toBe(true);
        else expect({ family, ...found }).toEqual({ family, ok: false, errno: ERRNO.EPERM });
      }
    });

    attackTest("socketpair with any family but AF_UNIX is refused with EPERM", [gccMissing], () => {
      const result = sandboxed(mode, [trySyscall, "socketpair-sweep"]);
      const boxed = sweep(result.stdout, "socketpair");
      expect(boxed.size).toBe(46);
      for (const [family, found] of boxed) {
        if (family === AF.UNIX) expect(found.ok).toBe(true);
        else expect({ family, ...found }).toEqual({ family, ok: false, errno: ERRNO.EPERM });
      }
    });

    for (const [name, args] of [
      ["UDP", [String(AF.INET), "2", "0"]],
      ["MPTCP", [String(AF.INET), "1", String(IPPROTO_MPTCP)]],
      ["AF_VSOCK (the hypervisor's channel)", [String(AF.VSOCK), "1", "0"]],
    ] as const) {
      const plain = gccMissing ? undefined : attempts(run([trySyscall, "socket", ...args]).stdout).get("socket");
      const reason =
        plain && !plain.ok ? `${name} sockets do not open here without cordon (errno ${plain.errno})` : undefined;
      attackTest(`a ${name} socket is refused with EPERM`, [gccMissing, reason], () => {
        expect(plain?.ok).toBe(true);
        const result = sandboxed(mode, [trySyscall, "socket", ...args]);
        expect(attempt(result, "socket")).toEqual({ ok: false, errno: ERRNO.EPERM });
      });
    }

    attackTest("io_uring_setup is refused with EPERM", [gccMissing], () => {
      expect(attempt(run([trySyscall, "io-uring"]), "io_uring_setup").ok).toBe(true);
      const result = sandboxed(mode, [trySyscall, "io-uring"]);
      expect(attempt(result, "io_uring_setup")).toEqual({ ok: false, errno: ERRNO.EPERM });
    });

    // The i386 table has other numbers (socket 359, socketcall 102): a filter
    // keyed on x86_64 numbers alone would let these through. A foreign
    // architecture is the one case where cordon kills instead of failing a call.
    for (const [name, attack] of [
      ["socket (i386 nr 359)", "int80-socket"],
      ["socketcall (i386 nr 102)", "int80-socketcall"],
    ] as const) {
      const reason = entryPointReason([attack], attack, "the i386 entry point (int 0x80)");
      attackTest(`int 0x80 ${name} from a 64-bit process is killed with SIGSYS`, [reason], () => {
        const result = sandboxed(mode, [trySyscall, attack]);
        expect(result.exitCode).toBe(KILLED_BY_SIGSYS);
        // Killed inside the call: it never got to report a socket.
        expect(attempts(result.stdout).has(attack)).toBe(false);
      });
    }

    const x32Reason = entryPointReason(["x32-socket"], "x32-socket", "the x32 ABI");
    attackTest("x32 socket() from a 64-bit process fails", [x32Reason], () => {
      const result = sandboxed(mode, [trySyscall, "x32-socket"]);
      expect(attempt(result, "x32-socket")).toEqual({ ok: false, errno: ERRNO.ENOSYS });
    });

    // Runs even where the kernel has x32 disabled (then both answers are
    // ENOSYS, and this only shows the sandbox does not crash the command).
    attackTest("x32 system calls get ENOSYS, not a kill", [gccMissing], () => {
      const result = sandboxed(mode, [trySyscall, "x32-getpid"]);
      expect(attempt(result, "x32-getpid")).toEqual({ ok: false, errno: ERRNO.ENOSYS });
      expect(result.exitCode).toBe(ERRNO.ENOSYS);
    });

    attackTest("no TCP connection or UDP datagram reaches a host listener", [python3Missing], async () => {
      const received: string[] = [];
      const tcp: TCPSocketListener = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: { data: (_socket: Socket, data: Buffer) => void received.push(`tcp:${data.toString()}`) },
      });
      const udp = await Bun.udpSocket({
        hostname: "127.0.0.1",
        socket: { data: (_socket, data) => void received.push(`udp:${data.toString()}`) },
      });
      const client = [
        "import socket, sys",
        "for kind, port in (('tcp', int(sys.argv[1])), ('udp', int(sys.argv[2]))):",
        "    try:",
        "        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == 'tcp' else socket.SOCK_DGRAM)",
        "        s.connect(('127.0.0.1', port)); s.sendall(sys.argv[3].encode()); s.close(); print(kind, 'sent')",
        "    except OSError as e:",
        "        print(kind, 'errno', e.errno)",
      ].join("\n");
      const ports = [String(tcp.port), String(udp.port)];
      try {
        const plain = python(client, [...ports, "plain"]);
        expect(plain.stdout).toBe("tcp sent\nudp sent\n");
        const boxed = sandboxed(mode, ["python3", "-c", client, ...ports, "sandboxed"]);
        expect(boxed.stdout).toBe(`tcp errno ${ERRNO.EPERM}\nudp errno ${ERRNO.EPERM}\n`);
        // Loopback delivers in order: once the host's own sentinels arrive,
        // anything the sandbox had sent would be there already.
        const sentinel = python(client, [...ports, "sentinel"]);
        expect(sentinel.stdout).toBe("tcp sent\nudp sent\n");
        while (received.filter((item) => item.endsWith("sentinel")).length < 2) await Bun.sleep(10);
        expect(received.sort()).toEqual(["tcp:plain", "tcp:sentinel", "udp:plain", "udp:sentinel"]);
      } finally {
        tcp.stop(true);
        udp.close();
      }
    });
  });
}
