// Kernel interfaces the seccomp profile closes in every mode: perf, userfaultfd,
// bpf, new user namespaces (unshare, clone, clone3), the mount APIs and setns.
// Each attack first succeeds plainly (the test runs as root on CI; the ones
// that need root say so when skipped), then gets the profile's errno under
// cordon. ENOSYS for clone3 is deliberate: libc must fall back to clone.
import { afterAll, describe, expect } from "bun:test";
import { readFileSync } from "node:fs";
import {
  AttackTools,
  attackTest,
  attempt,
  ERRNO,
  gccMissing,
  hostDir,
  python3Missing,
  removeDir,
  sandboxed,
} from "../helpers/attacks.ts";
import { isRoot, run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
const scratch = hostDir("cordon-kernel-");
afterAll(() => {
  tools?.cleanup();
  removeDir(scratch);
});

const needsRoot = isRoot ? undefined : "needs root to succeed without cordon";

interface SyscallAttack {
  name: string;
  args: () => string[];
  label: string;
  errno: number;
  skip?: string;
}

const ATTACKS: SyscallAttack[] = [
  { name: "perf_event_open", args: () => ["perf"], label: "perf_event_open", errno: ERRNO.EPERM },
  { name: "userfaultfd", args: () => ["userfaultfd"], label: "userfaultfd", errno: ERRNO.EPERM },
  { name: "bpf(BPF_MAP_CREATE)", args: () => ["bpf"], label: "bpf-map-create", errno: ERRNO.EPERM, skip: needsRoot },
  { name: "unshare(CLONE_NEWUSER)", args: () => ["unshare-user"], label: "unshare-newuser", errno: ERRNO.EPERM },
  { name: "clone(CLONE_NEWUSER)", args: () => ["clone-user"], label: "clone-newuser", errno: ERRNO.EPERM },
  { name: "clone3(CLONE_NEWUSER) gets ENOSYS", args: () => ["clone3-user"], label: "clone3-user", errno: ERRNO.ENOSYS },
  {
    name: "clone3 without flags gets ENOSYS too",
    args: () => ["clone3-plain"],
    label: "clone3-plain",
    errno: ERRNO.ENOSYS,
  },
  {
    name: "mount(2) of a tmpfs on a write root",
    args: () => ["mount-tmpfs", scratch],
    label: "mount",
    errno: ERRNO.EPERM,
    skip: needsRoot,
  },
  { name: "fsopen (new mount API)", args: () => ["fsopen"], label: "fsopen", errno: ERRNO.EPERM, skip: needsRoot },
  {
    name: "setns (into a UTS namespace)",
    args: () => ["setns", "/proc/self/ns/uts"],
    label: "setns",
    errno: ERRNO.EPERM,
    skip: needsRoot,
  },
];

function mountedAt(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "latin1")
    .split("\n")
    .some((line) => line.split(" ")[4] === path);
}

for (const mode of MODES) {
  describe(`${mode} mode: kernel attack surface`, () => {
    for (const attack of ATTACKS) {
      attackTest(attack.name, [gccMissing, attack.skip], () => {
        const plain = run([trySyscall, ...attack.args()]);
        expect(attempt(plain, attack.label).ok).toBe(true);

        const result = sandboxed(mode, [trySyscall, ...attack.args()], { write: [scratch] });
        expect(attempt(result, attack.label)).toEqual({ ok: false, errno: attack.errno });
        expect(result.exitCode).toBe(attack.errno);
        // The only attack with a lasting host effect is the mount.
        expect(mountedAt(scratch)).toBe(false);
      });
    }

    // clone3 -> ENOSYS only works if libc falls back to clone(2): prove that
    // ordinary process and thread creation still work in the sandbox.
    attackTest("a background job still starts (fork/clone fallback)", [], () => {
      const result = sandboxed(mode, ["sh", "-c", "true & wait $!; echo forked"]);
      expect(result).toMatchObject({ exitCode: 0, stdout: "forked\n" });
    });

    attackTest("threads still start (pthread_create falls back from clone3)", [python3Missing], () => {
      const script =
        "import threading; t = threading.Thread(target=lambda: print('thread', flush=True)); t.start(); t.join()";
      const result = sandboxed(mode, ["python3", "-c", script]);
      expect(result).toMatchObject({ exitCode: 0, stdout: "thread\n" });
    });
  });
}
