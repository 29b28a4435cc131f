// Whether the command would be interactive on the user's terminal: one of
// descriptors 0-2 is cordon's own controlling terminal. A terminal that is
// not the controlling one (a pty an agent opened, another terminal's device)
// or a pipe does not count: the command then gets a session of its own.
import { fstatSync, readFileSync } from "node:fs";
import { terminalForegroundGroup } from "../../ffi/libc.ts";

export interface ControllingTerminal {
  /** cordon has a controlling terminal at all. */
  exists: boolean;
  /** The first of descriptors 0, 1, 2 that is that terminal; undefined when none is. */
  stdioFd?: number;
}

const STDIO = [0, 1, 2] as const;

/**
 * tty_nr from /proc/self/stat: the controlling terminal's device number, 0
 * for none. The kernel encodes it as glibc's dev_t for every terminal
 * (majors below 4096), so it compares with fstat's rdev.
 */
export function controllingTerminalDevice(stat: string): bigint {
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return BigInt(fields[4] ?? "0");
}

/**
 * The descriptor is the controlling terminal's device, and the kernel agrees:
 * TIOCGPGRP answers only on the controlling terminal (ENOTTY on any other,
 * even one with the same device number in another devpts instance); the
 * device check rules out a pty master, where TIOCGPGRP answers too.
 */
function isControllingTerminal(fd: number, device: bigint): boolean {
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.isCharacterDevice() && stat.rdev === device && terminalForegroundGroup(fd) >= 0;
  } catch {
    return false; // closed
  }
}

export function controllingTerminal(): ControllingTerminal {
  const device = controllingTerminalDevice(readFileSync("/proc/self/stat", "latin1"));
  if (device === 0n) return { exists: false };
  const stdioFd = STDIO.find((fd) => isControllingTerminal(fd, device));
  return stdioFd === undefined ? { exists: true } : { exists: true, stdioFd };
}
