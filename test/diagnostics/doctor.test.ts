// `cordon doctor` against the real binary, with each layer made to fail:
// a --bwrap that fails like Ubuntu 24.04's AppArmor rule, a missing bwrap,
// and CORDON_LANDLOCK_ABI_MAX. The JSON is validated against its schema.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import * as v from "valibot";
import { diagnoseBwrapFailure } from "../../src/diagnostics/bwrap-failure.ts";
import { DoctorReportSchema, type Check, type DoctorReport } from "../../src/diagnostics/schema.ts";
import { cordon, isRoot } from "../helpers/cordon.ts";

/** As root, landlock-only mode is refused unless its metadata gap is accepted by name. */
const LANDLOCK_ONLY = isRoot
  ? { landlock: false, auto: "refuse" as const }
  : { landlock: true, auto: "landlock" as const };
import { FakeBwraps, UID_MAP_DENIED } from "./fake-bwrap.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";
const fakes = new FakeBwraps();
afterAll(() => fakes.cleanup());

function doctor(args: string[] = [], env: Record<string, string> = {}): { exitCode: number; report: DoctorReport } {
  const result = cordon(["doctor", "--json", ...args], { env });
  const parsed = v.safeParse(DoctorReportSchema, JSON.parse(result.stdout));
  if (!parsed.success)
    throw new Error(`doctor --json does not match its schema: ${JSON.stringify(v.flatten(parsed.issues))}`);
  return { exitCode: result.exitCode, report: parsed.output };
}

const check = (report: DoctorReport, id: Check["id"]): Check => {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} check`);
  return found;
};

describe("cordon doctor", () => {
  test("reports every layer once, and exits 0 exactly when bwrap mode works", () => {
    const { exitCode, report } = doctor();
    expect(report.checks.map((c) => c.id).sort()).toEqual([
      "bwrap",
      "container",
      "landlock",
      "limits",
      "privileges",
      "seccomp",
      "user-namespaces",
    ]);
    expect(exitCode).toBe(report.ok ? 0 : 1);
    expect(report.modes.bwrap).toBe(report.ok);
  });

  test.skipIf(noBwrap !== undefined)("on this host bwrap mode works (CI installs bubblewrap)", () => {
    const { exitCode, report } = doctor();
    expect(exitCode).toBe(0);
    expect(check(report, "bwrap").status).toBe("ok");
    expect(check(report, "user-namespaces").status).toBe("ok");
    expect(report.modes).toEqual({ bwrap: true, landlock: !isRoot, auto: "bwrap" });
    expect(report.diagnosis).toBeNull();
  });

  test("the text form names each layer with OK, WARN or FAIL", () => {
    const result = cordon(["doctor"]);
    for (const id of ["landlock", "seccomp", "user-namespaces", "bwrap", "privileges", "container"]) {
      expect(result.stdout).toMatch(new RegExp(`^\\[(?: OK |WARN|FAIL)\\] ${id}\\b`, "m"));
    }
  });

  test("a bwrap that cannot set up its uid map: FAIL with the AppArmor fix, auto falls back, exit 1", () => {
    const { exitCode, report } = doctor(["--bwrap", fakes.failing("uid-map", UID_MAP_DENIED)]);
    expect(exitCode).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.modes).toEqual({ bwrap: false, ...LANDLOCK_ONLY });
    expect(report.diagnosis?.id).toBe("apparmor-userns");
    const userns = check(report, "user-namespaces");
    expect(userns.status).toBe("fail");
    expect(userns.summary).toContain(UID_MAP_DENIED);
    expect(userns.consequence).toContain("landlock-only");
    expect(userns.fixes.join("\n")).toContain("apparmor_parser -r /etc/apparmor.d/bwrap");
    expect(userns.fixes.join("\n")).toContain("userns,");
    expect(userns.fixes.join("\n")).toContain("kernel.apparmor_restrict_unprivileged_userns=0");
    const bwrap = check(report, "bwrap");
    expect(bwrap.status).toBe("fail");
    expect(bwrap.details.message).toBe(UID_MAP_DENIED);
    expect(bwrap.details.version).toBe("0.9.0");
  });

  test("the text form of that failure shows bwrap's message and the fix", () => {
    const result = cordon(["doctor", "--bwrap", fakes.failing("uid-map-text", UID_MAP_DENIED)]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/^\[FAIL\] user-namespaces .*setting up uid map: Permission denied/m);
    expect(result.stdout).toContain("profile bwrap");
    expect(result.stdout).toContain(
      isRoot
        ? "landlock-only mode: refused as root with a write root unless --allow-degraded metadata"
        : "auto mode (the default) will fall back to landlock-only mode",
    );
  });

  test("Failed RTM_NEWADDR (loopback under AppArmor's rule) gets the same diagnosis", () => {
    const { report } = doctor([
      "--bwrap",
      fakes.failing("rtm", "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted"),
    ]);
    expect(report.diagnosis?.id).toBe("apparmor-userns");
  });

  test("a bwrap that cannot mount /proc: FAIL on bwrap with the container fix", () => {
    const { exitCode, report } = doctor([
      "--bwrap",
      fakes.failing("proc", "bwrap: Can't mount proc on /newroot/proc: Operation not permitted"),
    ]);
    expect(exitCode).toBe(1);
    expect(report.diagnosis?.id).toBe("proc-mount");
    expect(check(report, "bwrap").fixes.join("\n")).toContain("systempaths=unconfined");
  });

  test("a --bwrap that does not exist: FAIL with the package to install", () => {
    const { exitCode, report } = doctor(["--bwrap", `${fakes.dir}/no-such-bwrap`]);
    expect(exitCode).toBe(1);
    const bwrap = check(report, "bwrap");
    expect(bwrap.status).toBe("fail");
    expect(bwrap.summary).toContain("not an executable file");
    expect(bwrap.fixes.join("\n")).toContain("apt-get install bubblewrap");
    expect(report.modes.auto).toBe(LANDLOCK_ONLY.auto);
  });

  test("CORDON_LANDLOCK_ABI_MAX=0: Landlock FAIL, every mode refused, exit 1", () => {
    const { exitCode, report } = doctor([], { CORDON_LANDLOCK_ABI_MAX: "0" });
    expect(exitCode).toBe(1);
    const landlock = check(report, "landlock");
    expect(landlock.status).toBe("fail");
    expect(landlock.details.abi).toBe(0);
    expect(landlock.consequence).toContain("refuses to run in every mode");
    expect(landlock.fixes.length).toBeGreaterThan(0);
    expect(report.modes).toEqual({ bwrap: false, landlock: false, auto: "refuse" });
  });

  test("CORDON_LANDLOCK_ABI_MAX=3: WARN naming what ABI 3 lacks", () => {
    const { report } = doctor([], { CORDON_LANDLOCK_ABI_MAX: "3" });
    const landlock = check(report, "landlock");
    expect(landlock.status).toBe("warn");
    expect(landlock.consequence).toContain("IOCTL_DEV");
    expect(landlock.consequence).toContain("scopes");
  });

  test("refuses operands and unknown options (exit 125)", () => {
    expect(cordon(["doctor", "extra"]).exitCode).toBe(125);
    expect(cordon(["doctor", "--jsn"]).exitCode).toBe(125);
  });
});

describe("diagnoseBwrapFailure (run's error when bwrap fails before the command starts)", () => {
  test("diagnoses the run's own message of bwrap, without a second try", () => {
    const failure = diagnoseBwrapFailure("/nonexistent/bwrap", UID_MAP_DENIED);
    expect(failure.message).toBe(UID_MAP_DENIED);
    expect(failure.diagnosis.id).toBe("apparmor-userns");
    expect(failure.diagnosis.fix).toContain("kernel.apparmor_restrict_unprivileged_userns=0");
    expect(failure.userns).toBe(true);
  });

  test("a message it does not recognise: runs the probe to capture bwrap's message", () => {
    const failure = diagnoseBwrapFailure(fakes.failing("run-hint", UID_MAP_DENIED), "");
    expect(failure.message).toBe(UID_MAP_DENIED);
    expect(failure.diagnosis.id).toBe("apparmor-userns");
  });

  test.skipIf(noBwrap !== undefined)("when bwrap works in general, says the failure is specific to this run", () => {
    const failure = diagnoseBwrapFailure("/usr/bin/bwrap", "bwrap: Can't find source path /gone: No such file");
    expect(failure.userns).toBe(false);
    expect(failure.diagnosis.cause).toContain("this run's mounts");
    expect(failure.diagnosis.cause).toContain("/gone");
  });
});
