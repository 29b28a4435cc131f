// Shared helpers for tests that run the real compiled binary.
import { chmodSync, chownSync, existsSync, mkdtempSync } from "node:fs";
import type { Subprocess } from "bun";
import { constants, tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
/** The binary under test: dist/cordon unless CORDON_BIN names another build. */
export const CORDON = resolve(process.env.CORDON_BIN ?? join(REPO, "dist/cordon"));

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

/**
 * `--mode MODE`; for landlock-only mode run by root, also the acceptance of
 * its metadata gap, which cordon refuses by default as uid 0 (a test of that
 * refusal passes the options itself).
 */
export function modeArgs(mode: string): string[] {
  return mode === "landlock" && isRoot ? ["--mode", mode, "--allow-degraded", "metadata"] : ["--mode", mode];
}

export function requireBinary(): void {
  if (!existsSync(CORDON)) throw new Error(`${CORDON} is missing: run \`npm run build\` first`);
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: string | Uint8Array;
  /** Run as the unprivileged `nobody` user through setpriv (needs root). */
  asNobody?: boolean;
  timeoutMs?: number;
}

/** A command line, optionally dropped to nobody. */
export function commandLine(argv: string[], asNobody = false): string[] {
  return asNobody
    ? ["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--inh-caps=-all", ...argv]
    : argv;
}

export function run(argv: string[], options: RunOptions = {}): RunResult {
  const result = Bun.spawnSync(commandLine(argv, options.asNobody), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env } as Record<string, string>,
    stdin:
      options.stdin === undefined
        ? "ignore"
        : typeof options.stdin === "string"
          ? Buffer.from(options.stdin)
          : options.stdin,
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 60_000,
  });
  const signal = result.signalCode ? 128 : 0;
  return {
    exitCode: result.exitCode ?? signal,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

/** Runs the real cordon binary with `args`. */
export function cordon(args: string[], options: RunOptions = {}): RunResult {
  requireBinary();
  return run([CORDON, ...args], options);
}

/** A fresh directory that `owner` can write (nobody for unprivileged tests). */
export function scratchDir(prefix = "cordon-test-", owner?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (owner !== undefined) {
    chownSync(dir, owner, owner);
    chmodSync(dir, 0o755);
  }
  return dir;
}

/** The reason a tool-dependent test must skip, or undefined when `tool` is on PATH. */
export function missingTool(tool: string): string | undefined {
  return Bun.which(tool) ? undefined : `${tool} is not installed`;
}

// ---- Asynchronous runs: for tests that must keep this process's event loop
// turning (a TCP listener), stream large data, signal cordon, or pass extra
// descriptors.

export interface StartOptions extends RunOptions {
  /** Descriptors handed to the child as 3, 4, ... */
  extraFds?: number[];
  /** A file read as stdin (instead of `stdin`). */
  stdinFile?: string;
  /** Where stdout goes: a pipe (default) or a file. */
  stdoutFile?: string;
}

/** Starts `argv` (optionally as nobody) without waiting for it. */
export function start(argv: string[], options: StartOptions = {}): Subprocess {
  const stdin = options.stdinFile
    ? Bun.file(options.stdinFile)
    : options.stdin === undefined
      ? "ignore"
      : new Blob([options.stdin]);
  return Bun.spawn(commandLine(argv, options.asNobody), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env } as Record<string, string>,
    stdio: [stdin, options.stdoutFile ? Bun.file(options.stdoutFile) : "pipe", "pipe", ...(options.extraFds ?? [])],
    timeout: options.timeoutMs ?? 60_000,
  });
}

/** Starts the real cordon binary. */
export function startCordon(args: string[], options: StartOptions = {}): Subprocess {
  requireBinary();
  return start([CORDON, ...args], options);
}

/** The status a shell would report: the exit code, or 128+N for signal N. */
export function statusOf(proc: Subprocess): number {
  if (proc.exitCode !== null) return proc.exitCode;
  const signal = proc.signalCode ? constants.signals[proc.signalCode as keyof typeof constants.signals] : undefined;
  return 128 + (signal ?? 0);
}

async function textOf(stream: unknown): Promise<string> {
  return stream instanceof ReadableStream ? await new Response(stream).text() : "";
}

/** Waits for a started process and collects its output. */
export async function finish(proc: Subprocess): Promise<RunResult> {
  const [stdout, stderr] = await Promise.all([textOf(proc.stdout), textOf(proc.stderr), proc.exited]);
  return { exitCode: statusOf(proc), stdout, stderr };
}

/** Runs the real cordon binary asynchronously. */
export async function cordonAsync(args: string[], options: StartOptions = {}): Promise<RunResult> {
  return finish(startCordon(args, options));
}

/** Polls `condition` until it holds; throws after `limitMs` (a safety net, not a timing assertion). */
export async function waitFor(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A name no other test run uses. */
export function uniqueName(prefix = "cordon-test"): string {
  return `${prefix}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * A tool from the system directories: the unprivileged user cannot reach
 * per-user shims such as ~/.pyenv, and the sandbox must not depend on them.
 */
export function systemTool(tool: string): string | undefined {
  return Bun.which(tool, { PATH: SYSTEM_PATH }) ?? undefined;
}

/** The reason a test needing `tool` in the system directories must skip. */
export function missingSystemTool(tool: string): string | undefined {
  return systemTool(tool) ? undefined : `${tool} is not installed in ${SYSTEM_PATH}`;
}

/** Why tests cannot run a case as the unprivileged `nobody` here, or undefined when they can. */
export function nobodyUnavailable(): string | undefined {
  if (!isRoot) return "needs root to switch to nobody";
  const setpriv = missingSystemTool("setpriv");
  if (setpriv) return setpriv;
  if (run(["test", "-x", CORDON], { asNobody: true }).exitCode !== 0) return `nobody cannot execute ${CORDON}`;
  return undefined;
}
