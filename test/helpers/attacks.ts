// Helpers for the hardening attack suite (test/hardening): building the small
// C attack programs, running an attack with and without cordon, and reading
// the one-line-per-attempt reports of try-syscall.
import { test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cordon, missingTool, run, type RunOptions, type RunResult, modeArgs } from "./cordon.ts";

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  ENXIO: 6,
  EBADF: 9,
  EACCES: 13,
  EBUSY: 16,
  EXDEV: 18,
  EINVAL: 22,
  ENOTTY: 25,
  EROFS: 30,
  ENOSYS: 38,
  ECONNREFUSED: 111,
} as const;
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
    const args = [
      "gcc",
      "-O1",
      "-Wall",
      ...(options.flags ?? []),
      "-o",
      out,
      ...(input === "-" ? ["-x", "c", "-"] : [input]),
    ];
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
    throw new Error(
      `no report for ${label} (exit ${result.exitCode})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
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
  return [...modeArgs(mode), "-q", ...writes, ...(options.extra ?? []), "--", ...command];
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

/**
 * Starts `sleep` on the host, as a target for signals and ptrace. `detached`
 * makes it the leader of its own session and process group (pgid = pid).
 */
export function hostSleeper(options: { env?: Record<string, string>; detached?: boolean } = {}): HostProcess {
  const child = Bun.spawn(["sleep", "1000"], {
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, ...options.env } as Record<string, string>,
    detached: options.detached ?? false,
  });
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

/**
 * An attack that cordon does not stop yet although it claims to (a hole,
 * reported with a suggested fix). The test asserts the attack is blocked and
 * runs as `test.failing`: it passes while the hole is open and fails, asking
 * to become a plain test, the day the hole is closed.
 */
export function holeTest(
  name: string,
  hole: string,
  reasons: (string | undefined)[],
  fn: () => void | Promise<void>,
): void {
  const reason = reasons.find((r) => r !== undefined);
  if (reason) test.skip(`${name} [skipped: ${reason}]`, fn);
  else test.failing(`${name} [KNOWN HOLE: ${hole}]`, fn);
}

const UNIX_LISTENER = `
import socket, sys
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\\0" + address[1:] if address.startswith("@") else address)
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    message = c.recv(100).decode(errors="replace")
    c.close()
    print(message, flush=True)
    if message == "sentinel":
        break
`;

/** A host unix-socket listener that logs the one message each client sends. */
export interface UnixListener {
  /** Connects once from the host with "sentinel", then returns every message received, in order. */
  finish(): Promise<string[]>;
  kill(): void;
}

/**
 * Starts a Python listener on `address` (a path, or "@name" for the abstract
 * namespace) and resolves once it accepts connections. `trySyscall` is the
 * try-syscall binary, used for the closing sentinel.
 */
export async function unixListener(address: string, trySyscall: string): Promise<UnixListener> {
  const child = Bun.spawn(["python3", "-c", UNIX_LISTENER, address], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the listener on ${address} did not start`);
    text += decoder.decode(value, { stream: true });
  }
  return {
    async finish() {
      run([trySyscall, "unix-connect", address, "sentinel"]);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await child.exited;
      return text.split("\n").filter((line) => line !== "" && line !== "ready");
    },
    kill: () => child.kill("SIGKILL"),
  };
}
