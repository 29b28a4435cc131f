// Which descriptors above 2 the caller really handed to cordon. --preserve-fds
// N passes 3..3+N-1 on to the command, so each of them must be the caller's:
// never one the runtime made for itself. Bun opens its event loop (an epoll,
// then an eventfd) before any JavaScript runs, at the lowest free numbers, so
// `cordon --preserve-fds 1` with nothing at 3 once handed the command Bun's
// own epoll: the command registered a pipe in it with a chosen epoll_data,
// and the supervisor dereferenced that pointer.
//
// What the compiled binary sees at its first line of JavaScript (Bun 1.4.5):
//   nothing passed:        3 anon_inode:[eventpoll] (cloexec), 4 anon_inode:[eventfd] (cloexec)
//   3, 4 and 5 passed:     3 (no cloexec), 4 and 5 (cloexec), 6 eventpoll, 7 eventfd
//   4 passed, 3 not:       3 eventpoll, 4 (cloexec), 5 eventfd
// Bun first fills a closed 0-2 with /dev/null, then runs close_range(4, ~0,
// CLOSE_RANGE_CLOEXEC), then creates the epoll and the eventfd.
//
// The rule, and why it holds:
// - Open at start-up. A descriptor opened later is cordon's own.
// - Not close-on-exec at 3. A descriptor inherited across execve never
//   carries FD_CLOEXEC (the kernel closed those), and Bun marks only 4 and up.
//   At 3 the flag alone tells the caller's from the runtime's.
// - From 4 up the flag tells nothing (Bun set it on all of them), so the
//   runtime's own are recognised by kind: a close-on-exec anonymous inode
//   (eventpoll, eventfd, timerfd, signalfd, ...). A caller's own epoll or
//   eventfd there is refused too; the two cannot be told apart.
// - Any gap is caught, whatever the runtime later opens: the kernel gives the
//   lowest free number, so Bun's first descriptor, its epoll, lands on the
//   lowest number the caller left free. A gap in 3..3+N-1 therefore holds
//   that epoll at its lowest number.
// - Still the same open file when asked: one the runtime closed, or replaced
//   with dup2, since start-up is no longer the caller's.
import { fstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";

/** O_CLOEXEC as /proc/self/fdinfo's octal flags show FD_CLOEXEC (the same on x86_64 and aarch64). */
const O_CLOEXEC = 0o2000000;

export interface OpenDescriptor {
  fd: number;
  /** The /proc/self/fd link: a path, pipe:[ino], socket:[ino], anon_inode:[eventpoll], ... */
  target: string;
  /** FD_CLOEXEC is set. */
  closeOnExec: boolean;
  /** dev:ino of the open file. */
  identity: string;
}

function readOne(fd: number): OpenDescriptor | undefined {
  try {
    const target = readlinkSync(`/proc/self/fd/${fd}`);
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "latin1"))?.[1];
    const stat = fstatSync(fd);
    return {
      fd,
      target,
      closeOnExec: flags === undefined || (parseInt(flags, 8) & O_CLOEXEC) !== 0,
      identity: `${stat.dev}:${stat.ino}`,
    };
  } catch {
    // Closed since the listing: the listing's own descriptor, at least.
    return undefined;
  }
}

/** The descriptors above 2 open in this process, lowest first. */
export function readOpenDescriptors(): OpenDescriptor[] {
  let names: string[];
  try {
    names = readdirSync("/proc/self/fd");
  } catch {
    return [];
  }
  return names
    .map(Number)
    .filter((fd) => fd > 2)
    .sort((a, b) => a - b)
    .map(readOne)
    .filter((open): open is OpenDescriptor => open !== undefined);
}

/** Whether `fd` is one the caller passed and still the same open file; otherwise why not. */
export function notPassedBecause(
  fd: number,
  atStart: readonly OpenDescriptor[],
  now: readonly OpenDescriptor[],
): string | undefined {
  const then = atStart.find((open) => open.fd === fd);
  const current = now.find((open) => open.fd === fd);
  if (!then) {
    return current
      ? `descriptor ${fd} was not passed to cordon: cordon opened it (${current.target})`
      : `descriptor ${fd} is not open`;
  }
  if (then.closeOnExec && (fd === 3 || then.target.startsWith("anon_inode:"))) {
    return `descriptor ${fd} was not passed to cordon: it is the runtime's own (${then.target})`;
  }
  if (!current) return `descriptor ${fd} was closed after cordon started (it was ${then.target})`;
  if (current.identity !== then.identity) {
    return `descriptor ${fd} was replaced after cordon started (it was ${then.target}, now ${current.target})`;
  }
  return undefined;
}
