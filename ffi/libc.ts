// The libc entry points cordon calls directly. Nothing here decides policy:
// each wrapper makes one call and turns a -1 return into a SyscallError that
// names the call and its errno.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { errnoName } from "./constants.ts";
import { HOST_ARCH, NR } from "./syscalls.ts";

const { i32, i64, u64, ptr: P } = FFIType;

const SYMBOLS = {
  syscall: { args: [i64, u64, u64, u64, u64, u64, u64], returns: i64 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  execve: { args: [P, P, P], returns: i32 },
  open: { args: [P, i32, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  signal: { args: [i32, u64], returns: u64 },
  waitpid: { args: [i32, P, i32], returns: i32 },
  tcgetpgrp: { args: [i32], returns: i32 },
  getpgrp: { args: [], returns: i32 },
  setrlimit: { args: [i32, P], returns: i32 },
  __errno_location: { args: [], returns: P },
} as const;

/** glibc first, then musl's names (Alpine and static-musl distributions). */
function libcCandidates(arch: string = HOST_ARCH): string[] {
  return ["libc.so.6", `libc.musl-${arch}.so.1`, `/lib/ld-musl-${arch}.so.1`];
}

function openLibc() {
  const failures: string[] = [];
  for (const name of libcCandidates()) {
    if (name.startsWith("/") && !existsSync(name)) continue;
    try {
      return dlopen(name, SYMBOLS);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(`cannot load the C library (${failures.join("; ")})`);
}

let cached: ReturnType<typeof openLibc> | undefined;
function libc() {
  cached ??= openLibc();
  return cached.symbols;
}

export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: ${errnoName(errno)}`);
    this.name = "SyscallError";
  }
}

export function lastErrno(): number {
  const location = libc().__errno_location();
  return location === null ? 0 : read.i32(location, 0);
}

function check(call: string, result: number): number {
  if (result === -1) throw new SyscallError(call, lastErrno());
  return result;
}

type Arg = number | bigint | Pointer | null;
const asArg = (value: Arg): number | bigint => (value === null ? 0 : (value as number | bigint));

/** Raw syscall(2); returns the result or -1, leaving errno to the caller. */
export function rawSyscall(nr: number, ...args: Arg[]): number {
  const a = [0, 1, 2, 3, 4, 5].map((i) => asArg(args[i] ?? 0));
  return Number(libc().syscall(nr, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!));
}

export function syscall(name: keyof typeof NR, ...args: Arg[]): number {
  return check(name, rawSyscall(NR[name], ...args));
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check(`prctl(${option})`, libc().prctl(option, a2, a3, a4, a5));
}

export function openPath(path: string, flags: number): number {
  const bytes = Buffer.from(`${path}\0`);
  return check(`open(${path})`, libc().open(ptr(bytes), flags, 0));
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

export function resetSignalToDefault(signal: number): void {
  libc().signal(signal, 0);
}

/** waitpid(pid, WNOHANG); returns the reaped pid, 0 if still running, -1 on error. */
export function reapIfExited(pid: number): number {
  const status = new Int32Array(1);
  return libc().waitpid(pid, ptr(status), 1);
}

export function terminalForegroundGroup(fd: number): number {
  return libc().tcgetpgrp(fd);
}

export function processGroup(): number {
  return libc().getpgrp();
}

export function setRlimit(resource: number, soft: bigint, hard: bigint): void {
  const limits = new BigUint64Array([soft, hard]);
  check(`setrlimit(${resource})`, libc().setrlimit(resource, ptr(limits)));
}

/**
 * execve(2) with byte-exact argv and envp. Returns only on failure, with errno.
 * Every buffer stays referenced here until the call returns.
 */
export function execve(path: Uint8Array, argv: Uint8Array[], envp: Uint8Array[]): number {
  const cstr = (bytes: Uint8Array) => {
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    return out;
  };
  const pathZ = cstr(path);
  const argBuffers = argv.map(cstr);
  const envBuffers = envp.map(cstr);
  const pointers = (buffers: Uint8Array[]) => {
    const table = new BigUint64Array(buffers.length + 1);
    buffers.forEach((buffer, i) => (table[i] = BigInt(ptr(buffer))));
    return table;
  };
  const argTable = pointers(argBuffers);
  const envTable = pointers(envBuffers);
  libc().execve(ptr(pathZ), ptr(argTable), ptr(envTable));
  const errno = lastErrno();
  // Keep the buffers alive past the call.
  void [argBuffers, envBuffers, pathZ, argTable, envTable];
  return errno;
}

export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;

/** rt_sigprocmask on the calling thread; returns the previous mask. */
export function changeSignalMask(how: number, mask: bigint): bigint {
  const set = new BigUint64Array([mask]);
  const old = new BigUint64Array(1);
  if (rawSyscall(NR.rt_sigprocmask, how, ptr(set), ptr(old), 8) === -1)
    throw new SyscallError("rt_sigprocmask", lastErrno());
  return old[0]!;
}

export function signalBit(signal: number): bigint {
  return 1n << BigInt(signal - 1);
}
