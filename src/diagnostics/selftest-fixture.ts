// The host side of `cordon selftest`: a scratch tree with a write root, a
// write-denied directory, a read-denied file and a place outside every root,
// plus ways to run a command with and without cordon. Everything is removed
// by `remove()`.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { messageOf } from "../errors.ts";
import type { SandboxMode } from "../plan/sandbox.ts";
import { isCompiled } from "../stage1/self.ts";

export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Not /tmp: bwrap gives the command a private /tmp, so a write there would prove nothing. */
const SCRATCH_BASE = existsSync("/var/tmp") ? "/var/tmp" : tmpdir();

/** The argv that starts this very cordon (the binary, or bun + script in development). */
function cordonCommand(): string[] {
  return isCompiled ? [process.execPath] : [process.execPath, Bun.main];
}

export async function runCommand(
  cmd: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  try {
    const child = Bun.spawn({
      cmd,
      cwd: options.cwd,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: process.env,
      timeout: options.timeoutMs ?? 30_000,
    });
    const [stdout, stderr, status] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { status, stdout, stderr };
  } catch (error) {
    return { status: 127, stdout: "", stderr: messageOf(error) };
  }
}

export class SelftestFixture {
  readonly base = mkdtempSync(join(SCRATCH_BASE, "cordon-selftest-"));
  /** The one write root. */
  readonly root = join(this.base, "root");
  /** Write-denied, inside the write root. */
  readonly denied = join(this.root, "denied");
  /** Read-denied, inside the write root. */
  readonly secret = join(this.root, "secret.txt");
  /**
   * A directory inside the write root with no denied path in it: landlock-only
   * mode cannot create entries directly next to a denied path (a documented cost).
   */
  readonly work = join(this.root, "work");
  /** Outside every root. */
  readonly outside = join(this.base, "outside");
  readonly secretText = `cordon-selftest-secret-${process.pid}-${Date.now()}`;

  constructor() {
    chmodSync(this.base, 0o755);
    mkdirSync(this.denied, { recursive: true });
    mkdirSync(this.work);
    mkdirSync(this.outside);
    writeFileSync(this.secret, `${this.secretText}\n`, { mode: 0o644 });
  }

  /**
   * Runs `cmd` under cordon in `mode` with the fixture's policy. As root,
   * landlock-only mode runs with its metadata gap accepted: a run refuses it
   * by default (doctor says so), and the probes test the mode's mechanics.
   */
  sandboxed(mode: SandboxMode, cmd: string[]): Promise<CommandResult> {
    const acceptance = mode === "landlock" && process.getuid?.() === 0 ? ["--allow-degraded", "metadata"] : [];
    const policy = [
      "--mode",
      mode,
      ...acceptance,
      "-q",
      "-w",
      this.root,
      "--deny-write",
      this.denied,
      "--deny-read",
      this.secret,
      "-C",
      this.root,
    ];
    return runCommand([...cordonCommand(), "run", ...policy, "--", ...cmd]);
  }

  plain(cmd: string[]): Promise<CommandResult> {
    return runCommand(cmd, { cwd: this.root });
  }

  remove(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}
