// Helpers for the hardening attack suite (test/hardening): building the small
// C attack programs, running an attack with and without cordon, and reading
// the one-line-per-attempt reports of try-syscall.
import { test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cordon, missingTool, run, type RunOptions, type RunResult } from "./cordon.ts";

export const ERRNO = { EPERM: 1, ENOENT: 2, ESRCH: 3, EBADF: 9, EACCES: 13, EXDEV: 18, EINVAL: 22, ENOSYS: 38, ECONNREFUSED: 111 } as const;
/** Exit status of a process killed by SIGSYS, as cordon reports it (128+N). */
export const KILLED_BY_SIGSYS = 128 + 31;

const C_SOURCES = resolve(import.meta.dir, "c");

/**
 * Host-side scratch space for files the sandbox must not touch and for the
 * compiled attack programs. Not under /tmp: bwrap mode gives the command a
 * private /tmp, so objects placed there would be invisible rather than
 * protected, and the attack programs could not be executed at all.
 */
export const HOST_SCRATCH_BASE = existsSync("/var/tmp") ? "/var/tmp" : tmpdir();

/** A fresh host directory outside every write root, readable by everyone. */
export function hostDir(prefix = "cordon-attack-"): string {
  const dir = mkdtempSync(join(HOST_SCRATCH_BASE, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** Why the C attacks cannot run here, or undefined. */
export const gccMissing = missingTool("gcc");

/** The attack programs of one test file, compiled once into a temp dir. */
export class AttackTools {
  readonly dir = hostDir("cordon-attack-tools-");

  /** Compiles test/helpers/c/NAME.c (or `source`) to an executable and returns its path. */
  compile(name: string, options: { source?: string; flags?: string[] } = {}): string {
    const out = join(this.dir, name);
    const input = options.source === undefined ? join(C_SOURCES, `${name}.c`) : "-";
    const args = ["gcc", "-O1", "-Wall", ...(options.flags ?? []), "-o", out, ...(input === "-" ? ["-x", "c", "-"] : [input])];
    const result = run(args, { stdin: options.source });
    if (result.exitCode !== 0) throw new Error(`gcc failed for ${name}:\n${result.stderr}`);
    chmodSync(out, 0o755);
    return out;
  }

  cleanup(): void {
    removeDir(this.dir);
  }
}

export interface Attempt {
  ok: boolean;
  errno?: number;
  detail?: string;
}

/** Parses try-syscall's "LABEL ok[ DETAIL]" / "LABEL errno=N" lines. */
export function attempts(stdout: string): Map<string, Attempt> {
  const found = new Map<string, Attempt>();
  for (const line of stdout.split("\n")) {
    const match = /^(\S+) (?:ok(?: (.*))?|errno=(\d+))$/.exec(line);
    if (!match) continue;
    const [, label, detail, errno] = match;
    found.set(label!, errno === undefined ? { ok: true, detail } : { ok: false, errno: Number(errno) });
  }
  return found;
}

/** One labelled attempt; throws when the program never reported it (it died first). */
export function attempt(result: RunResult, label: string): Attempt {
  const found = attempts(result.stdout).get(label);
  if (!found) {
    throw new Error(`no report for ${label} (exit ${result.exitCode})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return found;
}

export interface SandboxOptions extends RunOptions {
  /** Write roots (-w). */
  write?: string[];
  /** Extra cordon options before `--`. */
  extra?: string[];
}

/** cordon's argv for running `command` in `mode`, quietly (no landlock-only warning line). */
export function sandboxArgs(mode: string, command: string[], options: SandboxOptions = {}): string[] {
  const writes = (options.write ?? []).flatMap((path) => ["-w", path]);
  return ["--mode", mode, "-q", ...writes, ...(options.extra ?? []), "--", ...command];
}

/** Runs `command` under cordon in `mode`. */
export function sandboxed(mode: string, command: string[], options: SandboxOptions = {}): RunResult {
  return cordon(sandboxArgs(mode, command, options), options);
}

/** A host process the sandbox will attack, killed and reaped by `stop`. */
export interface HostProcess {
  pid: number;
  alive(): boolean;
  stop(): Promise<void>;
}

/** Starts `sleep` on the host, as a target for signals and ptrace. */
export function hostSleeper(env: Record<string, string> = {}): HostProcess {
  const child = Bun.spawn(["sleep", "1000"], { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, ...env } as Record<string, string> });
  return {
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null && processExists(child.pid),
    stop: async () => {
      child.kill("SIGKILL");
      await child.exited;
    },
  };
}

/** True while `pid` exists and is not a zombie. */
export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    const state = /\) (\S)/.exec(stat)?.[1];
    return state !== undefined && state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Reason to skip a Python-driven attack, or undefined. */
export const python3Missing = missingTool("python3");

/** Runs a Python 3 program given as source text with `args`. */
export function python(source: string, args: string[] = [], options: RunOptions = {}): RunResult {
  return run(["python3", "-c", source, ...args], options);
}

/** A random positive 31-bit number, for System V keys and names no other run uses. */
export function randomKey(): number {
  return 0x10000000 + Math.floor(Math.random() * 0x6fffffff);
}

/**
 * A test that skips loudly: when any reason is given, the test is reported as
 * skipped with the reason in its name (bun's skipIf takes no message).
 */
export function attackTest(name: string, reasons: (string | undefined)[], fn: () => void | Promise<void>): void {
  const reason = reasons.find((r) => r !== undefined);
  if (reason) test.skip(`${name} [skipped: ${reason}]`, fn);
  else test(name, fn);
}
