// Second adversarial review of issue 14's host sockets (stage 2 covers each
// host socket file by its canonical path). Each test shows the attack working
// without cordon, then asserts what cordon should do; a hole still open runs
// as a holeTest (test.failing) naming it.
//
// Every fixture lives on a tmpfs in a mount namespace of the test's own (also
// /tmp and /run, when a test needs them): the sockets are listed in
// /proc/net/unix for every cordon on this machine, but their files exist only
// in here, so other runs skip them (their lstat fails) instead of tripping over them.
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, python3Missing, randomKey, removeDir } from "../helpers/attacks.ts";
import { CORDON, isRoot, missingSystemTool, missingTool } from "../helpers/cordon.ts";
import { expectUnreachable, hex, mountPoint, NETWORKS, PrivateMounts } from "../helpers/private-mounts.ts";

const scratch = hostDir("cordon-rv2-sockets-");
afterAll(() => removeDir(scratch));
// Some fixtures mount a private tmpfs over /tmp, where a clone (and its dist/cordon) may live.
const BOXED_CORDON = join(scratch, "cordon");
copyFileSync(CORDON, BOXED_CORDON);
chmodSync(BOXED_CORDON, 0o755);

const notRoot = isRoot ? undefined : "needs root (mount namespaces, setpriv)";
const toolsMissing = missingTool("nsenter") ?? missingTool("unshare") ?? python3Missing;
const systemPython = "/usr/bin/python3";
const systemPythonMissing = missingSystemTool("python3");
const REASONS = [notRoot, toolsMissing, systemPythonMissing];

// Binds a listening socket (open to everyone) at argv[1]; argv[2], when given, is a JSON
// POSIX ACL entry list [[tag, perm, id]] set on it after chmod 0700.
const BIND = `
import json, os, socket, struct, sys, time
path = sys.argv[1]
os.makedirs(os.path.dirname(path), 0o755, exist_ok=True)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
os.chmod(path, 0o777)
if len(sys.argv) > 2:
    os.chmod(path, 0o700)
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in json.loads(sys.argv[2]))
    os.setxattr(path, "system.posix_acl_access", acl)
print("ready", flush=True)
time.sleep(300)
`;

// Another local user's socket whose canonical path is longer than PATH_MAX: a directory chain
// of about 4070 bytes below argv[1], a symlink argv[2] to it, and a socket bound through the
// symlink (its listed path is short, 107 bytes); prints the socket's path through the symlink.
const DEEP_BIND = `
import os, socket, sys, time
base, link = sys.argv[1].encode(), sys.argv[2].encode()
os.makedirs(base, 0o755, exist_ok=True)
os.chdir(base)
real = base
while len(real) < 4070:
    name = b"d" * min(200, 4070 - len(real) - 1)
    os.mkdir(name, 0o755)
    os.chdir(name)
    real += b"/" + name
os.symlink(real, link)
path = link + b"/" + b"s" * (107 - len(link) - 1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
os.chmod(path, 0o777)
print(path.decode(), flush=True)
print("ready", flush=True)
time.sleep(300)
`;

// Keeps a socket bound at argv[1] (so it is listed) and replaces its file again and again:
// bind a fresh one at argv[1].tmp, rename it over argv[1]. The file is always a socket.
const CHURN = `
import os, socket, sys, time
os.umask(0)
path = sys.argv[1]
keep = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
keep.bind(path)
keep.listen(16)
print("ready", flush=True)
end = time.time() + 120
while time.time() < end:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path + ".tmp")
    s.close()
    os.rename(path + ".tmp", path)
`;

/** Opens the namespace; every fixture runs the system's python there (nobody cannot read a venv's). */
const openMounts = (dirs: string[], mode?: string) =>
  PrivateMounts.open(dirs, { mode, cwd: scratch, cordon: BOXED_CORDON, python: systemPython });

/** Starts a python fixture in `ns` that prints "ready"; returns what it printed before. */
const start = (ns: PrivateMounts, script: string, args: string[], options: { asNobody?: boolean } = {}) =>
  ns.start([systemPython, "-c", script, ...args], options);

describe("sockets the cover misses: reachable from the sandbox", () => {
  attackTest(
    "a working directory under /tmp is bound back with every socket below it (tmux, X11, ssh-agent)",
    REASONS,
    async () => {
      const ns = await openMounts(["/tmp"]);
      try {
        const dir = `/tmp/tmux-${randomKey()}`;
        const socket = `${dir}/default`;
        await start(ns, BIND, [socket]);
        for (const cwd of [dir, "/tmp"]) {
          expect(ns.connect(socket, { cwd })).toBe("connected");
          for (const [, extra] of NETWORKS) expectUnreachable(ns.connectBoxed(socket, extra, { cwd }));
        }
      } finally {
        ns.close();
      }
    },
  );

  attackTest(
    "a socket another user lets this user write through a POSIX ACL (setfacl -m u:me:rw app.sock)",
    REASONS,
    async () => {
      const shared = mountPoint(scratch, "acl");
      const ns = await openMounts([shared], "0755");
      try {
        const socket = join(shared, "srv", "app.sock");
        const none = 0xffffffff;
        // ACL_USER_OBJ rwx, ACL_USER nobody rw-, ACL_GROUP_OBJ ---, ACL_MASK rw-, ACL_OTHER ---
        const acl = [
          [0x01, 7, none],
          [0x02, 6, 65534],
          [0x04, 0, none],
          [0x10, 6, none],
          [0x20, 0, none],
        ];
        await start(ns, BIND, [socket, JSON.stringify(acl)]);
        expect(ns.connect(socket, { asNobody: true })).toBe("connected");
        for (const [, extra] of NETWORKS) expectUnreachable(ns.connectBoxed(socket, extra, { asNobody: true }));
      } finally {
        ns.close();
      }
    },
  );
});

describe("another local user cannot refuse everyone's runs", () => {
  attackTest(
    "a socket whose canonical path is longer than PATH_MAX (bound by nobody through a symlink to a deep dir)",
    REASONS,
    async () => {
      const shared = mountPoint(scratch, "deep");
      const ns = await openMounts([shared]);
      try {
        const socket = (await start(ns, DEEP_BIND, [join(shared, "a"), join(shared, "l")], { asNobody: true })).trim();
        expect(ns.connect(socket)).toBe("connected");
        for (const asNobody of [false, true]) {
          const result = ns.run([BOXED_CORDON, "--mode", "bwrap", "-q", "--", "true"], { asNobody, cwd: "/" });
          expect(result.stderr).toBe("");
          expect(result.exitCode).toBe(0);
        }
      } finally {
        ns.close();
      }
    },
  );

  attackTest(
    "a socket file replaced again and again by rename(2) (bound by nobody in a shared sticky directory)",
    REASONS,
    async () => {
      const shared = mountPoint(scratch, "churn");
      const ns = await openMounts([shared]);
      try {
        const socket = join(shared, "daemon.sock");
        await start(ns, CHURN, [socket], { asNobody: true });
        expect(ns.connect(socket)).toMatch(/^(connected|ECONNREFUSED|ENOENT)$/);
        const failures: string[] = [];
        for (let i = 0; i < 40 && failures.length === 0; i++) {
          const result = ns.run([BOXED_CORDON, "--mode", "bwrap", "-q", "--", "true"], { cwd: "/" });
          if (result.exitCode !== 0) failures.push(result.stderr);
        }
        expect(failures).toEqual([]);
      } finally {
        ns.close();
      }
    },
  );
});

describe("/run is always a tmpfs", () => {
  attackTest(
    "a working directory under /run (a USB disk at /run/media/USER/DISK) still works",
    [notRoot, toolsMissing],
    async () => {
      const ns = await openMounts(["/run"], "0755");
      try {
        const project = `/run/media/user-${randomKey()}/disk/project`;
        ns.run(["mkdir", "-p", project]);
        expect(ns.run(["pwd"], { cwd: project }).stdout.trim()).toBe(project);
        for (const [, extra] of NETWORKS) {
          const result = ns.run([BOXED_CORDON, "--mode", "bwrap", "-q", ...extra, "--", "pwd"], { cwd: project });
          expect(result.stderr).toBe("");
          expect(result.stdout.trim()).toBe(project);
        }
      } finally {
        ns.close();
      }
    },
  );
});
