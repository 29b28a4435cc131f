// Adversarial review of issue 16: runok's formats (--policy with runok's
// SandboxPolicy or a preset, --runok-config/--runok-preset), the policy field
// `tmp: "host"`, --cache TOOL and the offline variables, -v after a failed run
// and bwrap's stderr captured through a memory file, and scripts/test.ts's
// "inside a sandbox" selection. Each attack is shown working without the
// protection where that makes sense, then against cordon; a hole runs as a
// holeTest (test.failing) naming it.
//
// Fixtures live under /var/tmp (bwrap mode gives the command a private /tmp),
// except the host /tmp objects that `tmp: "host"` is about, made in a fresh
// directory of the host's /tmp and removed afterwards.
import { afterAll, describe, expect } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, python3Missing, removeDir } from "../helpers/attacks.ts";
import { CORDON, REPO, cordon, modeArgs, run, startCordon, finish, systemTool, waitFor } from "../helpers/cordon.ts";

const bwrapMissing = systemTool("bwrap") ? undefined : "bwrap is not installed";
const MODES = systemTool("bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

const scratch = hostDir("cordon-rv16-");
/** Host objects in the real /tmp, which `tmp: "host"` shows the command. */
const hostTmp = mkdtempSync("/tmp/cordon-rv16-");
afterAll(() => {
  removeDir(scratch);
  removeDir(hostTmp);
});

let dirs = 0;
function freshDir(name = "d"): string {
  const dir = join(scratch, `${name}-${++dirs}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `cordon explain --json` for `args`: the composed policy. */
function explainPolicy(args: string[]): { network: string; denyRead: { path: string }[]; writeRoots: string[] } {
  const result = cordon(["explain", "--json", ...args]);
  if (result.exitCode !== 0) throw new Error(`explain failed: ${result.stderr}`);
  return JSON.parse(result.stdout).policy;
}

/** A secret file outside every write root, and the text it holds. */
function secretFile(): { path: string; text: string } {
  const text = `SECRET-${crypto.randomUUID()}`;
  const path = join(freshDir("secret"), "secret.txt");
  writeFileSync(path, `${text}\n`);
  return { path, text };
}

// ---- 1. runok's formats

describe("runok's formats", () => {
  attackTest("a SandboxPolicy that also carries cordon's own denyRead keeps the file hidden", [], () => {
    const secret = secretFile();
    const project = freshDir("project");
    // Without the runok keys, denyRead hides the file: the protection exists.
    const alone = cordon([
      ...modeArgs("landlock"),
      "-q",
      "-w",
      project,
      "-p",
      JSON.stringify({
        denyRead: [secret.path],
      }),
      "--",
      "cat",
      secret.path,
    ]);
    expect(alone.stdout).not.toContain(secret.text);
    const mixed = JSON.stringify({
      writable_roots: [project],
      read_only_subpaths: [],
      network_allowed: false,
      denyRead: [secret.path],
    });
    const result = cordon([...modeArgs("landlock"), "-q", "-p", mixed, "--", "cat", secret.path]);
    // Refused outright, or run with the file hidden: either is safe.
    expect(result.exitCode === 125 || !result.stdout.includes(secret.text)).toBe(true);
  });

  attackTest("a stray `fs` key does not turn a cordon policy into an open runok preset", [], () => {
    const secret = secretFile();
    const policy = JSON.stringify({ fs: {}, denyRead: [secret.path] });
    const composed = cordon(["explain", "--json", "-p", policy]);
    if (composed.exitCode !== 0) return; // refused: safe
    const parsed = JSON.parse(composed.stdout).policy;
    expect(parsed.network).toBe("none");
    expect(parsed.denyRead.map((d: { path: string }) => d.path)).toContain(secret.path);
  });

  attackTest("a SandboxPolicy with a duplicate key is refused, as runok (serde) refuses it", [], () => {
    const secret = secretFile();
    const text =
      `{"writable_roots": [], "read_only_subpaths": [], "read_deny_paths": [${JSON.stringify(secret.path)}], ` +
      `"network_allowed": false, "read_deny_paths": []}`;
    const result = cordon(["explain", "--json", "-p", text]);
    expect(result.exitCode).toBe(125);
  });

  attackTest("a YAML merge key (<<) carries a preset's deny list and network refusal", [], () => {
    const secret = secretFile();
    const dir = freshDir("config");
    const config = join(dir, "runok.yml");
    writeFileSync(
      config,
      `definitions:\n  sandbox:\n    base: &base\n      fs:\n        read:\n          deny: [${JSON.stringify(
        secret.path,
      )}]\n      network:\n        allow: false\n    strict:\n      <<: *base\n`,
    );
    const policy = explainPolicy(["--runok-config", config, "--runok-preset", "strict"]);
    expect(policy.network).toBe("none");
    expect(policy.denyRead.map((d) => d.path)).toContain(secret.path);
  });

  attackTest("presets merge strictest: an open preset does not widen a closed one", [], () => {
    const dir = freshDir("config");
    const config = join(dir, "runok.yml");
    writeFileSync(
      config,
      [
        "definitions:",
        "  sandbox:",
        "    closed:",
        "      fs: {write: {allow: ['./a']}}",
        "      network: {allow: false}",
        "    open:",
        "      fs: {write: {allow: ['./a', './b', '/']}}",
        "      network: {allow: true}",
        "",
      ].join("\n"),
    );
    mkdirSync(join(dir, "a"));
    mkdirSync(join(dir, "b"));
    const policy = explainPolicy(["--runok-config", config, "--runok-preset", "open", "--runok-preset", "closed"]);
    expect(policy.network).toBe("none");
    expect(policy.writeRoots).toEqual([join(dir, "a")]);
  });

  attackTest("<path:NAME> cannot reach Object.prototype or name another list", [], () => {
    const dir = freshDir("config");
    const config = join(dir, "runok.yml");
    for (const [name, paths] of [
      ["__proto__", ""],
      ["constructor", ""],
      ["toString", ""],
      ["inner", "    inner: ['<path:outer>']\n    outer: ['/x']\n"],
    ] as const) {
      writeFileSync(
        config,
        `definitions:\n  paths:\n${paths || "    x: ['/x']\n"}  sandbox:\n    p:\n      fs:\n        read:\n` +
          `          deny: ['<path:${name}>']\n`,
      );
      const result = cordon(["explain", "--runok-config", config, "--runok-preset", "p"]);
      expect(result.exitCode).toBe(125);
    }
    // A preset named like Object.prototype's members is no preset either.
    writeFileSync(config, "definitions:\n  sandbox:\n    p: {}\n");
    for (const preset of ["__proto__", "constructor", "hasOwnProperty"]) {
      expect(cordon(["explain", "--runok-config", config, "--runok-preset", preset]).exitCode).toBe(125);
    }
  });

  attackTest("a runok config that is not UTF-8, or mixes fs spellings, is refused", [], () => {
    const dir = freshDir("config");
    const config = join(dir, "runok.yml");
    writeFileSync(
      config,
      Buffer.concat([
        Buffer.from("definitions:\n  sandbox:\n    p: {fs: {read: {deny: ['/x"),
        Buffer.from([0xff]),
        Buffer.from("']}}}\n"),
      ]),
    );
    expect(cordon(["explain", "--runok-config", config, "--runok-preset", "p"]).exitCode).toBe(125);
    writeFileSync(config, "definitions:\n  sandbox:\n    p: {fs: {deny: ['/x'], read: {deny: []}}}\n");
    expect(cordon(["explain", "--runok-config", config, "--runok-preset", "p"]).exitCode).toBe(125);
  });

  attackTest("a runok config reached through a symlink into a write root is still named as rewritable", [], () => {
    const project = freshDir("project");
    writeFileSync(join(project, "runok.yml"), "definitions:\n  sandbox:\n    p: {network: {allow: false}}\n");
    const link = join(freshDir("elsewhere"), "runok.yml");
    symlinkSync(join(project, "runok.yml"), link);
    const warned = cordon([
      ...modeArgs("landlock"),
      "-w",
      project,
      "--runok-config",
      link,
      "--runok-preset",
      "p",
      "--",
      "true",
    ]);
    expect(warned.stderr).toContain("lies inside the write root");
    const strict = cordon([
      ...modeArgs("landlock"),
      "--strict",
      "-w",
      project,
      "--runok-config",
      link,
      "--runok-preset",
      "p",
      "--",
      "true",
    ]);
    expect(strict.exitCode).toBe(125);
  });
});

// ---- 2. tmp: "host"

const HOST_TMP_POLICY = (project: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ tmp: "host", write: [project], ...extra });

describe('tmp: "host" in bwrap mode', () => {
  attackTest("the command cannot write to the host's /tmp outside its write roots", [bwrapMissing], () => {
    const project = freshDir("project");
    const target = join(hostTmp, `planted-${crypto.randomUUID()}`);
    // Without cordon the write lands.
    const bare = run(["sh", "-c", `echo x > ${target}`]);
    expect(bare.exitCode).toBe(0);
    expect(existsSync(target)).toBe(true);
    removeDir(target);
    const result = cordon([
      "--mode",
      "bwrap",
      "-q",
      "-p",
      HOST_TMP_POLICY(project),
      "--",
      "sh",
      "-c",
      `echo x > ${target}; mkdir ${target}.d; ln -s / ${target}.l; true`,
    ]);
    expect(result.exitCode).toBe(0);
    for (const path of [target, `${target}.d`, `${target}.l`]) expect(existsSync(path)).toBe(false);
  });

  attackTest("a deny-read path in the host's /tmp stays hidden", [bwrapMissing], () => {
    const project = freshDir("project");
    const secret = join(hostTmp, "krb5cc_like");
    const text = `TICKET-${crypto.randomUUID()}`;
    writeFileSync(secret, text, { mode: 0o600 });
    expect(readFileSync(secret, "utf8")).toBe(text);
    const result = cordon([
      "--mode",
      "bwrap",
      "-q",
      "-p",
      HOST_TMP_POLICY(project, { denyRead: [secret] }),
      "--",
      "cat",
      secret,
    ]);
    expect(result.stdout).not.toContain(text);
  });

  attackTest("a host unix socket in /tmp stays unreachable", [bwrapMissing, python3Missing], async () => {
    const project = freshDir("project");
    const socketDir = mkdtempSync(join(hostTmp, "sock-"));
    const path = join(socketDir, "s");
    const listener = Bun.spawn(
      [
        "python3",
        "-c",
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(4)\n" +
          "print('ready',flush=True)\nwhile True:\n c,_=s.accept()\n print(c.recv(64).decode(),flush=True)\n c.close()",
        path,
      ],
      { stdout: "pipe", stderr: "ignore" },
    );
    try {
      await waitFor(() => existsSync(path), "the listener");
      const client =
        "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); s.send(b'IN'); " +
        "print('CONNECTED')\nexcept OSError as e: print('ERR', e.errno)";
      // Without cordon the connection goes through.
      expect(run(["python3", "-c", client, path]).stdout).toContain("CONNECTED");
      for (const network of ["none", "all"]) {
        const result = await finish(
          startCordon([
            "--mode",
            "bwrap",
            "-q",
            "-p",
            HOST_TMP_POLICY(project, { network }),
            "--",
            "python3",
            "-c",
            client,
            path,
          ]),
        );
        expect(result.stdout).toContain("ERR");
      }
    } finally {
      listener.kill("SIGKILL");
      await listener.exited;
    }
  });

  attackTest("TMPDIR is private to the run, writable, and gone afterwards", [bwrapMissing], () => {
    const project = freshDir("project");
    const result = cordon([
      "--mode",
      "bwrap",
      "-q",
      "-p",
      HOST_TMP_POLICY(project),
      "--",
      "sh",
      "-c",
      'echo left > "$TMPDIR/left" && echo "$TMPDIR" && ls -ld "$TMPDIR/.." && touch "$TMPDIR/../beside"; true',
    ]);
    const tmpdir = result.stdout.split("\n")[0]!;
    expect(tmpdir).toMatch(/^\/.*\/cordon-\d+-\w+\/tmp$/);
    // The state directory beside TMPDIR is read-only to the command, and everything is removed after the run.
    expect(existsSync(join(tmpdir, "..", "beside"))).toBe(false);
    expect(existsSync(tmpdir)).toBe(false);
  });

  attackTest("a runok SandboxPolicy with a write root under /tmp opens only that root", [bwrapMissing], () => {
    const root = mkdtempSync(join(hostTmp, "root-"));
    const outside = join(hostTmp, `outside-${crypto.randomUUID()}`);
    const policy = JSON.stringify({ writable_roots: [root], read_only_subpaths: [], network_allowed: false });
    const result = cordon([
      "--mode",
      "bwrap",
      "-q",
      "-p",
      policy,
      "--",
      "sh",
      "-c",
      `echo in > ${root}/in; echo out > ${outside}; true`,
    ]);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(root, "in"), "utf8")).toBe("in\n");
    expect(existsSync(outside)).toBe(false);
  });
});

// ---- 3. --cache TOOL and the offline variables

describe.each(MODES)("--cache in %s mode", (mode) => {
  attackTest("a planted .cache symlink does not carry a cache write outside the write roots", [], () => {
    const project = freshDir("project");
    const outside = freshDir("outside");
    symlinkSync(outside, join(project, ".cache"));
    // Without cordon, the tool's write follows the symlink out of the project.
    run(["sh", "-c", `mkdir -p ${project}/.cache/probe && touch ${project}/.cache/probe/x`]);
    expect(existsSync(join(outside, "probe", "x"))).toBe(true);
    for (const tool of ["npm", "pip", "uv", "go", "cargo"]) {
      const result = cordon(
        [
          ...modeArgs(mode),
          "-q",
          "-w",
          project,
          "--cache",
          tool,
          "--",
          "sh",
          "-c",
          'for d in "$npm_config_cache" "$PIP_CACHE_DIR" "$UV_CACHE_DIR" "$GOMODCACHE" "$CARGO_HOME"; do ' +
            '[ -n "$d" ] && mkdir -p "$d" && touch "$d/x"; done; true',
        ],
        { cwd: project },
      );
      expect(result.exitCode).toBe(0);
      expect(existsSync(join(outside, tool))).toBe(false);
    }
  });

  attackTest("--cache cargo replaces the caller's CARGO_HOME (its credentials stay out of use)", [], () => {
    const project = freshDir("project");
    const home = freshDir("cargo-home");
    writeFileSync(join(home, "credentials.toml"), '[registry]\ntoken = "cio-SECRET"\n');
    const result = cordon(
      [
        ...modeArgs(mode),
        "-q",
        "-w",
        project,
        "--cache",
        "cargo",
        "--",
        "sh",
        "-c",
        'echo "$CARGO_HOME"; cat "$CARGO_HOME/credentials.toml" 2>/dev/null; true',
      ],
      {
        cwd: project,
        env: { CARGO_HOME: home },
      },
    );
    expect(result.stdout.split("\n")[0]).toBe(join(project, ".cache", "cargo"));
    expect(result.stdout).not.toContain("cio-SECRET");
  });

  attackTest("a policy's caches cannot move TMPDIR or override cordon's own variables", [], () => {
    const project = freshDir("project");
    const policy = JSON.stringify({ write: [project], caches: ["go", "npm"] });
    const result = cordon(
      [
        ...modeArgs(mode),
        "-q",
        "-p",
        policy,
        "--",
        "sh",
        "-c",
        'echo "TMPDIR=$TMPDIR"; echo "GOMODCACHE=$GOMODCACHE"; echo "GOPROXY=$GOPROXY"',
      ],
      {
        cwd: project,
        env: { GOPROXY: undefined, GOMODCACHE: "/root/go/pkg/mod" },
      },
    );
    expect(result.stdout).not.toContain(`TMPDIR=${project}`);
    expect(result.stdout).toContain(`GOMODCACHE=${project}/.cache/go/mod`);
    expect(result.stdout).toContain("GOPROXY=off");
  });
});

// ---- 4. -v after a failed run, and bwrap's captured stderr

describe("cordon's own output", () => {
  attackTest(
    "-v after a failed run prints no control characters from a planted repository's name",
    [systemTool("git") ? undefined : "git is not installed"],
    () => {
      const project = freshDir("project");
      run(["git", "init", "-q", project]);
      const evil = join(project, "evil\u001b]0;PWNED\u0007\ncordon: nothing was blocked");
      mkdirSync(evil);
      run(["git", "init", "-q", evil]);
      const result = cordon([...modeArgs("landlock"), "-v", "--profile", "workspace", "--", "false"], { cwd: project });
      expect(result.stderr).toContain("write-protected by protectGit");
      expect(result.stderr).not.toContain("\u001b");
      expect(result.stderr).not.toContain("\ncordon: nothing was blocked");
      // explain, where -v points, prints the same paths.
      const explained = cordon(["explain", ...modeArgs("landlock"), "--profile", "workspace", "--", "true"], {
        cwd: project,
      });
      expect(explained.stdout).toContain("evil\\x1b]0;PWNED\\x07\\x0acordon: nothing was blocked");
      expect(explained.stdout).not.toContain("\u001b");
    },
  );

  attackTest(
    "the command holds no descriptor beyond 0-2 and cannot reach bwrap's captured stderr",
    [bwrapMissing],
    () => {
      const result = cordon([
        "--mode",
        "bwrap",
        "-q",
        "--",
        "sh",
        "-c",
        "ls /proc/self/fd; echo INJECTED > /proc/1/fd/2 && echo WROTE; cat /proc/1/fd/2 && echo READ; " +
          "for fd in 3 4 5 6 7 8 9 10; do (echo X >&$fd) 2>/dev/null && echo FD$fd; done; true",
      ]);
      expect(result.exitCode).toBe(0);
      expect(
        result.stdout
          .split("\n")
          .filter((line) => /^\d+$/.test(line))
          .sort(),
      ).toEqual(["0", "1", "2", "3"]);
      expect(result.stdout).not.toContain("WROTE");
      expect(result.stdout).not.toContain("READ");
      expect(result.stdout).not.toMatch(/FD\d/);
      expect(result.stderr).not.toContain("INJECTED");
    },
  );

  attackTest("the command's stderr is the caller's own descriptor, not a pipe of cordon's", [bwrapMissing], () => {
    const log = join(freshDir("log"), "stderr");
    const result = run([
      "sh",
      "-c",
      `exec 2>${log}; ${CORDON} --mode bwrap -q -- sh -c 'readlink /proc/self/fd/2' >&2`,
    ]);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(log, "utf8").trim()).toBe(log);
  });
});

// ---- 5. scripts/test.ts inside a sandbox

/** A stand-in project: scripts/test.ts and its imports, one unit test that passes, one e2e test that fails. */
function fakeProject(): string {
  const dir = freshDir("fake-project");
  mkdirSync(join(dir, "scripts"));
  mkdirSync(join(dir, "test"));
  writeFileSync(join(dir, "scripts", "test.ts"), readFileSync(join(REPO, "scripts", "test.ts")));
  symlinkSync(join(REPO, "src"), join(dir, "src"));
  symlinkSync(join(REPO, "ffi"), join(dir, "ffi"));
  writeFileSync(
    join(dir, "test", "unit.test.ts"),
    'import { test, expect } from "bun:test";\ntest("unit", () => expect(1).toBe(1));\n',
  );
  writeFileSync(
    join(dir, "test", "e2e.test.ts"),
    'import { test, expect } from "bun:test";\n// starts dist/cordon\n' +
      'test("e2e", () => expect("sandbox").toBe("broken"));\n',
  );
  return dir;
}

describe("scripts/test.ts's selection inside a sandbox", () => {
  // Without any sandbox, the failing e2e test fails the run: the stand-in project works.
  attackTest("a failing e2e test fails the run outside any sandbox", [], () => {
    const dir = fakeProject();
    const result = run([process.execPath, "scripts/test.ts"], {
      cwd: dir,
      env: { CORDON_BIN: "/bin/true", CI: "true" },
    });
    expect(result.stdout).toContain("1 failed");
    expect(result.exitCode).not.toBe(0);
  });

  attackTest("a container-like sandbox (no-new-privileges + seccomp) does not shrink the suite", [], () => {
    const dir = fakeProject();
    // cordon under another name stands in for a container runtime: no-new-privileges and a seccomp filter,
    // but no ancestor called cordon or bwrap.
    const runtime = join(freshDir("bin"), "ci-runtime");
    try {
      linkSync(CORDON, runtime);
    } catch {
      copyFileSync(CORDON, runtime);
      chmodSync(runtime, 0o755);
    }
    const result = run(
      [
        runtime,
        ...modeArgs("landlock"),
        "-q",
        "-w",
        dir,
        "--",
        "sh",
        "-c",
        `grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; ${process.execPath} scripts/test.ts; exit $?`,
      ],
      { cwd: dir, env: { CORDON_BIN: "/bin/true", CI: "true" } },
    );
    expect(result.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(result.stdout).toMatch(/Seccomp:\s+2/);
    expect(result.stdout).toContain("1 failed");
    expect(result.exitCode).not.toBe(0);
  });

  attackTest("CI under an ancestor process named bwrap (or cordon) still fails on a failing e2e test", [], () => {
    const dir = fakeProject();
    const bwrap = join(freshDir("bin"), "bwrap");
    writeFileSync(bwrap, readFileSync("/bin/sh"), { mode: 0o755 });
    const result = run([bwrap, "-c", `${process.execPath} scripts/test.ts; exit $?`], {
      cwd: dir,
      env: { CORDON_BIN: "/bin/true", CI: "true" },
    });
    expect(result.exitCode).not.toBe(0);
  });
});
