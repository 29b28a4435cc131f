// Every front door of the policy, against the real binary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { CORDON, cordon, missingTool, requireBinary, run, scratchDir, modeArgs } from "../helpers/cordon.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

function project(): string {
  const dir = scratchDir("cordon-policy-e2e-");
  mkdirSync(join(dir, ".git"));
  mkdirSync(join(dir, "src"));
  mkdirSync(join(dir, "secrets"));
  writeFileSync(join(dir, "secrets", "key"), "SECRET-KEY-BYTES\n");
  writeFileSync(join(dir, "secret.txt"), "SECRET-FILE-BYTES\n");
  writeFileSync(join(dir, "public.txt"), "public\n");
  return dir;
}

describe.each(MODES)("policy front doors in %s mode", (mode) => {
  let dir: string;
  let home: string;
  beforeAll(() => {
    dir = project();
    // Not under /tmp: bwrap mode gives the command a private /tmp.
    home = mkdtempSync("/var/tmp/cordon-home-");
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh", "id_rsa"), "PRIVATE-SSH-KEY\n");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const c = (args: string[], env: Record<string, string> = {}) =>
    cordon([...modeArgs(mode), "-q", ...args], { cwd: dir, env: { HOME: home, ...env } });

  for (const [format, text] of [
    [
      "json",
      '{"write": ["."], "denyWrite": [".git"], "denyRead": ["secrets", "secret.txt"], ' +
        '"env": {"set": {"FROM_FILE": "yes"}}}',
    ],
    ["yaml", 'write: ["."]\ndenyWrite: [".git"]\ndenyRead: [secrets, secret.txt]\nenv:\n  set: {FROM_FILE: "yes"}\n'],
    [
      "toml",
      'write = ["."]\ndenyWrite = [".git"]\ndenyRead = ["secrets", "secret.txt"]\n[env.set]\nFROM_FILE = "yes"\n',
    ],
  ] as const) {
    test(`a ${format} policy file is enforced`, () => {
      const policyDir = scratchDir("cordon-policy-file-");
      const file = join(policyDir, `policy.${format}`);
      writeFileSync(file, text);
      try {
        const marker = `from-${format}`;
        const result = c([
          "-p",
          file,
          "--",
          "sh",
          "-c",
          `touch src/${marker}; touch .git/${marker}; cat secret.txt secrets/key public.txt; echo "env=$FROM_FILE"`,
        ]);
        expect(existsSync(join(dir, "src", marker))).toBe(true);
        expect(existsSync(join(dir, ".git", marker))).toBe(false);
        expect(result.stdout).not.toContain("SECRET");
        expect(result.stdout).toContain("public");
        expect(result.stdout).toContain("env=yes");
      } finally {
        rmSync(policyDir, { recursive: true, force: true });
      }
    });
  }

  test("secure defaults hide ~/.ssh unless revealed", () => {
    expect(c(["--", "sh", "-c", `cat ${home}/.ssh/id_rsa; ls -A ${home}/.ssh`]).stdout).not.toContain("PRIVATE");
    // bwrap mode mounts an empty directory there; landlock-only mode keeps ~ listable, so the names show (README).
    const names = c(["--", "sh", "-c", `ls -A ${home}/.ssh`]).stdout;
    if (mode === "bwrap") expect(names).not.toContain("id_rsa");
    else expect(names).toBe("id_rsa\n");
    expect(c(["--reveal", "ssh", "--", "cat", `${home}/.ssh/id_rsa`]).stdout).toContain("PRIVATE-SSH-KEY");
  });

  test("--env, --unset-env and --clear-env shape the command's environment", () => {
    const env = { KEEP: "kept", DROP: "dropped", PASS: "passed" };
    expect(
      c(["--env", "NEW=1", "--unset-env", "DROP", "--", "sh", "-c", 'echo "$NEW|$KEEP|$DROP"'], env).stdout.trim(),
    ).toBe("1|kept|");
    const cleared = c(["--clear-env", "--env", "PASS", "--", "/usr/bin/env"], env).stdout;
    expect(cleared).toContain("PASS=passed");
    expect(cleared).not.toContain("KEEP=");
  });

  test("the workspace profile: the working directory writable, .git's hooks and config protected", () => {
    c(["--profile", "workspace", "--", "sh", "-c", "touch src/profile-ok .git/profile-ok; touch .git/hooks/nope"]);
    expect(existsSync(join(dir, "src", "profile-ok"))).toBe(true);
    expect(existsSync(join(dir, ".git", "profile-ok"))).toBe(true);
    expect(existsSync(join(dir, ".git", "hooks", "nope"))).toBe(false);
  });

  test("a deny path that does not exist yet cannot be created, and nothing is left behind", () => {
    const result = c([
      "-w",
      ".",
      "--deny-write",
      ".env.local",
      "--deny-write",
      ".git/hooks/new",
      "--",
      "sh",
      "-c",
      "echo TOKEN > .env.local; mkdir -p .git/hooks/new && echo x > .git/hooks/new/pre-commit; echo done",
    ]);
    expect(result.stdout).toContain("done");
    expect(existsSync(join(dir, ".env.local"))).toBe(false);
    expect(existsSync(join(dir, ".git", "hooks"))).toBe(false);
  });

  test("a deny path given as a symlink protects the link and its target", () => {
    mkdirSync(join(dir, "real-target"));
    mkdirSync(join(dir, "elsewhere"));
    symlinkSync("real-target", join(dir, "alias"));
    try {
      c([
        "-w",
        ".",
        "--deny-write",
        "alias",
        "--",
        "sh",
        "-c",
        "touch alias/x; touch real-target/y; rm alias; ln -sfn elsewhere alias",
      ]);
      expect(existsSync(join(dir, "real-target", "x"))).toBe(false);
      expect(existsSync(join(dir, "real-target", "y"))).toBe(false);
      expect(readlinkSync(join(dir, "alias"))).toBe("real-target");
    } finally {
      rmSync(join(dir, "alias"), { force: true });
      rmSync(join(dir, "real-target"), { recursive: true, force: true });
      rmSync(join(dir, "elsewhere"), { recursive: true, force: true });
    }
  });

  test("a policy file inside a write root warns, and --strict refuses", () => {
    const file = join(dir, "cordon.json");
    writeFileSync(file, '{"write": ["."]}');
    try {
      const warned = cordon([...modeArgs(mode), "-p", file, "--", "true"], { cwd: dir, env: { HOME: home } });
      expect(warned.exitCode).toBe(0);
      expect(warned.stderr).toContain("could have rewritten it");
      const refused = c(["--strict", "-p", file, "--", "touch", "strict-ran"]);
      expect(refused.exitCode).toBe(125);
      expect(existsSync(join(dir, "strict-ran"))).toBe(false);
    } finally {
      rmSync(file, { force: true });
    }
  });
});

describe.each(MODES)("runok drop-in in %s mode: the seed's own cases", (mode) => {
  let dir: string;
  let bin: string;
  beforeAll(() => {
    requireBinary();
    dir = project();
    bin = scratchDir("cordon-runok-bin-");
    symlinkSync(CORDON, join(bin, "runok-linux-sandbox"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bin, { recursive: true, force: true });
  });
  const policy = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      writable_roots: [dir],
      read_only_subpaths: [join(dir, ".git")],
      read_deny_paths: [join(dir, "secrets"), join(dir, "secret.txt")],
      network_allowed: false,
      ...extra,
    });
  // runok passes only --policy and --cwd, so the symlink door runs in auto mode.
  const viaSymlink = (command: string[], extra?: Record<string, unknown>) =>
    run([join(bin, "runok-linux-sandbox"), "--policy", policy(extra), "--cwd", dir, "--", ...command]);
  const viaRun = (command: string[], extra?: Record<string, unknown>) =>
    cordon(["run", ...modeArgs(mode), "-q", "--policy", policy(extra), "--cwd", dir, "--", ...command]);

  for (const [door, invoke] of [
    ["symlink", viaSymlink],
    ["cordon run --policy", viaRun],
  ] as const) {
    test(`${door}: write outside denied, inside allowed, read-only subpath denied, sibling writable`, () => {
      const tag = door.replace(/\W/g, "");
      // Landlock-only mode cannot let the root of a write root create entries
      // while its .git stays read-only (a documented cost), so "inside"
      // writes an existing file there and creates in a subdirectory.
      const result = invoke([
        "sh",
        "-c",
        `touch /etc/runok-${tag}; echo ${tag} >> ${dir}/public.txt; touch ` +
          `${dir}/.git/ro-${tag}; touch ${dir}/src/sib-${tag}`,
      ]);
      expect(result.stderr).toContain(`/etc/runok-${tag}`);
      expect(existsSync(`/etc/runok-${tag}`)).toBe(false);
      expect(readFileSync(join(dir, "public.txt"), "utf8")).toContain(tag);
      expect(existsSync(join(dir, ".git", `ro-${tag}`))).toBe(false);
      expect(existsSync(join(dir, "src", `sib-${tag}`))).toBe(true);
    });

    test.skipIf(missingTool("python3") !== undefined)(
      `${door}: network denied when not allowed, allowed when allowed, and never guessed`,
      () => {
        const probe = [
          "python3",
          "-c",
          "import socket\ntry:\n socket.socket(socket.AF_INET); " +
            "print('socket-ok')\nexcept PermissionError: print('EPERM')",
        ];
        expect(invoke(probe).stdout.trim()).toBe("EPERM");
        expect(invoke(probe, { network_allowed: true }).stdout.trim()).toBe("socket-ok");
        // runok's SandboxPolicy has no default for network_allowed: an omitted one is refused, not allowed.
        const { network_allowed: _omitted, ...withoutNetwork } = JSON.parse(policy()) as Record<string, unknown>;
        const refused = run([
          join(bin, "runok-linux-sandbox"),
          "--policy",
          JSON.stringify(withoutNetwork),
          "--cwd",
          dir,
          "--",
          ...probe,
        ]);
        expect(refused.exitCode).toBe(125);
        expect(refused.stdout).toBe("");
      },
    );

    test(`${door}: reads allowed; a read-denied directory and file give nothing; exit codes preserved`, () => {
      const result = invoke([
        "sh",
        "-c",
        `cat /etc/hostname >/dev/null && echo read-ok; cat ${dir}/secret.txt ${dir}/secrets/key; cat ${dir}/public.txt`,
      ]);
      expect(result.stdout).toContain("read-ok");
      expect(result.stdout).toContain("public");
      expect(result.stdout).not.toContain("SECRET");
      for (const code of [0, 1, 42]) expect(invoke(["sh", "-c", `exit ${code}`]).exitCode).toBe(code);
    });
  }
});

describe("bad input: one clear message, exit 125, nothing runs", () => {
  let dir: string;
  beforeAll(() => (dir = scratchDir("cordon-bad-input-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[]][] = [
    ["unknown field", ["--policy", '{"wirte": ["."]}']],
    ["wrong type", ["--policy", '{"write": "."}']],
    ["NUL byte", ["--policy", '{"write": ["a\\u0000b"]}']],
    ["missing file", ["--policy", "/nonexistent/policy.yaml"]],
    ["write root that is a file", ["-w", "/etc/hostname"]],
    ["write root that does not exist", ["-w", "/nonexistent-root"]],
    ["conflicting options", ["--mode", "bwrap", ...modeArgs("landlock")]],
    ["unknown option", ["--deny-wirte", "x"]],
    ["bad enum", ["--mode", "docker"]],
    ["unknown profile", ["--profile", "nope"]],
    ["bad reveal", ["--reveal", "everything"]],
    ["bad env", ["--env", "=x"]],
  ];
  for (const [name, args] of cases) {
    test(name, () => {
      const marker = join(dir, name.replace(/\W/g, "-"));
      const result = cordon([...args, "--", "touch", marker], { cwd: dir });
      expect(result.exitCode).toBe(125);
      expect(result.stderr.startsWith("cordon: ")).toBe(true);
      expect(result.stderr).not.toMatch(/\n\s+at |Error:|TypeError|undefined/);
      expect(existsSync(marker)).toBe(false);
    });
  }

  test("an empty command", () => {
    expect(cordon(["--"]).exitCode).toBe(125);
    expect(cordon([]).exitCode).toBe(125);
    expect(cordon(["--", ""]).exitCode).toBe(125);
  });

  test("malformed policies through the binary: always 125, never a stack trace", () => {
    const samples = [
      "{",
      "{}}",
      '{"write": [null]}',
      '{"env": {"clear": "yes"}}',
      '{"profiles": {"a b": {}}}',
      '{"fs": {"read": 1}}',
      '{"network_allowed": "no"}',
      '{"allowDegraded": ["all"]}',
      '{"mode": 1}',
      '{"denyRead": [""]}',
      '{"profile": ""}',
      "{" + "[".repeat(5000),
    ];
    for (const sample of samples) {
      const result = cordon(["--policy", sample, "--", "touch", join(dir, "fuzz-ran")], { cwd: dir });
      expect(result.exitCode).toBe(125);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a few hundred randomly malformed policy files, in every format, through the binary", () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const keys = [
      "write",
      "denyWrite",
      "denyRead",
      "network",
      "env",
      "mode",
      "allowConnect",
      "reveal",
      "profile",
      "profiles",
      "writable_roots",
      "fs",
      "wirte",
    ];
    const values = [
      "1",
      "true",
      "null",
      '"none"',
      '"x"',
      "[1]",
      '["/nonexistent-root"]',
      '{"a": 1}',
      "[[]]",
      '"\\u0000"',
      "-5",
      "70000",
    ];
    const files = scratchDir("cordon-fuzz-files-");
    try {
      for (let i = 0; i < 200; i++) {
        const fields = Array.from(
          { length: 1 + random(3) },
          () => `"${keys[random(keys.length)]}": ${values[random(values.length)]}`,
        );
        const json = `{${fields.join(", ")}}`;
        // Some valid JSON, some cut short; a YAML or TOML name exercises those parsers on the same text.
        const text = random(4) === 0 ? json.slice(0, random(json.length)) : json;
        const file = join(files, `p${i}.${["json", "yaml", "toml"][random(3)]}`);
        writeFileSync(file, text);
        const result = cordon(["--policy", file, "--", "touch", join(dir, "fuzz-ran")], { cwd: dir });
        // A random policy may happen to be valid: then the command runs, sandboxed, and may fail itself.
        expect([0, 1, 125]).toContain(result.exitCode);
        expect(result.stderr).not.toMatch(/\n\s+at |TypeError|RangeError|undefined is not/);
        if (result.exitCode === 125) expect(result.stderr.startsWith("cordon: ")).toBe(true);
      }
    } finally {
      rmSync(files, { recursive: true, force: true });
      rmSync(join(dir, "fuzz-ran"), { force: true });
    }
  }, 120_000);
});
