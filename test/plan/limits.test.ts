// How limits are planned per mode (src/plan/limits.ts). Pure.
import { describe, expect, test } from "bun:test";
import { RLIMITS } from "../../ffi/constants.ts";
import type { CgroupFacts } from "../../src/host/cgroups.ts";
import { limitDegradations, limitsPlanFor } from "../../src/plan/limits.ts";
import { NO_LIMITS } from "../../src/policy/limits.ts";

const NO_CGROUP: CgroupFacts = {
  mountPoints: ["/sys/fs/cgroup"],
  homes: [],
  missing: [
    { controller: "memory", why: "no memory here" },
    { controller: "pids", why: "no pids here" },
  ],
};
const V2: CgroupFacts = {
  homes: [
    { version: 2, parent: "/sys/fs/cgroup/app.slice/run-1.scope", controllers: ["memory", "pids"], vacate: true },
  ],
  missing: [],
  mountPoints: ["/sys/fs/cgroup"],
};
const V1: CgroupFacts = {
  homes: [
    { version: 1, parent: "/sys/fs/cgroup/memory/me", controllers: ["memory"], vacate: false },
    { version: 1, parent: "/sys/fs/cgroup/pids", controllers: ["pids"], vacate: false },
  ],
  missing: [],
  mountPoints: ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"],
};
const ASKED = { ...NO_LIMITS, memory: 64 * 1024 ** 2, pids: 64 };

describe("limitsPlanFor", () => {
  test("nothing asked: no timeout, no rlimit and no cgroup; bwrap mode still sizes its tmpfs", () => {
    expect(limitsPlanFor(NO_LIMITS, true, V2)).toEqual({
      killAfter: 10_000,
      tmpSize: 1024 ** 3,
      rlimits: [],
      cgroups: [],
    });
    expect(limitsPlanFor(NO_LIMITS, false, V2)).toEqual({ killAfter: 10_000, rlimits: [], cgroups: [] });
  });

  test("the per-process limits become rlimits; the CPU time's hard limit is a second later (SIGKILL)", () => {
    const plan = limitsPlanFor(
      { ...NO_LIMITS, timeout: 5000, cpuTime: 1500, fileSize: 4096, openFiles: 64 },
      false,
      NO_CGROUP,
    );
    expect(plan.timeout).toBe(5000);
    expect(plan.rlimits).toEqual([
      { resource: RLIMITS.CPU, limit: "cpuTime", soft: 2n, hard: 3n },
      { resource: RLIMITS.FSIZE, limit: "fileSize", soft: 4096n, hard: 4096n },
      { resource: RLIMITS.NOFILE, limit: "openFiles", soft: 64n, hard: 64n },
    ]);
  });

  test("cgroup v2: one cgroup with both limits; memory counts swap, and out of memory kills all of it", () => {
    const plan = limitsPlanFor(ASKED, true, V2);
    expect(plan.memory).toBe(64 * 1024 ** 2);
    expect(plan.pids).toBe(64);
    expect(plan.cgroups).toEqual([
      {
        version: 2,
        parent: "/sys/fs/cgroup/app.slice/run-1.scope",
        controllers: ["memory", "pids"],
        vacate: true,
        settings: [
          { file: "memory.max", value: "67108864" },
          { file: "memory.swap.max", value: "0", optional: true },
          { file: "memory.oom.group", value: "1" },
          { file: "pids.max", value: "64" },
        ],
      },
    ]);
  });

  test("cgroup v1: one cgroup per hierarchy, memory and memory+swap, and the OOM killer on", () => {
    const plan = limitsPlanFor(ASKED, false, V1);
    expect(plan.cgroups.map((cgroup) => [cgroup.parent, cgroup.settings.map((setting) => setting.file)])).toEqual([
      ["/sys/fs/cgroup/memory/me", ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control"]],
      ["/sys/fs/cgroup/pids", ["pids.max"]],
    ]);
  });

  test("a cgroup only for what was asked: --pids alone makes no memory cgroup", () => {
    const plan = limitsPlanFor({ ...NO_LIMITS, pids: 10 }, false, V1);
    expect(plan.cgroups.map((cgroup) => cgroup.controllers)).toEqual([["pids"]]);
    expect(plan.memory).toBeUndefined();
  });

  test("no cgroup: memory and pids are not in the plan at all", () => {
    const plan = limitsPlanFor(ASKED, true, NO_CGROUP);
    expect([plan.memory, plan.pids, plan.cgroups]).toEqual([undefined, undefined, []]);
  });
});

describe("limitDegradations", () => {
  test("memory and pids without a cgroup are named with the host's reason; --strict refuses them", () => {
    expect(limitDegradations({ ...NO_LIMITS, timeout: 1000, fileSize: 1 }, NO_CGROUP)).toEqual([]);
    const lost = limitDegradations(ASKED, NO_CGROUP);
    expect(lost.map((degradation) => [degradation.name, degradation.feature, degradation.weakensSecurity])).toEqual([
      ["memory-limit", "--memory 64M", true],
      ["pids-limit", "--pids 64", true],
    ]);
    expect(lost[0]!.consequence).toBe("the memory limit (64M) is not enforced: no memory here");
  });

  test("with a cgroup for them, nothing is lost; with one for pids only, memory is", () => {
    expect(limitDegradations(ASKED, V2)).toEqual([]);
    const pidsOnly: CgroupFacts = { ...V1, homes: [V1.homes[1]!], missing: [NO_CGROUP.missing[0]!] };
    expect(limitDegradations(ASKED, pidsOnly).map((degradation) => degradation.name)).toEqual(["memory-limit"]);
  });
});

test("a write root on a cgroup file system (holding one, or inside one) lifts the limit: named, not held", () => {
  for (const root of ["/sys/fs/cgroup/pids", "/sys", "/", "/sys/fs/cgroup/memory/me/x"]) {
    const lost = limitDegradations(ASKED, V1, [root]);
    expect({ root, names: lost.map((degradation) => degradation.name) }).toEqual({
      root,
      names: ["memory-limit", "pids-limit"],
    });
    expect(lost[0]!.consequence).toContain(`the write root ${root} holds cgroup files`);
  }
  expect(limitDegradations(ASKED, V1, ["/sys/fs/cgroupx", "/home/me"])).toEqual([]);
});
