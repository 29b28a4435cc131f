// The `limits` object: durations, sizes, counts, and how layers combine. Pure.
import { describe, expect, test } from "bun:test";
import { composePolicy } from "../../src/policy/compose.ts";
import {
  DEFAULT_KILL_AFTER_MS,
  DEFAULT_TMP_SIZE,
  formatDuration,
  formatSize,
  parseDuration,
  parseSize,
} from "../../src/policy/limits.ts";
import { ProfileSchema } from "../../src/policy/schema.ts";
import { validate } from "../../src/policy/validate.ts";

describe("durations", () => {
  test.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["1h", 3_600_000],
    ["2m30s", 150_000],
    ["500ms", 500],
    ["1s500ms", 1500],
    ["45", 45_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["", "0s", "s", "1.5s", "10 m", "1m1h", "-1s", "1d", "31000000000"])("%p is no duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test("formatDuration writes them back", () => {
    expect([5_400_000, 90_000, 1500, 0].map(formatDuration)).toEqual(["1h30m", "1m30s", "1s500ms", "0s"]);
  });
});

describe("sizes", () => {
  test.each([
    ["512M", 512 * 1024 ** 2],
    ["2G", 2 * 1024 ** 3],
    ["1GiB", 1024 ** 3],
    ["64k", 64 * 1024],
    ["4096", 4096],
  ])("%s is %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(["", "0", "1.5G", "G", "-1M", "1P", "99999999999T"])("%p is no size", (text) => {
    expect(parseSize(text)).toBeUndefined();
  });

  test("formatSize uses the largest unit that divides", () => {
    expect([1024 ** 3, 1536 * 1024, 1000].map(formatSize)).toEqual(["1G", "1536K", "1000"]);
  });
});

describe("the limits object", () => {
  const layer = (limits: unknown) => validate(ProfileSchema, { limits }, "test");

  test("flags and files give the same fields; numbers and strings both work for counts", () => {
    expect(layer({ timeout: "90s", memory: "512M", pids: "64", openFiles: 100, tmpSize: "2G" }).limits).toEqual({
      timeout: 90_000,
      memory: 512 * 1024 ** 2,
      pids: 64,
      openFiles: 100,
      tmpSize: 2 * 1024 ** 3,
    });
  });

  test("a bad value names the field and what it must be", () => {
    expect(() => layer({ timeout: "soon" })).toThrow(/limits\.timeout: must be a duration such as 90s/);
    expect(() => layer({ pids: 0 })).toThrow(/limits\.pids: must be a whole number, 8-4194304 .*\(got 0\)/);
    expect(() => layer({ pids: 7 })).toThrow(/stage 2 counts against it/);
    expect(layer({ pids: 8 }).limits?.pids).toBe(8);
    expect(() => layer({ pids: "many" })).toThrow(/limits\.pids: must be a whole number/);
    expect(() => layer({ memory: "lots" })).toThrow(/limits\.memory: must be a size/);
    expect(() => layer({ wallClock: "1s" })).toThrow(/unknown field "wallClock"/);
  });

  test("defaults: no timeout, 10 s of grace, 1G per tmpfs; each later layer overrides field by field", () => {
    const plain = composePolicy({ flags: {} });
    expect(plain.limits).toEqual({ killAfter: DEFAULT_KILL_AFTER_MS, tmpSize: DEFAULT_TMP_SIZE });
    const file = { limits: { timeout: 60_000, pids: 100 } };
    const composed = composePolicy({ file, flags: { limits: { pids: 50 } } });
    expect(composed.limits).toEqual({ ...plain.limits, timeout: 60_000, pids: 50 });
  });
});
