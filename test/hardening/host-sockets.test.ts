// Host unix sockets (issue 14): no socket file of a host daemon outside the
// write roots is reachable in bwrap mode, whatever the network setting: with
// --net or a port rule too, with spaces or newlines in its path, bound in
// another network namespace, or at a path that is not UTF-8. A socket the
// user cannot reach never breaks a run. `--allow-socket` lets one through.
// Abstract names under a shared network namespace stay open, as documented.
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { attackTest, hostDir, python3Missing, randomKey, removeDir, sandboxed } from "../helpers/attacks.ts";
import { cordon, CORDON, isRoot, modeArgs, run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-host-sockets-");
afterAll(() => removeDir(scratch));
const notRoot = isRoot ? undefined : "needs root to set up another user's files and run as nobody";
const unshareMissing = run(["unshare", "-n", "true"]).exitCode === 0 ? undefined : "unshare -n does not work here";

// Listens on a path given in hex (any bytes) or "@name", open to every user,
// and prints each message a client sends. Optionally in its own network namespace.
const LISTENER = `
import os, socket, sys
raw = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(b"\\0" + raw[1:] if raw.startswith(b"@") else raw)
if not raw.startswith(b"@"): os.chmod(raw, 0o777)
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    m = c.recv(100).decode(errors="replace")
    c.close()
    print(m, flush=True)
`;

// Connects to the path (hex) and sends a message; prints "connected" or the errno name.
const CLIENT = `
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
raw = bytes.fromhex(sys.argv[1])
try:
    s.connect(b"\\0" + raw[1:] if raw.startswith(b"@") else raw)
    s.send(sys.argv[2].encode())
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
`;

const hex = (path: string | Buffer) => (typeof path === "string" ? Buffer.from(path) : path).toString("hex");

interface Listener {
  messages(): Promise<string[]>;
  stop(): void;
}

async function listen(path: string | Buffer, options: { ownNetns?: boolean } = {}): Promise<Listener> {
  const argv = ["python3", "-c", LISTENER, hex(path)];
  const child = Bun.spawn(options.ownNetns ? ["unshare", "-n", ...argv] : argv, { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the listener did not start");
    text += new TextDecoder().decode(value);
  }
  return {
    async messages() {
      child.kill();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      return text.split("\n").filter((line) => line !== "" && line !== "ready");
    },
    stop: () => child.kill("SIGKILL"),
  };
}

const connectPlainly = (path: string | Buffer, message: string) =>
  run(["python3", "-c", CLIENT, hex(path), message]).stdout.trim();

const NETWORKS: [string, string[]][] = [
  ["the network off", []],
  ["--net", ["--net"]],
  ["--allow-connect 443", ["--allow-connect", "443"]],
];

describe("bwrap mode: host socket files stay out of reach, whatever the network", () => {
  for (const asNobody of [false, true]) {
    const who = asNobody ? "as nobody" : "as the caller";
    for (const [network, extra] of NETWORKS) {
      attackTest(`${who}, with ${network}`, [python3Missing, asNobody ? notRoot : undefined], async () => {
        const path = join(scratch, `daemon-${randomKey()}.sock`);
        const listener = await listen(path);
        try {
          expect(connectPlainly(path, "plain")).toBe("connected");
          const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"], { extra, asNobody });
          expect(result.exitCode).toBe(0);
          expect(["ECONNREFUSED", "EACCES"]).toContain(result.stdout.trim());
          expect(await listener.messages()).toEqual(["plain"]);
        } finally {
          listener.stop();
        }
      });
    }
  }

  attackTest("with --net, /run is the sandbox's own (empty) tmpfs", [notRoot, python3Missing], async () => {
    const path = `/run/cordon-test-${randomKey()}.sock`;
    const listener = await listen(path);
    try {
      expect(connectPlainly(path, "plain")).toBe("connected");
      const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"], { extra: ["--net"] });
      expect(result.stdout.trim()).toBe("ENOENT");
      expect(await listener.messages()).toEqual(["plain"]);
    } finally {
      listener.stop();
      run(["rm", "-f", path]);
    }
  });

  attackTest("with --net, a resolv.conf under /run is still there (name resolution works)", [notRoot], () => {
    // /etc/resolv.conf -> /run/..., as systemd-resolved sets it up, in a mount namespace of the test's own.
    const dir = `/run/cordon-resolve-${randomKey()}`;
    const script =
      `mount --make-rprivate / && mkdir -p ${dir} && echo 'nameserver 192.0.2.53' > ${dir}/resolv.conf && ` +
      `mount -t tmpfs none /mnt && cp -a /etc /mnt/etc && ln -sf ${dir}/resolv.conf /mnt/etc/resolv.conf && ` +
      `mount --bind /mnt/etc /etc && "$0" -q --mode bwrap --net -- cat /etc/resolv.conf; ` +
      `echo "without network: $("$0" -q --mode bwrap -- cat /etc/resolv.conf 2>&1)"; rm -rf ${dir}`;
    const result = run(["unshare", "-m", "sh", "-c", script, CORDON]);
    expect(result.stdout).toContain("nameserver 192.0.2.53\nwithout network: cat: /etc/resolv.conf: No such file");
  });

  const oddNames: [string, string][] = [
    ["spaces", "my daemon  ctl.sock"],
    ["a newline", "daemon\nctl.sock"],
    ["a forged /proc/net/unix record after a newline", "a\n0: 00000002 00000000 00010000 0001 01 1 /x"],
  ];
  for (const [what, name] of oddNames) {
    attackTest(`a socket whose path holds ${what} is covered`, [python3Missing], async () => {
      const dir = join(scratch, `o${randomKey() % 1000}`);
      mkdirSync(dir, { mode: 0o755 });
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      const listener = await listen(path);
      try {
        expect(connectPlainly(path, "plain")).toBe("connected");
        const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"]);
        expect(["ECONNREFUSED", "EACCES"]).toContain(result.stdout.trim());
        expect(await listener.messages()).toEqual(["plain"]);
      } finally {
        listener.stop();
      }
    });
  }

  attackTest(
    "a socket in a working directory under /tmp, which bwrap binds back, is covered",
    [python3Missing],
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "cordon-cwd-socket-"));
      chmodSync(dir, 0o755);
      const path = join(dir, "dev-server.sock");
      const listener = await listen(path);
      try {
        expect(connectPlainly(path, "plain")).toBe("connected");
        const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"], { cwd: dir });
        expect(["ECONNREFUSED", "EACCES"]).toContain(result.stdout.trim());
        expect(await listener.messages()).toEqual(["plain"]);
      } finally {
        listener.stop();
        removeDir(dir);
      }
    },
  );

  attackTest("a socket bound in another network namespace is covered", [python3Missing, unshareMissing], async () => {
    const path = join(scratch, `other-netns-${randomKey()}.sock`);
    const listener = await listen(path, { ownNetns: true });
    try {
      // This namespace's /proc/net/unix does not list it, yet its file is connectable from here.
      expect(readFileSync("/proc/self/net/unix", "latin1")).not.toContain(path);
      expect(connectPlainly(path, "plain")).toBe("connected");
      for (const extra of [[], ["--net"]]) {
        const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"], { extra });
        expect(["ECONNREFUSED", "EACCES"]).toContain(result.stdout.trim());
      }
      expect(await listener.messages()).toEqual(["plain"]);
    } finally {
      listener.stop();
    }
  });

  attackTest(
    "a socket whose path is not UTF-8 is covered by its bytes; its directory stays usable",
    [python3Missing],
    async () => {
      const parent = join(scratch, `foreign-${randomKey()}`);
      mkdirSync(parent, { mode: 0o755 });
      const dir = Buffer.concat([Buffer.from(`${parent}/d`), Buffer.from([0xff])]);
      run(["python3", "-c", `import os,sys; os.mkdir(bytes.fromhex(sys.argv[1]), 0o755)`, hex(dir)]);
      const path = Buffer.concat([dir, Buffer.from("/s.sock")]);
      const listener = await listen(path);
      try {
        expect(connectPlainly(path, "plain")).toBe("connected");
        // From a working directory right next to it, too: nothing is hidden but the socket.
        const result = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(path), "sandboxed"], { cwd: parent });
        expect(result.exitCode).toBe(0);
        expect(["ECONNREFUSED", "EACCES"]).toContain(result.stdout.trim());
        expect(cordon(["explain", "--mode", "bwrap", "--", "true"]).stdout).toContain(
          `covered ${parent}/d\\xff/s.sock`,
        );
        expect(await listener.messages()).toEqual(["plain"]);
      } finally {
        listener.stop();
      }
    },
  );

  attackTest("--allow-socket lets exactly that socket through, with and without --net", [python3Missing], async () => {
    const allowed = join(scratch, `allowed-${randomKey()}.sock`);
    const other = join(scratch, `other-${randomKey()}.sock`);
    const [first, second] = [await listen(allowed), await listen(other)];
    try {
      for (const extra of [[], ["--net"]]) {
        const a = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(allowed), "allowed"], {
          extra: [...extra, "--allow-socket", allowed],
        });
        expect(a.stdout.trim()).toBe("connected");
        const b = sandboxed("bwrap", ["python3", "-c", CLIENT, hex(other), "other"], {
          extra: [...extra, "--allow-socket", allowed],
        });
        expect(["ECONNREFUSED", "EACCES"]).toContain(b.stdout.trim());
      }
      expect(await first.messages()).toEqual(["allowed", "allowed"]);
      expect(await second.messages()).toEqual([]);
    } finally {
      first.stop();
      second.stop();
    }
  });
});

describe("--allow-socket: bad input is a clear error that touches nothing", () => {
  for (const [value, message] of [
    ["/etc/passwd", "not a unix socket"],
    [join(scratch, "missing.sock"), "no such socket"],
  ] as const) {
    attackTest(`--allow-socket ${value}`, [], () => {
      const result = cordon(["--allow-socket", value, "--", "true"]);
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain("internal error");
    });
  }
});

for (const mode of MODES) {
  describe(`${mode} mode: a socket the user cannot reach never breaks a run`, () => {
    attackTest("root's socket in a directory nobody can search", [notRoot, python3Missing], async () => {
      const dir = join(scratch, `private-${randomKey()}`);
      mkdirSync(dir, { mode: 0o700 });
      chmodSync(dir, 0o700);
      const listener = await listen(join(dir, "default"));
      const report = join(scratch, `report-${randomKey()}.json`);
      run(["sh", "-c", `: > '${report}' && chown 65534 '${report}'`]);
      try {
        const result = sandboxed(mode, ["echo", "ran"], { asNobody: true, extra: ["--report", report] });
        expect(result.stderr).not.toContain("internal error");
        expect(result.stdout).toBe("ran\n");
        expect(result.exitCode).toBe(0);
        expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({ exitStatus: 0 });
        const explain = cordon(["explain", ...modeArgs(mode), "--", "true"], { asNobody: true });
        expect(explain.stderr).not.toContain("internal error");
        expect(explain.exitCode).toBe(0);
      } finally {
        listener.stop();
      }
    });
  });
}

describe("the socket list is complete, and explain says what stays open", () => {
  attackTest(
    "spaces, and another network namespace: each listed as covered",
    [python3Missing, unshareMissing],
    async () => {
      const spaced = join(scratch, `spaced ${randomKey()}.sock`);
      const otherNetns = join(scratch, `netns-${randomKey()}.sock`);
      const [a, b] = [await listen(spaced), await listen(otherNetns, { ownNetns: true })];
      try {
        const explain = cordon(["explain", "--mode", "bwrap", "--net", "--", "true"]).stdout;
        expect(explain).toContain(`covered ${spaced}\n`);
        expect(explain).toContain(`covered ${otherNetns}\n`);
        expect(explain).toContain("emptied, whatever the network: /run /tmp /dev/shm");
        // Landlock-only mode on this ABI says plainly that every socket file stays reachable.
        const landlock = cordon(["explain", ...modeArgs("landlock"), "--", "true"]).stdout;
        expect(landlock).toContain("open: every host socket file the user can reach (Landlock ABI");
      } finally {
        a.stop();
        b.stop();
      }
    },
  );
});

describe("abstract unix names under a shared network namespace: open, and said so", () => {
  for (const [option, extra] of [
    ["--net", ["--net"]],
    ["--allow-connect", ["--allow-connect", "443"]],
    ["--allow-bind", ["--allow-bind", "8080"]],
  ] as const) {
    attackTest(`${option}: --help and explain state it`, [], () => {
      const help = cordon(["run", "--help"], { env: { NO_COLOR: "1" } }).stdout.replace(/\s+/g, " ");
      expect(help).toMatch(new RegExp(`${option}[^]*?abstract unix name`));
      const explain = cordon(["explain", "--mode", "bwrap", ...extra, "--", "true"]).stdout;
      expect(explain).toContain("open: abstract unix names (@name) are shared with the host's network namespace");
    });
  }

  attackTest(
    "the command binds a name a host client reaches (documented); not without network",
    [python3Missing],
    async () => {
      const name = `@cordon-squat-${randomKey()}`;
      const squat = `import socket,sys,time
s=socket.socket(socket.AF_UNIX);s.bind(b"\\0"+sys.argv[1][1:].encode());s.listen(1);print("bound",flush=True)
c,_=s.accept();print("got",c.recv(50).decode(),flush=True)`;
      for (const [extra, open] of [
        [["--net"], true],
        [[], false],
      ] as const) {
        const args = [...modeArgs("bwrap"), "-q", ...extra, "--", "timeout", "10", "python3", "-c", squat, name];
        const boxed = Bun.spawn([CORDON, ...args], { stdout: "pipe" });
        const reader = boxed.stdout.getReader();
        const first = await reader.read();
        expect(new TextDecoder().decode(first.value)).toContain("bound");
        if (open) {
          expect(connectPlainly(name, "host-secret")).toBe("connected");
          let rest = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            rest += new TextDecoder().decode(value);
          }
          expect(rest).toContain("got host-secret");
        } else {
          expect(connectPlainly(name, "host-secret")).toBe("ECONNREFUSED");
          boxed.kill();
        }
        await boxed.exited;
      }
    },
  );
});
