// `cordon selftest` is green on this host in both modes, its JSON matches
// its schema, every escape probe really ran (the tools exist here), and it
// leaves nothing behind.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import * as v from "valibot";
import { SelftestReportSchema, type SelftestReport } from "../../src/diagnostics/schema.ts";
import { HOST_SCRATCH_BASE } from "../helpers/attacks.ts";
import { cordon, missingTool } from "../helpers/cordon.ts";
import { FakeBwraps, UID_MAP_DENIED } from "./fake-bwrap.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";
const toolsMissing = missingTool("perl") ?? missingTool("unshare") ?? missingTool("git");
const leftovers = () => readdirSync(HOST_SCRATCH_BASE).filter((name) => name.startsWith("cordon-selftest-"));

function selftest(args: string[] = []): { exitCode: number; report: SelftestReport } {
  const result = cordon(["selftest", "--json", ...args], { timeoutMs: 120_000 });
  const parsed = v.safeParse(SelftestReportSchema, JSON.parse(result.stdout));
  if (!parsed.success)
    throw new Error(
      `selftest --json does not match its schema: ${JSON.stringify(v.flatten(parsed.issues))}\n${result.stderr}`,
    );
  return { exitCode: result.exitCode, report: parsed.output };
}

describe.skipIf(noBwrap !== undefined)("cordon selftest", () => {
  let before: string[];
  let exitCode: number;
  let report: SelftestReport;
  beforeAll(() => {
    before = leftovers();
    ({ exitCode, report } = selftest());
  });

  test("is green in both modes and exits 0", () => {
    const failed = report.modes.flatMap((mode) =>
      mode.probes
        .filter((probe) => probe.outcome === "fail")
        .map((probe) => `${mode.mode}/${probe.id}: ${probe.detail}`),
    );
    expect(failed).toEqual([]);
    expect(report.modes.map((mode) => [mode.mode, mode.available])).toEqual([
      ["bwrap", true],
      ["landlock", true],
    ]);
    expect(report.ok).toBe(true);
    expect(exitCode).toBe(0);
  });

  test.skipIf(toolsMissing !== undefined)("no probe was skipped where the tools exist", () => {
    const skipped = report.modes.flatMap((mode) =>
      mode.probes
        .filter((probe) => probe.outcome === "skip")
        .map((probe) => `${mode.mode}/${probe.id}: ${probe.detail}`),
    );
    expect(skipped).toEqual([]);
  });

  test("covers every escape and must-work probe of the issue", () => {
    const ids = report.modes[0]!.probes.map((probe) => probe.id);
    for (const id of [
      "write-outside-roots",
      "write-deny-path",
      "read-denied-file",
      "tcp-connect",
      "io-uring",
      "tiocsti",
      "new-user-namespace",
      "signal-outside",
      "write-inside-root",
      "git-status",
      "pipe",
      "exit-status",
    ]) {
      expect(ids).toContain(id);
    }
  });

  test("leaves no scratch directory behind", () => {
    expect(leftovers()).toEqual(before);
  });
});

describe("cordon selftest without a working bwrap", () => {
  test("tests landlock-only mode alone and says why bwrap mode was not tested", () => {
    const fakes = new FakeBwraps();
    try {
      const { exitCode, report } = selftest(["--bwrap", fakes.failing("uid-map", UID_MAP_DENIED)]);
      const bwrap = report.modes.find((mode) => mode.mode === "bwrap")!;
      expect(bwrap.available).toBe(false);
      expect(bwrap.reason).toContain(UID_MAP_DENIED);
      expect(bwrap.probes).toEqual([]);
      expect(report.modes.find((mode) => mode.mode === "landlock")!.available).toBe(true);
      expect(exitCode).toBe(report.ok ? 0 : 1);
    } finally {
      fakes.cleanup();
    }
  });
});
