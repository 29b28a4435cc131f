// The user's terminal is shared with the sandbox (job control, prompts), so a
// command can leave it changed: another process group in the foreground (one
// that then reads what the user types next), raw mode and no echo, or
// O_NONBLOCK on the open file it shares with the user's shell (whose next
// read then fails with EAGAIN), exclusive mode (every later open of the
// terminal by the user, /dev/tty included, fails with EBUSY: no pager, no
// password prompt), or output suspended (the shell seems frozen). stage 1
// records what it can read before the run and puts it back after it, once
// every process of the sandbox is gone. What it could not put back (the line
// discipline, a hangup, locked settings) seccomp refuses.
import {
  KERNEL_TERMIOS_SIZE,
  SIGNALS,
  TCGETS,
  TCOON,
  TCSETS,
  TCXONC,
  TIOCGEXCL,
  TIOCNXCL,
  TIOCSPGRP,
} from "../../ffi/constants.ts";
import {
  changeSignalMask,
  fileStatusFlags,
  ioctlBuffer,
  ioctlValue,
  setFileStatusFlags,
  SIG_BLOCK,
  SIG_SETMASK,
  signalBit,
  terminalForegroundGroup,
} from "../../ffi/libc.ts";

export interface TerminalState {
  /** The terminal behind the first of 0, 1, 2 that is one; undefined without a terminal. */
  tty?: { fd: number; foreground: number; termios: Uint8Array; exclusive: boolean };
  /** The status flags (O_NONBLOCK, O_APPEND) of the open files behind 0, 1 and 2 (a pipe too); -1 if closed. */
  statusFlags: number[];
}

const STDIO = [0, 1, 2];

function terminalOfStdio(): TerminalState["tty"] {
  for (const fd of STDIO) {
    const foreground = terminalForegroundGroup(fd);
    if (foreground <= 0) continue;
    const termios = new Uint8Array(KERNEL_TERMIOS_SIZE);
    if (ioctlBuffer(fd, TCGETS, termios) !== 0) continue;
    return { fd, foreground, termios, exclusive: isExclusive(fd) };
  }
  return undefined;
}

function isExclusive(fd: number): boolean {
  const flag = new Int32Array(1);
  return ioctlBuffer(fd, TIOCGEXCL, new Uint8Array(flag.buffer)) === 0 && flag[0] !== 0;
}

/** stdio as it is now: the terminal, if any, and the status flags of all three. */
export function saveTerminal(): TerminalState {
  return { tty: terminalOfStdio(), statusFlags: STDIO.map(fileStatusFlags) };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Puts back the status flags, the terminal's output, exclusive mode,
 * settings and foreground process group where they changed. The terminal ioctls raise SIGTTOU in a
 * background process: it is blocked meanwhile, which makes them succeed.
 */
export function restoreTerminal(saved: TerminalState): void {
  for (const fd of STDIO) {
    const flags = saved.statusFlags[fd]!;
    if (flags >= 0 && fileStatusFlags(fd) !== flags) setFileStatusFlags(fd, flags);
  }
  const tty = saved.tty;
  if (!tty) return;
  const previousMask = changeSignalMask(SIG_BLOCK, signalBit(SIGNALS.SIGTTOU));
  try {
    // The kernel offers no way to read whether output is suspended: restart it
    // always (a no-op when it runs), first, so nothing written from here on blocks.
    ioctlValue(tty.fd, TCXONC, TCOON);
    if (!tty.exclusive && isExclusive(tty.fd)) ioctlValue(tty.fd, TIOCNXCL, 0);
    const now = new Uint8Array(KERNEL_TERMIOS_SIZE);
    if (ioctlBuffer(tty.fd, TCGETS, now) === 0 && !sameBytes(now, tty.termios)) {
      ioctlBuffer(tty.fd, TCSETS, tty.termios);
    }
    if (terminalForegroundGroup(tty.fd) !== tty.foreground) {
      // Fails harmlessly when that group no longer exists (the user's shell takes the terminal back itself).
      ioctlBuffer(tty.fd, TIOCSPGRP, new Uint8Array(new Int32Array([tty.foreground]).buffer));
    }
  } finally {
    changeSignalMask(SIG_SETMASK, previousMask);
  }
}
