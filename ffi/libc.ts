// The libc entry points cordon calls directly. Nothing here decides policy:
// each wrapper makes one call and turns a -1 return into a SyscallError that
// names the call and its errno.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import {
  AT_EMPTY_PATH,
  ERRNO,
  errnoName,
  F_GETFL,
  F_SETFD,
  F_SETFL,
  STATX_INO,
  STATX_MNT_ID,
  STATX_MNT_ID_UNIQUE,
  STATX_TYPE,
} from "./constants.ts";
import { decodeStatx, STATFS_FLAGS_WORD, STATFS_WORDS, STATX_SIZE, type StatxFields } from "./structs.ts";
import { HOST_ARCH, NR } from "./syscalls.ts";

const { i32, i64, u64, ptr: P } = FFIType;

const SYMBOLS = {
  syscall: { args: [i64, u64, u64, u64, u64, u64, u64], returns: i64 },
  prctl: { args: [i32, u64, u64, u64, u64], returns: i32 },
  execve: { args: [P, P, P], returns: i32 },
  open: { args: [P, i32, i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  dup2: { args: [i32, i32], returns: i32 },
  isatty: { args: [i32], returns: i32 },
  // Variadic in C; a fixed third integer argument is ABI-safe on x86_64 and aarch64.
  fcntl: { args: [i32, i32, u64], returns: i32 },
  signal: { args: [i32, u64], returns: u64 },
  waitpid: { args: [i32, P, i32], returns: i32 },
  tcgetpgrp: { args: [i32], returns: i32 },
  getpgrp: { args: [], returns: i32 },
  setsid: { args: [], returns: i32 },
  setrlimit: { args: [i32, P], returns: i32 },
  getrlimit: { args: [i32, P], returns: i32 },
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

/** Raw syscall(2); returns the result or -1, leaving errno to the caller. Allocates nothing. */
export function rawSyscall(nr: number, a0: Arg = 0, a1: Arg = 0, a2: Arg = 0, a3: Arg = 0, a4: Arg = 0, a5: Arg = 0) {
  return Number(libc().syscall(nr, asArg(a0), asArg(a1), asArg(a2), asArg(a3), asArg(a4), asArg(a5)));
}

export function syscall(name: keyof typeof NR, ...args: Arg[]): number {
  const [a0, a1, a2, a3, a4, a5] = args;
  return check(name, rawSyscall(NR[name], a0, a1, a2, a3, a4, a5));
}

// Path arguments go through two reused buffers (no call here takes more than
// two paths): stage 2 walks thousands of components before every command, and
// a Buffer per call costs more than the calls themselves.
const PATH_MAX = 4096;
const pathBuffers = [new Uint8Array(PATH_MAX), new Uint8Array(PATH_MAX)] as const;
let pathPointers: [Pointer, Pointer] | undefined;
const utf8 = new TextEncoder();

/**
 * `path` as a NUL-terminated string in reused buffer `slot`, valid until the
 * next call with that slot. Bytes are taken as they are: a path need not be UTF-8.
 */
export function pathArgument(call: string, path: string | Uint8Array, slot: 0 | 1 = 0): Pointer {
  const buffer = pathBuffers[slot];
  const length = typeof path === "string" ? encodeText(call, path, buffer) : copyBytes(call, path, buffer);
  buffer[length] = 0;
  pathPointers ??= [ptr(pathBuffers[0]), ptr(pathBuffers[1])];
  return pathPointers[slot];
}

function encodeText(call: string, path: string, buffer: Uint8Array): number {
  // A NUL would silently cut the path short: open a parent instead of the name asked for.
  if (path.includes("\0")) throw new SyscallError(`${call}(${JSON.stringify(path)})`, ERRNO.EINVAL);
  const { read, written } = utf8.encodeInto(path, buffer.subarray(0, PATH_MAX - 1));
  if (read !== path.length) throw new SyscallError(`${call}(${path.slice(0, 64)}...)`, ERRNO.ENAMETOOLONG);
  return written;
}

function copyBytes(call: string, path: Uint8Array, buffer: Uint8Array): number {
  const shown = `${call}(${Buffer.from(path).toString("latin1").slice(0, 64)})`;
  if (path.includes(0)) throw new SyscallError(shown, ERRNO.EINVAL);
  if (path.length >= PATH_MAX) throw new SyscallError(shown, ERRNO.ENAMETOOLONG);
  buffer.set(path);
  return path.length;
}

/** A -1 from a call on `path`: the error names the call and the path. */
function checkPath(call: string, path: string | Uint8Array, result: number): number {
  if (result === -1) {
    const shown = typeof path === "string" ? path : Buffer.from(path).toString("latin1");
    throw new SyscallError(`${call}(${shown})`, lastErrno());
  }
  return result;
}

export function unshare(flags: number): void {
  check("unshare", rawSyscall(NR.unshare, flags));
}

/** openat2(2) with an encoded struct open_how (encodeOpenHow, made once by the caller). */
export function openat2(dirFd: number, path: string | Uint8Array, how: BigUint64Array): number {
  return checkPath(
    "openat2",
    path,
    rawSyscall(NR.openat2, dirFd, pathArgument("openat2", path), ptr(how), how.byteLength),
  );
}

export function openat(dirFd: number, path: string, flags: number, mode: number): number {
  return checkPath("openat", path, rawSyscall(NR.openat, dirFd, pathArgument("openat", path), flags, mode));
}

export function mkdirat(dirFd: number, path: string, mode: number): void {
  checkPath("mkdirat", path, rawSyscall(NR.mkdirat, dirFd, pathArgument("mkdirat", path), mode));
}

export function unlinkat(dirFd: number, path: string, flags: number): void {
  checkPath("unlinkat", path, rawSyscall(NR.unlinkat, dirFd, pathArgument("unlinkat", path), flags));
}

const statxBuffer = new Uint8Array(STATX_SIZE);
const statxView = new DataView(statxBuffer.buffer);
let statxPointer: Pointer | undefined;
/** STATX_MNT_ID_UNIQUE until a kernel refuses it; then the older, reusable STATX_MNT_ID. */
let mountIdMask = STATX_MNT_ID_UNIQUE;

/**
 * statx(2) for type, inode, device and mount id (`fd` itself when `path` is
 * "" and flags has AT_EMPTY_PATH). Mount ids are the never-reused kind where
 * the kernel has them (6.8+); `mask` says which kind came back
 * (STATX_MNT_ID_UNIQUE or STATX_MNT_ID; neither before Linux 5.8).
 */
export function statx(dirFd: number, path: string, flags: number): StatxFields {
  statxPointer ??= ptr(statxBuffer);
  for (;;) {
    const result = rawSyscall(
      NR.statx,
      dirFd,
      pathArgument("statx", path),
      flags,
      STATX_TYPE | STATX_INO | mountIdMask,
      statxPointer,
    );
    if (result !== -1) return decodeStatx(statxView);
    const errno = lastErrno();
    if (errno !== ERRNO.EINVAL || mountIdMask === STATX_MNT_ID) throw new SyscallError(`statx(${path})`, errno);
    mountIdMask = STATX_MNT_ID;
  }
}

/** statx of the descriptor itself. */
export function fstatx(fd: number): StatxFields {
  return statx(fd, "", AT_EMPTY_PATH);
}

const statfsWords = new BigUint64Array(STATFS_WORDS);
let statfsPointer: Pointer | undefined;

/** fstatfs(2)'s f_flags (ST_RDONLY, ST_NOSUID, ...) of the mount `fd` is on. */
export function fstatfsFlags(fd: number): number {
  statfsPointer ??= ptr(statfsWords);
  check("fstatfs", rawSyscall(NR.fstatfs, fd, statfsPointer));
  return Number(statfsWords[STATFS_FLAGS_WORD]);
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

/** dup2(2): `from` also at `to`, which (as every dup2 result) is not close-on-exec. */
export function duplicateOnto(from: number, to: number): void {
  check(`dup2(${from}, ${to})`, libc().dup2(from, to));
}

/** isatty(3): `fd` is a terminal (without node:tty, whose module costs every run milliseconds to load). */
export function isTerminal(fd: number): boolean {
  return libc().isatty(fd) === 1;
}

/** fcntl(fd, F_GETFL): the open file's status flags, or -1 when `fd` is not open. */
export function fileStatusFlags(fd: number): number {
  return libc().fcntl(fd, F_GETFL, 0);
}

/** fcntl(fd, F_SETFL, flags); false on failure. */
export function setFileStatusFlags(fd: number, flags: number): boolean {
  return libc().fcntl(fd, F_SETFL, flags) === 0;
}

/** fcntl(fd, F_SETFD, 0): the descriptor survives the next execve. */
export function clearCloseOnExec(fd: number): void {
  check(`fcntl(${fd}, F_SETFD)`, libc().fcntl(fd, F_SETFD, 0));
}

export function resetSignalToDefault(signal: number): void {
  libc().signal(signal, 0);
}

/** waitpid(pid, WNOHANG); returns the reaped pid, 0 if still running, -1 on error. */
export function reapIfExited(pid: number): number {
  const status = new Int32Array(1);
  return libc().waitpid(pid, ptr(status), 1);
}

/** pidfd_open(2): a descriptor that names process `pid` for as long as it is held; -1 if it is gone. */
export function pidfdOpen(pid: number): number {
  return rawSyscall(NR.pidfd_open, pid, 0);
}

/** pidfd_send_signal(2); false if the process is gone (or cannot be signalled). */
export function pidfdSignal(pidfd: number, signal: number): boolean {
  return rawSyscall(NR.pidfd_send_signal, pidfd, signal, null, 0) === 0;
}

/** ioctl(2) with a buffer argument; the raw return (-1 on failure). */
export function ioctlBuffer(fd: number, request: number, buffer: Uint8Array): number {
  return rawSyscall(NR.ioctl, fd, request, ptr(buffer));
}

/** ioctl(2) with an integer argument (or none); the raw return (-1 on failure). */
export function ioctlValue(fd: number, request: number, value: number): number {
  return rawSyscall(NR.ioctl, fd, request, value);
}

export function terminalForegroundGroup(fd: number): number {
  return libc().tcgetpgrp(fd);
}

export function processGroup(): number {
  return libc().getpgrp();
}

/** setsid(2): a new session and process group, led by the caller, with no controlling terminal. */
export function newSession(): number {
  return check("setsid", libc().setsid());
}

/** The soft and hard limit of `resource` (RLIM_INFINITY is 2^64-1). */
export function getRlimit(resource: number): { soft: bigint; hard: bigint } {
  const limits = new BigUint64Array(2);
  check(`getrlimit(${resource})`, libc().getrlimit(resource, ptr(limits)));
  return { soft: limits[0]!, hard: limits[1]! };
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
