// Shared helpers for tests that run the real compiled binary.
import { chmodSync, chownSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
/** The binary under test: dist/cordon unless CORDON_BIN names another build. */
export const CORDON = resolve(process.env.CORDON_BIN ?? join(REPO, "dist/cordon"));

export const NOBODY = 65534;
export const isRoot = process.getuid?.() === 0;

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
    stdin: options.stdin === undefined ? "ignore" : typeof options.stdin === "string" ? Buffer.from(options.stdin) : options.stdin,
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
