// Finding and executing the target program, with the shell's exit statuses:
// 127 when it is not found, 126 when it cannot be executed.
import { accessSync, constants, statSync } from "node:fs";
import { ERRNO, errnoName } from "../../ffi/constants.ts";
import { execve } from "../../ffi/libc.ts";

const DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

type Resolution = { found: true; path: Buffer } | { found: false; exitCode: 126 | 127; reason: string };

function isRegularExecutable(path: Buffer): "ok" | "missing" | "not-executable" {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return stat.isDirectory() ? "not-executable" : "missing";
  } catch {
    return "missing";
  }
  try {
    accessSync(path, constants.X_OK);
    return "ok";
  } catch {
    return "not-executable";
  }
}

function splitPath(pathVariable: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= pathVariable.length; i++) {
    if (i === pathVariable.length || pathVariable[i] === 0x3a) {
      parts.push(pathVariable.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** PATH lookup as execvp(3) does it, on raw bytes (a PATH entry need not be UTF-8). */
export function resolveCommand(name: Uint8Array, pathVariable: Buffer | undefined): Resolution {
  const nameBuffer = Buffer.from(name);
  const display = nameBuffer.toString("utf8");
  if (name.length === 0) return { found: false, exitCode: 127, reason: "empty command name" };
  if (nameBuffer.includes(0x2f)) {
    const state = isRegularExecutable(nameBuffer);
    if (state === "ok") return { found: true, path: nameBuffer };
    return state === "missing"
      ? { found: false, exitCode: 127, reason: `${display}: No such file or directory` }
      : { found: false, exitCode: 126, reason: `${display}: Permission denied` };
  }
  let sawNonExecutable = false;
  for (const directory of splitPath(pathVariable ?? Buffer.from(DEFAULT_PATH))) {
    const candidate = Buffer.concat([
      directory.length === 0 ? Buffer.from(".") : directory,
      Buffer.from("/"),
      nameBuffer,
    ]);
    const state = isRegularExecutable(candidate);
    if (state === "ok") return { found: true, path: candidate };
    if (state === "not-executable") sawNonExecutable = true;
  }
  return sawNonExecutable
    ? { found: false, exitCode: 126, reason: `${display}: Permission denied` }
    : { found: false, exitCode: 127, reason: `${display}: command not found` };
}

/**
 * execve; a file without a #! line runs under /bin/sh as execvp does.
 * Returns the exit status to use when every attempt failed.
 */
export function executeCommand(
  path: Buffer,
  argv: Uint8Array[],
  envp: Uint8Array[],
): { exitCode: number; reason: string } {
  const errno = execve(path, argv, envp);
  if (errno === ERRNO.ENOEXEC) {
    const shellErrno = execve(Buffer.from("/bin/sh"), [Buffer.from("sh"), path, ...argv.slice(1)], envp);
    return {
      exitCode: 126,
      reason: `${path.toString()}: cannot execute (exec format error; /bin/sh: errno ${shellErrno})`,
    };
  }
  const display = path.toString();
  if (errno === ERRNO.ENOENT || errno === ERRNO.ENOTDIR)
    return { exitCode: 127, reason: `${display}: No such file or directory` };
  return { exitCode: 126, reason: `${display}: cannot execute (${errnoName(errno)})` };
}
