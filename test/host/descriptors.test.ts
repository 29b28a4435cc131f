// host/descriptors.ts: which descriptors the caller really passed. The rule
// is pure (start-up listing, current listing); the reading runs here, in
// bun test's own process, which starts like the compiled binary.
import { describe, expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { clearCloseOnExec } from "../../ffi/libc.ts";
import { notPassedBecause, readOpenDescriptors, type OpenDescriptor } from "../../src/host/descriptors.ts";
import { STAGE2_ARGV, STARTUP_DESCRIPTORS } from "../../src/host/startup-descriptors.ts";
import { STAGE2_ARGUMENT } from "../../src/launch/wire.ts";

const file = (fd: number, target: string, closeOnExec: boolean, identity = `8:${fd}`): OpenDescriptor => ({
  fd,
  target,
  closeOnExec,
  identity,
});
const EPOLL = "anon_inode:[eventpoll]";
const EVENTFD = "anon_inode:[eventfd]";

describe("notPassedBecause", () => {
  // cordon --preserve-fds 3 3<in 4>out 5<in, as the compiled binary sees it.
  const passed = [
    file(3, "/in", false),
    file(4, "/out", true),
    file(5, "/in", true),
    file(6, EPOLL, true, "0:1"),
    file(7, EVENTFD, true, "0:2"),
  ];

  test("descriptors the caller passed, still the same files, are passed", () => {
    for (const fd of [3, 4, 5]) expect(notPassedBecause(fd, passed, passed)).toBeUndefined();
  });

  test("nothing passed at 3: the runtime's epoll there is named", () => {
    const atStart = [file(3, EPOLL, true, "0:1"), file(4, EVENTFD, true, "0:2")];
    expect(notPassedBecause(3, atStart, atStart)).toBe(
      "descriptor 3 was not passed to cordon: it is the runtime's own (anon_inode:[eventpoll])",
    );
    expect(notPassedBecause(4, atStart, atStart)).toBe(
      "descriptor 4 was not passed to cordon: it is the runtime's own (anon_inode:[eventfd])",
    );
  });

  test("at 3 the close-on-exec flag alone tells: no inherited descriptor carries it", () => {
    expect(notPassedBecause(3, [file(3, "/some/file", true)], [file(3, "/some/file", true)])).toBe(
      "descriptor 3 was not passed to cordon: it is the runtime's own (/some/file)",
    );
  });

  test("from 4 up the runtime marked every descriptor close-on-exec: files pass, anonymous inodes do not", () => {
    const atStart = [file(3, "/in", false), file(4, "/out", true), file(5, "anon_inode:[timerfd]", true)];
    expect(notPassedBecause(4, atStart, atStart)).toBeUndefined();
    expect(notPassedBecause(5, atStart, atStart)).toContain("it is the runtime's own (anon_inode:[timerfd])");
  });

  test("a gap is named: not open at all, or opened by cordon after start-up", () => {
    expect(notPassedBecause(4, passed.slice(0, 1), passed.slice(0, 1))).toBe("descriptor 4 is not open");
    expect(notPassedBecause(4, passed.slice(0, 1), [passed[0]!, file(4, "/proc/self/exe", true)])).toBe(
      "descriptor 4 was not passed to cordon: cordon opened it (/proc/self/exe)",
    );
  });

  test("a passed descriptor closed or replaced since start-up is refused", () => {
    const closed = passed.filter((open) => open.fd !== 4);
    expect(notPassedBecause(4, passed, closed)).toBe("descriptor 4 was closed after cordon started (it was /out)");
    const replaced = passed.map((open) => (open.fd === 4 ? file(4, "/elsewhere", true, "8:99") : open));
    expect(notPassedBecause(4, passed, replaced)).toBe(
      "descriptor 4 was replaced after cordon started (it was /out, now /elsewhere)",
    );
  });

  test("the same file under another name (renamed since) is still passed", () => {
    const renamed = passed.map((open) => (open.fd === 4 ? { ...open, target: "/renamed" } : open));
    expect(notPassedBecause(4, passed, renamed)).toBeUndefined();
  });
});

describe("readOpenDescriptors", () => {
  test("reads the target and FD_CLOEXEC of each descriptor, not the listing's own", () => {
    const lowestFree = openSync("/dev/null", "r");
    closeSync(lowestFree);
    expect(readOpenDescriptors().map((open) => open.fd)).not.toContain(lowestFree);
    const held = openSync("/dev/null", "r");
    try {
      expect(readOpenDescriptors().find((open) => open.fd === held)).toMatchObject({
        target: "/dev/null",
        closeOnExec: true,
      });
      clearCloseOnExec(held);
      expect(readOpenDescriptors().find((open) => open.fd === held)?.closeOnExec).toBe(false);
    } finally {
      closeSync(held);
    }
  });

  test("the start-up listing holds the runtime's event loop", () => {
    expect(STARTUP_DESCRIPTORS.map((open) => open.target)).toContain(EPOLL);
  });

  test("the start-up module skips stage 2 by the same argument main.ts does", () => {
    expect(STAGE2_ARGV).toBe(STAGE2_ARGUMENT);
  });
});
