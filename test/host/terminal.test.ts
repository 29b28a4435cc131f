// Reading cordon's controlling terminal from /proc/self/stat.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { controllingTerminal, controllingTerminalDevice } from "../../src/host/terminal.ts";

describe("controllingTerminalDevice", () => {
  test("reads tty_nr (field 7), also when the command name holds spaces and parentheses", () => {
    // /dev/pts/3 is 136:3, encoded as major << 8 | minor: 34819.
    expect(controllingTerminalDevice("4242 (sh) S 1 4242 4242 34819 4242 4194560 0 0")).toBe(34819n);
    expect(controllingTerminalDevice("4242 (a) b (c) d) R 1 4242 4242 34819 -1 0")).toBe(34819n);
    expect(controllingTerminalDevice("4242 (daemon) S 1 4242 4242 0 -1 0")).toBe(0n);
  });

  test("agrees with this process's /proc/self/stat", () => {
    const device = controllingTerminalDevice(readFileSync("/proc/self/stat", "latin1"));
    expect(controllingTerminal().exists).toBe(device !== 0n);
  });
});
