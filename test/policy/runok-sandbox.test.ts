// runok's own Linux sandbox tests, ported from its repository at the
// helper's last version (fohte/runok 58e9d7f, the parent of PR #121 that
// merged the helper into runok's binary):
// crates/runok-linux-sandbox/tests/sandbox_verification.rs. They run against
// the compiled binary under the helper's name, as runok called it, with
// policies serialized as runok's SandboxPolicy (every field present). Then
// the parsing rules of that struct, as serde applies them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORDON, cordon, missingTool, modeArgs, requireBinary, run, scratchDir } from "../helpers/cordon.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

interface SandboxPolicy {
  writable_roots: string[];
  read_only_subpaths: string[];
  read_deny_paths?: string[];
  network_allowed: boolean;
}

let bin: string;
const scratch: string[] = [];
beforeAll(() => {
  requireBinary();
  bin = scratchDir("cordon-runok-helper-");
  symlinkSync(CORDON, join(bin, "runok-linux-sandbox"));
});
afterAll(() => {
  for (const dir of [bin, ...scratch]) rmSync(dir, { recursive: true, force: true });
});

/** tempfile::tempdir(), canonical: a fresh directory under the system's temporary directory. */
function tempdir(): string {
  const dir = realpathSync(scratchDir("cordon-runok-"));
  scratch.push(dir);
  return dir;
}

/** runok's run_sandboxed: the helper with --policy JSON --cwd (the test's working directory) -- command. */
function runSandboxed(policy: SandboxPolicy | Record<string, unknown>, command: string[], cwd = process.cwd()) {
  return run([join(bin, "runok-linux-sandbox"), "--policy", JSON.stringify(policy), "--cwd", cwd, "--", ...command]);
}

describe("runok's sandbox_verification.rs, through the runok-linux-sandbox name", () => {
  // === Filesystem write restrictions ===

  test("sandbox_denies_write_outside_writable_roots", () => {
    const canonicalDir = tempdir();
    // A subdirectory is the only writable root, so the parent tmpdir is
    // visible inside the sandbox but not writable.
    const allowedDir = join(canonicalDir, "allowed");
    mkdirSync(allowedDir);
    const testFile = join(canonicalDir, "should_not_exist");
    const policy = { writable_roots: [allowedDir], read_only_subpaths: [], network_allowed: true };
    const result = runSandboxed(policy, ["sh", "-c", `touch ${testFile}`]);
    expect(result.exitCode).not.toBe(0);
    expect(existsSync(testFile)).toBe(false);
  });

  test("sandbox_allows_write_to_writable_root", () => {
    const canonicalDir = tempdir();
    const testFile = join(canonicalDir, "allowed_write_file");
    const policy = { writable_roots: [canonicalDir], read_only_subpaths: [], network_allowed: true };
    expect(runSandboxed(policy, ["sh", "-c", `touch ${testFile}`]).exitCode).toBe(0);
    expect(existsSync(testFile)).toBe(true);
  });

  test("sandbox_denies_write_to_read_only_subpath", () => {
    const canonicalDir = tempdir();
    const gitDir = join(canonicalDir, ".git");
    mkdirSync(gitDir);
    const testFile = join(gitDir, "should_not_write");
    const policy = { writable_roots: [canonicalDir], read_only_subpaths: [gitDir], network_allowed: true };
    expect(runSandboxed(policy, ["sh", "-c", `touch ${testFile}`]).exitCode).not.toBe(0);
    expect(existsSync(testFile)).toBe(false);
  });

  test("sandbox_allows_write_outside_read_only_subpath", () => {
    const canonicalDir = tempdir();
    const gitDir = join(canonicalDir, ".git");
    mkdirSync(gitDir);
    const srcDir = join(canonicalDir, "src");
    mkdirSync(srcDir);
    const testFile = join(srcDir, "allowed_file");
    const policy = { writable_roots: [canonicalDir], read_only_subpaths: [gitDir], network_allowed: true };
    expect(runSandboxed(policy, ["sh", "-c", `touch ${testFile}`]).exitCode).toBe(0);
    expect(existsSync(testFile)).toBe(true);
  });

  // === Network restrictions ===

  test.skipIf(missingTool("python3") !== undefined)("sandbox_denies_network_when_not_allowed", () => {
    const canonicalDir = tempdir();
    const policy = { writable_roots: [canonicalDir], read_only_subpaths: [], network_allowed: false };
    // python3 must run inside the sandbox, or the test would pass vacuously.
    expect(runSandboxed(policy, ["python3", "--version"]).exitCode).toBe(0);
    const connect = "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.connect(('1.1.1.1', 80))";
    const result = runSandboxed(policy, ["python3", "-c", connect]);
    expect(result.exitCode).not.toBe(0);
    // Refused by the sandbox, not by an unreachable network.
    expect(result.stderr).toContain("PermissionError");
  });

  // === Read access ===

  test("sandbox_allows_read_when_writes_denied", () => {
    const policy = { writable_roots: [], read_only_subpaths: [], network_allowed: true };
    // /etc/hostname may be missing in a container; /etc/passwd is always there.
    const file = existsSync("/etc/hostname") ? "/etc/hostname" : "/etc/passwd";
    expect(runSandboxed(policy, ["sh", "-c", `cat ${file}`]).exitCode).toBe(0);
  });

  // === Basic execution ===

  test("sandbox_runs_command_successfully", () => {
    const policy = { writable_roots: [tempdir()], read_only_subpaths: [], network_allowed: true };
    expect(runSandboxed(policy, ["true"]).exitCode).toBe(0);
  });

  test("sandbox_preserves_nonzero_exit_code", () => {
    const policy = { writable_roots: [], read_only_subpaths: [], network_allowed: true };
    expect(runSandboxed(policy, ["false"]).exitCode).toBe(1);
  });
});

describe("runok's SandboxPolicy parsed as serde parses it", () => {
  test("a missing network_allowed is an error (exit 125), not network allowed", () => {
    const dir = tempdir();
    const marker = join(dir, "ran");
    const result = runSandboxed({ writable_roots: [dir], read_only_subpaths: [] }, ["touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("network_allowed");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(marker)).toBe(false);
  });

  test("missing writable_roots or read_only_subpaths are errors too; read_deny_paths may be left out", () => {
    for (const policy of [
      { read_only_subpaths: [], network_allowed: false },
      { writable_roots: [], network_allowed: false },
    ]) {
      const result = runSandboxed(policy, ["true"]);
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toMatch(/writable_roots|read_only_subpaths/);
    }
    expect(
      runSandboxed({ writable_roots: [], read_only_subpaths: [], network_allowed: false }, ["true"]).exitCode,
    ).toBe(0);
  });

  test("unknown fields are ignored, as a newer runok may add some", () => {
    const dir = tempdir();
    const policy = {
      writable_roots: [dir],
      read_only_subpaths: [],
      network_allowed: false,
      allowed_domains: ["example.com"],
    };
    const result = runSandboxed(policy, ["sh", "-c", `touch ${dir}/ok`]);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(dir, "ok"))).toBe(true);
  });

  test("a field of the wrong type is still an error", () => {
    const result = runSandboxed({ writable_roots: [], read_only_subpaths: [], network_allowed: "no" }, ["true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("network_allowed");
  });
});

describe.each(MODES)("runok's SandboxPolicy in %s mode", (mode) => {
  const viaRun = (policy: SandboxPolicy, cwd: string, command: string[]) =>
    cordon(["run", ...modeArgs(mode), "-q", "--policy", JSON.stringify(policy), "--cwd", cwd, "--", ...command]);

  test("a relative read_deny_paths entry is denied in every writable root, wherever the command runs", () => {
    const first = tempdir();
    const second = tempdir();
    mkdirSync(join(first, "src"));
    for (const root of [first, second]) writeFileSync(join(root, ".env"), `SECRET-OF-${root}\n`);
    const policy = {
      writable_roots: [first, second],
      read_only_subpaths: [],
      read_deny_paths: [".env"],
      network_allowed: false,
    };
    const fromSrc = viaRun(policy, join(first, "src"), ["sh", "-c", `cat ../.env ${second}/.env ${first}/.env`]);
    expect(fromSrc.stdout).not.toContain("SECRET");
    const fromRoot = viaRun(policy, first, ["sh", "-c", `cat .env ${second}/.env`]);
    expect(fromRoot.stdout).not.toContain("SECRET");
    expect(readFileSync(join(second, ".env"), "utf8")).toContain("SECRET");
  });

  test("with a writable root under /tmp, the rest of /tmp is the host's and read-only", () => {
    const parent = tempdir();
    if (!parent.startsWith("/tmp/")) throw new Error(`expected a scratch directory under /tmp, got ${parent}`);
    const allowed = join(parent, "allowed");
    mkdirSync(allowed);
    writeFileSync(join(parent, "host-file"), "from the host\n");
    const policy = { writable_roots: [allowed], read_only_subpaths: [], network_allowed: false };
    const result = viaRun(policy, allowed, [
      "sh",
      "-c",
      `cat ${parent}/host-file; touch ${parent}/outside && echo WROTE-OUTSIDE; ` +
        `touch ${allowed}/inside && echo WROTE-INSIDE`,
    ]);
    expect(result.stdout).toContain("from the host");
    expect(result.stdout).not.toContain("WROTE-OUTSIDE");
    expect(existsSync(join(parent, "outside"))).toBe(false);
    expect(result.stdout).toContain("WROTE-INSIDE");
    expect(existsSync(join(allowed, "inside"))).toBe(true);
  });
});
