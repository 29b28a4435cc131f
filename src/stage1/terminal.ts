// The user's terminal is shared with the sandbox (job control, prompts), so a
// command can leave it changed: another process group in the foreground (one
// that then reads what the user types next), or raw mode and no echo. stage 1
// records the terminal before the run and puts both back after it, once
// every process of the sandbox is gone.
import { KERNEL_TERMIOS_SIZE, SIGNALS, TCGETS, TCSETS, TIOCSPGRP } from "../../ffi/constants.ts";
import {
  changeSignalMask,
  ioctlBuffer,
  SIG_BLOCK,
  SIG_SETMASK,
  signalBit,
  terminalForegroundGroup,
} from "../../ffi/libc.ts";

export interface TerminalState {
  fd: number;
  foreground: number;
  termios: Uint8Array;
}

/** The terminal on stdin, stdout or stderr (the first that is one), as it is now. */
export function saveTerminal(): TerminalState | undefined {
  for (const fd of [0, 1, 2]) {
    const foreground = terminalForegroundGroup(fd);
    if (foreground <= 0) continue;
    const termios = new Uint8Array(KERNEL_TERMIOS_SIZE);
    if (ioctlBuffer(fd, TCGETS, termios) !== 0) continue;
    return { fd, foreground, termios };
  }
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * Puts back the foreground process group and the terminal's settings where
 * they changed. Both ioctls raise SIGTTOU in a background process: it is
 * blocked meanwhile, which makes them succeed instead.
 */
export function restoreTerminal(saved: TerminalState): void {
  const previousMask = changeSignalMask(SIG_BLOCK, signalBit(SIGNALS.SIGTTOU));
  try {
    const now = new Uint8Array(KERNEL_TERMIOS_SIZE);
    if (ioctlBuffer(saved.fd, TCGETS, now) === 0 && !sameBytes(now, saved.termios)) {
      ioctlBuffer(saved.fd, TCSETS, saved.termios);
    }
    if (terminalForegroundGroup(saved.fd) !== saved.foreground) {
      // Fails harmlessly when that group no longer exists (the user's shell takes the terminal back itself).
      ioctlBuffer(saved.fd, TIOCSPGRP, new Uint8Array(new Int32Array([saved.foreground]).buffer));
    }
  } finally {
    changeSignalMask(SIG_SETMASK, previousMask);
  }
}
