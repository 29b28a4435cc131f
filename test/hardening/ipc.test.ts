// Host IPC that no file permission guards: abstract unix sockets, System V
// IPC and kernel keyrings; plus unix socket files outside the write roots,
// which landlock-only mode documents as a gap (Landlock cannot refuse
// connect(2) on them before ABI 9).
import { afterAll, describe, expect } from "bun:test";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  attempt,
  ERRNO,
  gccMissing,
  hostDir,
  python3Missing,
  randomKey,
  removeDir,
  sandboxed,
  unixListener,
} from "../helpers/attacks.ts";
import { cordon, run, modeArgs } from "../helpers/cordon.ts";
import { hasGap, MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
const scratch = hostDir("cordon-ipc-");
afterAll(() => {
  tools?.cleanup();
  removeDir(scratch);
});

/** Creates a host System V segment holding `content`; returns its id. */
function hostSegment(key: number, content: string): number {
  const result = run([trySyscall, "shm-create", String(key), content]);
  const id = /^id=(\d+)$/m.exec(result.stdout)?.[1];
  if (id === undefined) throw new Error(`could not create a host segment: ${result.stdout}${result.stderr}`);
  return Number(id);
}

function segmentContent(key: number): string | undefined {
  return /^content=(.*)$/m.exec(run([trySyscall, "shm-read-key", String(key)]).stdout)?.[1];
}

for (const mode of MODES) {
  describe(`${mode} mode: host IPC`, () => {
    attackTest(
      "an abstract unix socket of a host listener refuses the connection",
      [gccMissing, python3Missing],
      async () => {
        const address = `@cordon-test-${process.pid}-${randomKey()}`;
        const listener = await unixListener(address, trySyscall);
        try {
          expect(attempt(run([trySyscall, "unix-connect", address, "plain"]), "unix-connect").ok).toBe(true);
          const result = sandboxed(mode, [trySyscall, "unix-connect", address, "sandboxed"]);
          // EPERM from Landlock's abstract-socket scope (ABI 6); ECONNREFUSED
          // where a network namespace has its own abstract namespace.
          expect(attempt(result, "unix-connect").ok).toBe(false);
          expect<number[]>([ERRNO.EPERM, ERRNO.ECONNREFUSED]).toContain(attempt(result, "unix-connect").errno!);
          expect(await listener.finish()).toEqual(["plain", "sentinel"]);
        } finally {
          listener.kill();
        }
      },
    );

    const gap = hasGap(mode, "host-unix-socket-file");
    const socketName = gap
      ? "KNOWN GAP: a unix socket file outside the write roots (docker.sock, a session " +
        "bus) CAN be connected to, and explain says so"
      : "a unix socket file outside the write roots cannot be connected to";
    attackTest(socketName, [gccMissing, python3Missing], async () => {
      const address = join(scratch, `host-${randomKey()}.sock`);
      const listener = await unixListener(address, trySyscall);
      try {
        expect(attempt(run([trySyscall, "unix-connect", address, "plain"]), "unix-connect").ok).toBe(true);
        const result = sandboxed(mode, [trySyscall, "unix-connect", address, "sandboxed"]);
        if (gap) {
          // The gap is real in this mode, and documented where users look.
          expect(attempt(result, "unix-connect").ok).toBe(true);
          expect(await listener.finish()).toEqual(["plain", "sandboxed", "sentinel"]);
          expect(cordon(["explain", ...modeArgs(mode)]).stdout).toContain("unix socket files");
        } else {
          expect(attempt(result, "unix-connect").ok).toBe(false);
          expect(await listener.finish()).toEqual(["plain", "sentinel"]);
        }
      } finally {
        listener.kill();
      }
    });

    attackTest("a host System V shared memory segment cannot be found, attached or changed", [gccMissing], () => {
      const controlKey = randomKey();
      const key = controlKey + 1;
      const controlId = hostSegment(controlKey, "host-content");
      const id = hostSegment(key, "host-content");
      try {
        // Plainly, the key finds the segment and its id alone is enough to write it.
        expect(attempt(run([trySyscall, "shm-read-key", String(controlKey)]), "shmat").ok).toBe(true);
        expect(attempt(run([trySyscall, "shm-write-id", String(controlId), "pwned"]), "shmat-id").ok).toBe(true);
        expect(segmentContent(controlKey)).toBe("pwned");

        const read = sandboxed(mode, [trySyscall, "shm-read-key", String(key)]);
        expect(attempt(read, "shmget").ok).toBe(false);
        expect(read.stdout).not.toContain("host-content");
        const write = sandboxed(mode, [trySyscall, "shm-write-id", String(id), "pwned"]);
        expect(attempt(write, "shmat-id").ok).toBe(false);
        if (mode === "landlock") {
          // Nothing but the seccomp filter stands in the way here.
          expect(attempt(read, "shmget").errno).toBe(ERRNO.EPERM);
          expect(attempt(write, "shmat-id").errno).toBe(ERRNO.EPERM);
        }
        expect(segmentContent(key)).toBe("host-content");
      } finally {
        run([trySyscall, "shm-remove-id", String(controlId)]);
        run([trySyscall, "shm-remove-id", String(id)]);
      }
    });

    for (const kind of ["msg", "sem"] as const) {
      attackTest(
        `a System V ${kind === "msg" ? "message queue" : "semaphore set"} cannot be created on the host`,
        [gccMissing],
        () => {
          expect(attempt(run([trySyscall, `${kind}-create`]), `${kind}-create`).ok).toBe(true);
          const result = sandboxed(mode, [trySyscall, `${kind}-create`]);
          if (mode === "landlock") expect(attempt(result, `${kind}-create`)).toEqual({ ok: false, errno: ERRNO.EPERM });
          // (In an IPC namespace, creating a private object is harmless.)
        },
      );
    }

    attackTest("the user keyring cannot be read or changed", [gccMissing], () => {
      const description = `cordon-test-${process.pid}-${randomKey()}`;
      const added = run([trySyscall, "key-add", description, "host-secret"]);
      const serial = /^serial=(\d+)$/m.exec(added.stdout)?.[1];
      expect(serial, `add_key failed: ${added.stdout}`).toBeDefined();
      try {
        const plain = run([trySyscall, "key-read", description]);
        expect(attempt(plain, "keyctl-read")).toEqual({ ok: true, detail: "host-secret" });

        // Even knowing the serial (it is no secret: /proc/keys lists them).
        const read = sandboxed(mode, [trySyscall, "key-read", description, serial!]);
        for (const label of ["keyctl-get-session", "keyctl-read-user-keyring", "keyctl-read"]) {
          expect(attempt(read, label)).toEqual({ ok: false, errno: ERRNO.EPERM });
        }
        expect(read.stdout).not.toContain("host-secret");
        const update = sandboxed(mode, [trySyscall, "key-update", serial!, "pwned"]);
        expect(attempt(update, "keyctl-update")).toEqual({ ok: false, errno: ERRNO.EPERM });
        const add = sandboxed(mode, [trySyscall, "key-add", `${description}-new`, "planted"]);
        expect(attempt(add, "add_key")).toEqual({ ok: false, errno: ERRNO.EPERM });

        expect(attempt(run([trySyscall, "key-read", description]), "keyctl-read")).toEqual({
          ok: true,
          detail: "host-secret",
        });
      } finally {
        run([trySyscall, "key-unlink", serial ?? "0"]);
      }
    });
  });
}
