// How limits are planned per mode (src/plan/limits.ts). Pure.
import { describe, expect, test } from "bun:test";
import { RLIMITS } from "../../ffi/constants.ts";
import { limitDegradations, limitsPlanFor } from "../../src/plan/limits.ts";
import { NO_LIMITS } from "../../src/policy/limits.ts";

describe("limitsPlanFor", () => {
  test("nothing asked: no timeout and no rlimit; bwrap mode still sizes its tmpfs", () => {
    expect(limitsPlanFor(NO_LIMITS, true)).toEqual({ killAfter: 10_000, tmpSize: 1024 ** 3, rlimits: [] });
    expect(limitsPlanFor(NO_LIMITS, false)).toEqual({ killAfter: 10_000, rlimits: [] });
  });

  test("the per-process limits become rlimits; the CPU time's hard limit is a second later (SIGKILL)", () => {
    const plan = limitsPlanFor({ ...NO_LIMITS, timeout: 5000, cpuTime: 1500, fileSize: 4096, openFiles: 64 }, false);
    expect(plan.timeout).toBe(5000);
    expect(plan.rlimits).toEqual([
      { resource: RLIMITS.CPU, limit: "cpuTime", soft: 2n, hard: 3n },
      { resource: RLIMITS.FSIZE, limit: "fileSize", soft: 4096n, hard: 4096n },
      { resource: RLIMITS.NOFILE, limit: "openFiles", soft: 64n, hard: 64n },
    ]);
  });
});

describe("limitDegradations", () => {
  test("memory and pids without a cgroup are named, weaken the run (--strict refuses), and nothing else is", () => {
    expect(limitDegradations({ ...NO_LIMITS, timeout: 1000, fileSize: 1 })).toEqual([]);
    const lost = limitDegradations({ ...NO_LIMITS, memory: 64 * 1024 ** 2, pids: 64 });
    expect(lost.map((degradation) => [degradation.name, degradation.feature, degradation.weakensSecurity])).toEqual([
      ["memory-limit", "--memory 64M", true],
      ["pids-limit", "--pids 64", true],
    ]);
  });
});
