// `cordon explain --json` against its schema, for several policies and hosts
// (a failing bwrap, capped Landlock ABIs), and the seccomp listing checked
// against the bytes it claims to come from.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { decodeSockFilters } from "../../ffi/seccomp.ts";
import { HOST_ARCH } from "../../ffi/syscalls.ts";
import { ExplainReportSchema, type ExplainReport } from "../../src/diagnostics/schema.ts";
import { disassembleSeccompProgram } from "../../src/seccomp/disassemble.ts";
import { cordon, isRoot, scratchDir, modeArgs } from "../helpers/cordon.ts";

/** Landlock-only mode as root runs only with its metadata gap accepted by name. */
const ACCEPT_AS_ROOT = isRoot ? ["--allow-degraded", "metadata"] : [];
import { FakeBwraps, UID_MAP_DENIED } from "./fake-bwrap.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";
const fakes = new FakeBwraps();
let dir: string;

beforeAll(() => {
  dir = scratchDir("cordon-explain-");
  mkdirSync(join(dir, ".git"));
  writeFileSync(join(dir, "secret.txt"), "secret\n");
});
afterAll(() => {
  fakes.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function explain(args: string[], env: Record<string, string> = {}): ExplainReport {
  const result = cordon(["explain", "--json", "-C", dir, ...args], { env });
  if (result.exitCode !== 0) throw new Error(`explain failed (${result.exitCode}): ${result.stderr}`);
  const parsed = v.safeParse(ExplainReportSchema, JSON.parse(result.stdout));
  if (!parsed.success)
    throw new Error(`explain --json does not match its schema: ${JSON.stringify(v.flatten(parsed.issues))}`);
  return parsed.output;
}

const POLICIES: Record<string, string[]> = {
  "readonly default": [],
  "write root with denies": ["-w", ".", "--deny-write", ".git", "--deny-read", "secret.txt"],
  network: ["--net", "-w", "."],
  "landlock-only with a deny": [...modeArgs("landlock"), "-w", ".", "--deny-write", ".git"],
  "landlock-only with network": [...modeArgs("landlock"), "--net"],
};

describe("cordon explain --json", () => {
  test.each(Object.entries(POLICIES))("%s: valid, and the listing is the disassembly of the bytes", (_name, args) => {
    const report = explain([...args, "--", "make", "test"]);
    expect(report.command).toEqual(["make", "test"]);
    expect(report.seccomp.bytes.length).toBe(report.seccomp.instructions * 16);
    const program = decodeSockFilters(Buffer.from(report.seccomp.bytes, "hex"));
    expect(report.seccomp.listing).toEqual(disassembleSeccompProgram(program, HOST_ARCH));
    expect(report.seccomp.listing[0]).toBe("0000: ld  arch");
    expect(report.landlock.rules.some((rule) => rule.path === "/" && rule.grant === "read")).toBe(true);
  });

  test.skipIf(noBwrap !== undefined)(
    "bwrap mode: deny paths are stage 2's mounts, listed with how; not bwrap's",
    () => {
      const report = explain(POLICIES["write root with denies"]!);
      expect(report.mode).toMatchObject({ requested: "auto", chosen: "bwrap", planned: "bwrap" });
      const git = report.denyPaths.find((entry) => entry.path === join(dir, ".git"));
      expect(git).toMatchObject({ deny: "write", kind: "dir" });
      expect(git!.how).toContain("read-only bind onto itself, mounted by stage 2");
      expect(report.mounts).toContainEqual({ kind: "bind", source: dir, dest: dir, why: "write-root" });
      const args = report.bwrap!.arguments.join(" ");
      expect(args).not.toContain(join(dir, ".git"));
      expect(args).toContain("--cap-drop ALL --cap-add CAP_SYS_ADMIN --cap-add CAP_SETPCAP");
      expect(args).toContain("--unshare-all --unshare-user --disable-userns");
      expect(report.environment.set.TMPDIR).toBe("/tmp");
    },
  );

  test("landlock-only mode: no bwrap, no mounts, and its gaps are listed", () => {
    const report = explain(POLICIES["landlock-only with a deny"]!);
    expect(report.mode).toMatchObject({ requested: "landlock", chosen: "landlock" });
    expect(report.bwrap).toBeNull();
    expect(report.mounts).toEqual([]);
    expect(report.notEnforced.map((gap) => gap.feature)).toContain("unix socket files");
    expect(report.landlock.rules.some((rule) => rule.path.startsWith(dir) && rule.grant === "write")).toBe(true);
  });

  test("a failing bwrap: auto predicts the fallback, quoting bwrap", () => {
    const report = explain(["--bwrap", fakes.failing("uid-map", UID_MAP_DENIED), ...ACCEPT_AS_ROOT]);
    expect(report.mode.chosen).toBe("landlock");
    expect(report.mode.reason).toContain(UID_MAP_DENIED);
    expect(report.bwrap).toBeNull();
  });

  test("a failing bwrap with --mode bwrap: the run would be refused, and explain says how to fix it", () => {
    const report = explain(["--mode", "bwrap", "--bwrap", fakes.failing("uid-map-2", UID_MAP_DENIED)]);
    expect(report.mode).toMatchObject({ chosen: null, planned: "bwrap" });
    expect(report.mode.reason).toStartWith("refused");
    expect(report.mode.fixes.length).toBeGreaterThan(0);
  });

  test("CORDON_LANDLOCK_ABI_MAX=3: the rights ABI 3 lacks are dropped and listed as not enforced", () => {
    const report = explain([], { CORDON_LANDLOCK_ABI_MAX: "3" });
    expect(report.landlock.abi).toBe(3);
    expect(report.landlock.handledFs).not.toContain("IOCTL_DEV");
    expect(report.landlock.scopes).toEqual([]);
    expect(report.landlock.dropped.map((gap) => gap.feature)).toContain("IOCTL_DEV");
    expect(report.notEnforced.map((gap) => gap.feature)).toContain("scopes");
  });

  test("CORDON_LANDLOCK_ABI_MAX=0: the run would be refused", () => {
    const report = explain([], { CORDON_LANDLOCK_ABI_MAX: "0" });
    expect(report.mode.chosen).toBeNull();
    expect(report.mode.reason).toContain("Landlock is unavailable");
  });

  test("stdio away from any controlling terminal (pipes here): a new session, and no terminal among the grants", () => {
    for (const mode of ["bwrap", "landlock"]) {
      const report = explain(modeArgs(mode));
      expect(report.terminal.session).toBe("new");
      expect(report.terminal.why).toContain("ENXIO");
      const devices = report.landlock.rules.filter((rule) => rule.grant === "device").map((rule) => rule.path);
      expect(devices.filter((path) => /^\/dev\/(pts\/\d+|console)$/.test(path))).toEqual([]);
    }
  });

  test("the text form has every section", () => {
    const result = cordon(["explain", "-C", dir, "-w", "."]);
    expect(result.exitCode).toBe(0);
    for (const heading of [
      "policy:",
      "mode:",
      "mount plan:",
      "Landlock ABI",
      "seccomp program",
      "terminal:",
      "environment:",
      "not enforced here:",
    ]) {
      expect(result.stdout).toContain(heading);
    }
  });
});

describe("explain and run refuse and fall back alike", () => {
  test("as root, auto with a failing bwrap: explain predicts landlock-only mode's refusal, and run refuses", () => {
    if (!isRoot) return;
    const fake = fakes.failing("root-refusal", UID_MAP_DENIED);
    // With a write root: without one, seccomp refuses chmod everywhere and there is no gap to refuse.
    const report = explain(["--bwrap", fake, "-w", dir]);
    expect(report.mode.chosen).toBeNull();
    expect(report.mode.reason).toContain("running as root");
    const marker = join(dir, "ran-as-root");
    const result = cordon(["--bwrap", fake, "-w", dir, "--", "touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("--allow-degraded metadata");
    expect(existsSync(marker)).toBe(false);
  });

  test("--mode bwrap with a failing bwrap: explain predicts the refusal, run refuses (125)", () => {
    const fake = fakes.failing("refuse", UID_MAP_DENIED);
    expect(explain(["--mode", "bwrap", "--bwrap", fake]).mode.chosen).toBeNull();
    const marker = join(dir, "ran");
    const result = cordon(["--mode", "bwrap", "--bwrap", fake, "-w", dir, "--", "touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(existsSync(marker)).toBe(false);
  });

  test("auto with a failing bwrap: explain predicts landlock-only, and run falls back to it", () => {
    const fake = fakes.failing("fallback", UID_MAP_DENIED);
    expect(explain(["--bwrap", fake, ...ACCEPT_AS_ROOT]).mode.chosen).toBe("landlock");
    const result = cordon(["-v", "--bwrap", fake, ...ACCEPT_AS_ROOT, "--", "true"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain("landlock-only");
  });
});
