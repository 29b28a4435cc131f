// Inherited descriptors: whatever the caller leaves open reaches cordon, and
// a descriptor is a capability no path rule checks. cordon must not let the
// command use any of them: an appending file outside the write roots, an
// O_PATH descriptor of the host's "/" (openat() relative to it), and a
// connected host UDP socket (network with the network off).
import { afterAll, describe, expect } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import {
  AttackTools,
  attackTest,
  attempt,
  ERRNO,
  gccMissing,
  hostDir,
  python,
  python3Missing,
  removeDir,
  sandboxArgs,
} from "../helpers/attacks.ts";
import { CORDON } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

/**
 * Opens the three descriptors, places them at 3, 4 and 5, runs the command
 * with them inherited, then sends a sentinel datagram itself and prints every
 * datagram the host's receiving socket got: "RECEIVED <json list>".
 */
const LAUNCHER = `
import json, os, socket, subprocess, sys
append_path = sys.argv[1]
command = sys.argv[2:]
# Hold 3-5 while the real descriptors are made, so none of them lands there.
placeholders = [os.open("/dev/null", os.O_RDONLY) for _ in range(3)]
receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
receiver.bind(("127.0.0.1", 0))
sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sender.connect(receiver.getsockname())
opened = [os.open(append_path, os.O_WRONLY | os.O_APPEND), os.open("/", os.O_PATH | os.O_DIRECTORY), sender.fileno()]
assert min(opened) > 5 and sorted(placeholders) == [3, 4, 5], (opened, placeholders)
for target, fd in zip((3, 4, 5), opened):
    os.dup2(fd, target)  # inheritable, as a careless caller would leave it
done = subprocess.run(command, pass_fds=(3, 4, 5), capture_output=True, timeout=60)
sys.stdout.write(done.stdout.decode(errors="replace"))
sys.stderr.write(done.stderr.decode(errors="replace"))
sender.send(b"sentinel")
receiver.setblocking(False)
got = []
while True:
    try:
        got.append(receiver.recv(100).decode(errors="replace"))
    except BlockingIOError:
        break
print("RECEIVED " + json.dumps(got))
`;

interface Outcome {
  stdout: string;
  datagrams: string[];
  appended: string;
  created: boolean;
}

function launch(command: (relativeTarget: string) => string[]): Outcome & { result: ReturnType<typeof python> } {
  const dir = hostDir("cordon-fds-");
  try {
    const appendPath = join(dir, "log.txt");
    writeFileSync(appendPath, "host log\n");
    const target = join(dir, "created-through-fd4");
    const result = python(LAUNCHER, [appendPath, ...command(relative("/", target))]);
    const line = /^RECEIVED (.*)$/m.exec(result.stdout)?.[1];
    if (line === undefined) throw new Error(`launcher failed: ${result.stdout}${result.stderr}`);
    return {
      result,
      stdout: result.stdout,
      datagrams: JSON.parse(line) as string[],
      appended: readFileSync(appendPath, "latin1"),
      created: existsSync(target),
    };
  } finally {
    removeDir(dir);
  }
}

for (const mode of MODES) {
  // Landlock-only mode as root must accept the metadata degradation by name.
  const extra = mode === "landlock" ? ["--allow-degraded", "metadata"] : [];
  describe(`${mode} mode: inherited descriptors`, () => {
    attackTest(
      "an appending file, host / (O_PATH) and a host UDP socket passed as fds 3-5 are unusable",
      [gccMissing, python3Missing],
      () => {
        const plain = launch((rel) => [trySyscall, "inherited-fds", rel]);
        expect(plain.appended).toBe("host log\npwned-through-fd3\n");
        expect(plain.created).toBe(true);
        expect(plain.datagrams).toEqual(["pwned-through-fd5", "sentinel"]);

        const boxed = launch((rel) => [CORDON, ...sandboxArgs(mode, [trySyscall, "inherited-fds", rel], { extra })]);
        const result = { stdout: boxed.stdout, stderr: boxed.result.stderr, exitCode: boxed.result.exitCode };
        // Closed before the command's exec: EBADF on every use.
        for (const label of ["fd3-getfd", "fd3-append", "fd4-getfd", "fd4-openat-create", "fd5-getfd", "fd5-send"]) {
          expect({ label, ...attempt(result, label) }).toEqual({ label, ok: false, errno: ERRNO.EBADF });
        }
        expect(boxed.appended).toBe("host log\n");
        expect(boxed.created).toBe(false);
        expect(boxed.datagrams).toEqual(["sentinel"]);
      },
    );

    attackTest("no descriptor above 2 is open when the command starts", [python3Missing], () => {
      // /proc/self/fd of the command itself, minus the one listing it.
      const list = "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))";
      const boxed = launch(() => [CORDON, ...sandboxArgs(mode, ["python3", "-c", list], { extra })]);
      const fds = JSON.parse(/^\[.*\]$/m.exec(boxed.stdout)?.[0] ?? "null") as number[] | null;
      expect(fds).not.toBeNull();
      // 0-2, plus the directory descriptor listdir itself holds open.
      expect(fds!.filter((fd) => fd > 2).length).toBeLessThanOrEqual(1);
    });
  });
}
