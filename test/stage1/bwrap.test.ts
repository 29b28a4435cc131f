// bwrap mode against the real binary: mounts, namespaces, out-of-band
// handoff, and the process lifecycle. Each test asserts the failure and that
// its effect is absent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CORDON, cordon, isRoot, missingTool, NOBODY, run, scratchDir } from "../helpers/cordon.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";

describe.skipIf(noBwrap !== undefined)("bwrap mode", () => {
  // One project per user: as root the command has no capabilities, so it
  // cannot write what another user owns even inside a write root.
  let dir: string;
  let nobodyDir: string;
  const populate = (root: string, owner?: number) => {
    mkdirSync(join(root, ".git"));
    mkdirSync(join(root, "src"));
    writeFileSync(join(root, "secret.txt"), "top-secret\n");
    mkdirSync(join(root, "secrets"));
    writeFileSync(join(root, "secrets", "key"), "private-key\n");
    writeFileSync(join(root, "public.txt"), "public\n");
    if (owner !== undefined) run(["chown", "-R", `${owner}:${owner}`, root]);
  };
  beforeAll(() => {
    dir = scratchDir("cordon-bwrap-");
    populate(dir);
    nobodyDir = scratchDir("cordon-bwrap-nobody-");
    populate(nobodyDir, NOBODY);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(nobodyDir, { recursive: true, force: true });
  });

  const bw = (args: string[], options: Parameters<typeof cordon>[1] = {}) =>
    cordon(["--mode", "bwrap", ...args], { cwd: options.asNobody ? nobodyDir : dir, ...options });

  for (const asNobody of isRoot ? [false, true] : [false]) {
    const who = asNobody ? "as nobody" : "as the invoking user";
    const project = () => (asNobody ? nobodyDir : dir);
    test(`writes: inside a root allowed, outside denied (${who})`, () => {
      const name = `ok-${asNobody}`;
      const result = bw(["-w", ".", "--", "sh", "-c", `touch ${name}; touch /etc/cordon-bwrap-nope`], { asNobody });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/Read-only file system|Permission denied/);
      expect(existsSync(join(project(), name))).toBe(true);
      expect(existsSync("/etc/cordon-bwrap-nope")).toBe(false);
    });

    test(`--deny-write keeps .git read-only while its sibling stays writable (${who})`, () => {
      const git = bw(["-w", ".", "--deny-write", ".git", "--", "touch", `.git/x-${asNobody}`], { asNobody });
      expect(git.exitCode).toBe(1);
      expect(existsSync(join(project(), ".git", `x-${asNobody}`))).toBe(false);
      const src = bw(["-w", ".", "--deny-write", ".git", "--", "touch", `src/x-${asNobody}`], { asNobody });
      expect(src.exitCode).toBe(0);
      expect(existsSync(join(project(), "src", `x-${asNobody}`))).toBe(true);
    });

    test(`--deny-read hides a file and a directory, the neighbour stays readable (${who})`, () => {
      const result = bw(
        [
          "-w",
          ".",
          "--deny-read",
          "secret.txt",
          "--deny-read",
          "secrets",
          "--",
          "sh",
          "-c",
          "cat secret.txt; ls -A secrets; cat public.txt; echo x > secret.txt; echo x > secrets/new",
        ],
        { asNobody },
      );
      expect(result.stdout).not.toContain("top-secret");
      expect(result.stdout).not.toContain("key");
      expect(result.stdout).toContain("public");
      expect(result.exitCode).not.toBe(0);
      expect(readFileSync(join(project(), "secret.txt"), "utf8")).toBe("top-secret\n");
      expect(existsSync(join(project(), "secrets", "new"))).toBe(false);
    });

    test(`network is denied without --net (${who})`, () => {
      const result = bw(
        [
          "--",
          "python3",
          "-c",
          "import socket\ntry:\n socket.socket(socket.AF_INET)\nexcept PermissionError: print('EPERM')",
        ],
        { asNobody },
      );
      expect(result.stdout.trim()).toBe("EPERM");
    });
  }

  test.skipIf(missingTool("python3") !== undefined)(
    "host unix sockets in /run and abstract sockets are unreachable without --net",
    async () => {
      const path = `/run/cordon-test-${process.pid}.sock`;
      const abstract = `cordon-test-${process.pid}`;
      const connections: string[] = [];
      const listeners = [path, `\0${abstract}`].map((name) =>
        Bun.listen({ unix: name, socket: { open: () => void connections.push(name), data() {} } }),
      );
      try {
        const probe = (address: string) =>
          `import socket\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(${address}); ` +
          `print("connected")\nexcept OSError as e: print("refused", e.errno)`;
        // Control: the same probes connect from outside the sandbox.
        expect(run(["python3", "-c", probe(JSON.stringify(path))]).stdout).toContain("connected");
        expect(run(["python3", "-c", probe(`"\\0${abstract}"`)]).stdout).toContain("connected");
        const file = bw(["--", "python3", "-c", probe(JSON.stringify(path))]);
        const abstractResult = bw(["--", "python3", "-c", probe(`"\\0${abstract}"`)]);
        expect(file.stdout).toContain("refused");
        expect(abstractResult.stdout).toContain("refused");
        await Bun.sleep(50);
        // Only the two control connections arrived.
        expect(connections.length).toBe(2);
      } finally {
        for (const listener of listeners) listener.stop(true);
        rmSync(path, { force: true });
      }
    },
  );

  test("exit codes are preserved, 128+N for a signal", () => {
    for (const code of [0, 1, 42]) expect(bw(["--", "sh", "-c", `exit ${code}`]).exitCode).toBe(code);
    expect(bw(["--", "sh", "-c", "kill -TERM $$"]).exitCode).toBe(143);
    expect(bw(["--", "sh", "-c", "kill -KILL $$"]).exitCode).toBe(137);
    expect(bw(["--", "cordon-no-such-command"]).exitCode).toBe(127);
    expect(bw(["--", "/etc/passwd"]).exitCode).toBe(126);
  });

  test("namespaces: own PID namespace, no network interfaces but lo, no nested user namespace", () => {
    const result = bw([
      "--",
      "sh",
      "-c",
      "echo pid=$$; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; unshare -U true && echo nested-ok",
    ]);
    expect(result.stdout).toContain("pid=2");
    expect(result.stdout).not.toContain("nested-ok");
    expect(
      result.stdout
        .split("\n")
        .filter((line) => line && !line.startsWith("pid="))
        .join(","),
    ).toBe("lo");
  });

  test.skipIf(!isRoot)("as root, the command has no capabilities", () => {
    const result = bw(["--", "grep", "^Cap", "/proc/self/status"]);
    for (const line of result.stdout.trim().split("\n")) expect(line).toMatch(/:\s+0+$/);
    const mknod = bw(["-w", ".", "--", "mknod", "cordon-null", "c", "1", "3"]);
    expect(mknod.exitCode).not.toBe(0);
    expect(existsSync(join(dir, "cordon-null"))).toBe(false);
  });

  test("/tmp is private, write roots under /tmp still work, /dev/shm is writable", () => {
    const marker = `cordon-private-${process.pid}`;
    const result = bw([
      "-w",
      ".",
      "--",
      "sh",
      "-c",
      `touch /tmp/${marker} && touch /dev/shm/${marker} && echo "$TMPDIR" && touch inside-tmp-root`,
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe("/tmp");
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(existsSync(`/dev/shm/${marker}`)).toBe(false);
    expect(existsSync(join(dir, "inside-tmp-root"))).toBe(true);
  });

  test.skipIf(missingTool("python3") !== undefined)("python multiprocessing works", () => {
    const script =
      "import multiprocessing as m\nif __name__ == '__main__':\n with m.Pool(2) as p: " +
      "print(sum(p.map(abs, [-1, -2, 3])))";
    const result = bw(["--", "python3", "-c", script]);
    expect(result.stdout.trim()).toBe("6");
  });

  test("10,000 arguments, newlines and non-UTF-8 bytes arrive exactly", () => {
    const args = Array.from({ length: 10_000 }, (_, i) => `arg${i}`);
    const result = bw(["--", "python3", "-c", "import sys; print(len(sys.argv) - 1, sys.argv[-1])", ...args]);
    expect(result.stdout.trim()).toBe("10000 arg9999");
    // Raw bytes: sh -c prints its arguments through od so we see every byte.
    const raw = Bun.spawnSync(
      [
        CORDON,
        "--mode",
        "bwrap",
        "--",
        "python3",
        "-c",
        "import sys,os; sys.stdout.buffer.write(b'|'.join(os.fsencode(a) for a in sys.argv[1:]))",
        Buffer.from("a\nb").toString(),
        "\xff",
      ],
      { cwd: dir },
    );
    expect(raw.stdout.toString("latin1")).toContain("a\nb|");
  });

  test("the plan is not in the command's argv or environment", () => {
    const result = bw([
      "-w",
      ".",
      "--",
      "sh",
      "-c",
      "cat /proc/1/cmdline /proc/$$/cmdline /proc/$$/environ | tr '\\0' ' '",
    ]);
    expect(result.stdout).not.toContain("writeRoots");
    expect(result.stdout).not.toContain("landlock");
  });

  test("every descriptor used for the handoff is closed before exec", () => {
    const result = bw(["--", "python3", "-c", "import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))"]);
    // python's own listdir descriptor is the only one above 2.
    expect(JSON.parse(result.stdout.trim()).filter((fd: number) => fd > 3)).toEqual([]);
  });

  test("the binary copied into /tmp (hidden in the sandbox) still sandboxes", () => {
    const copy = join(scratchDir("cordon-copy-"), "cordon");
    copyFileSync(CORDON, copy);
    chmodSync(copy, 0o755);
    try {
      const result = run(
        [copy, "--mode", "bwrap", "-w", ".", "--", "sh", "-c", "touch copied; touch /etc/cordon-copy-nope"],
        { cwd: dir },
      );
      expect(result.exitCode).toBe(1);
      expect(existsSync(join(dir, "copied"))).toBe(true);
      expect(existsSync("/etc/cordon-copy-nope")).toBe(false);
    } finally {
      rmSync(join(copy, ".."), { recursive: true, force: true });
    }
  });

  test("a binary under a read-denied directory still runs", () => {
    const home = scratchDir("cordon-denied-home-");
    const copy = join(home, "cordon");
    copyFileSync(CORDON, copy);
    chmodSync(copy, 0o755);
    try {
      const result = run(
        [copy, "--mode", "bwrap", "--deny-read", home, "--", "sh", "-c", "ls -A " + home + "; echo ran"],
        { cwd: dir },
      );
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain("cordon\n");
      expect(result.stdout).toContain("ran");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
