// Runs the linux-x64-musl build for real on this (glibc) machine.
//
// Debian's `musl` package gives the loader and libc (/lib/ld-musl-x86_64.so.1),
// but Debian has no libstdc++ built for musl, which the Bun runtime needs
// (readelf -d: NEEDED libstdc++.so.6, libc.musl-x86_64.so.1). So the test
// builds a private library directory: musl's libc under its musl names, glibc's
// libstdc++.so.6 and libgcc_s.so.1, and fixtures/glibcxx-on-musl.c (compiled
// with musl-gcc) supplying the handful of glibc symbols those two expect,
// like Alpine's gcompat. A copy of the binary gets that directory as its
// RUNPATH (patchelf): stage 2 starts with an empty environment, so
// LD_LIBRARY_PATH would not reach it. The directory lives under dist/, not
// /tmp, so it is still visible inside bwrap's private /tmp.
//
// What this proves: cordon's own code (bun:ffi against musl's libc, Landlock,
// seccomp, bwrap, the stage-2 re-exec) works on musl. The C++ runtime is
// glibc's here; a real musl system (Alpine: apk add libstdc++) ships its own.
import { afterAll, beforeAll, expect } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { missingTool, REPO, run, scratchDir, modeArgs } from "../helpers/cordon.ts";
import { artifact, DIST, missingArtifact, missingFile, releaseTest } from "./release-helpers.ts";

const MUSL_LOADER = "/lib/ld-musl-x86_64.so.1";
const GLIBC_LIBS = "/usr/lib/x86_64-linux-gnu";
// bwrap mode gives the command a private /tmp: a checkout under /tmp would hide dist/ from stage 2.
const VISIBLE_BASE = DIST.startsWith("/tmp/") || DIST.startsWith("/dev/shm/") ? "/var/tmp" : DIST;
const reasons = [
  process.arch === "x64" ? undefined : "the musl check runs on x86_64 hosts only",
  missingArtifact("linux-x64-musl"),
  missingFile(MUSL_LOADER, "apt-get install musl"),
  missingTool("musl-gcc") && "musl-gcc is not installed (apt-get install musl-tools)",
  missingTool("patchelf") && "patchelf is not installed (apt-get install patchelf)",
  missingFile(join(GLIBC_LIBS, "libstdc++.so.6"), "apt-get install libstdc++6"),
  missingFile(join(GLIBC_LIBS, "libgcc_s.so.1"), "apt-get install libgcc-s1"),
];
const ready = reasons.every((reason) => reason === undefined);

let libs = "";
let binary = "";

beforeAll(() => {
  if (!ready) return;
  libs = mkdtempSync(join(VISIBLE_BASE, ".musl-test-"));
  for (const name of ["libc.musl-x86_64.so.1", "libc.so.6", "libm.so.6"]) symlinkSync(MUSL_LOADER, join(libs, name));
  copyFileSync(join(GLIBC_LIBS, "libstdc++.so.6"), join(libs, "libstdc++.so.6"));
  copyFileSync(join(GLIBC_LIBS, "libgcc_s.so.1"), join(libs, "libgcc_s.so.1"));
  const shim = run([
    "musl-gcc",
    "-shared",
    "-fPIC",
    "-O2",
    "-Wl,-soname,ld-linux-x86-64.so.2",
    "-o",
    join(libs, "ld-linux-x86-64.so.2"),
    join(import.meta.dir, "fixtures/glibcxx-on-musl.c"),
  ]);
  if (shim.exitCode !== 0) throw new Error(`musl-gcc failed: ${shim.stderr}`);
  binary = join(libs, "cordon");
  copyFileSync(artifact("linux-x64-musl"), binary);
  const patch = run(["patchelf", "--set-rpath", libs, binary]);
  if (patch.exitCode !== 0) throw new Error(`patchelf failed: ${patch.stderr}`);
});

afterAll(() => {
  if (libs) rmSync(libs, { recursive: true, force: true });
});

releaseTest("the musl build's interpreter is musl's loader and it needs libstdc++", reasons.slice(0, 2), () => {
  const result = run(["readelf", "-l", "-d", artifact("linux-x64-musl")]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain("[Requesting program interpreter: /lib/ld-musl-x86_64.so.1]");
  expect(result.stdout).toContain("Shared library: [libc.musl-x86_64.so.1]");
  expect(result.stdout).toContain("Shared library: [libstdc++.so.6]");
});

releaseTest("musl: --version names the musl target", reasons, () => {
  const result = run([binary, "--version"]);
  expect(result.stderr).toBe("");
  expect(result.stdout).toBe(`cordon ${packageJson.version} (linux-x64-musl)\n`);
});

releaseTest("musl: explain --json plans a sandbox", reasons, () => {
  const result = run([binary, "explain", "--json"]);
  expect(result.exitCode).toBe(0);
  const plan = JSON.parse(result.stdout) as {
    mode: { planned: string };
    seccomp: { listing: string[] };
    landlock: { abi: number };
  };
  expect(["bwrap", "landlock"]).toContain(plan.mode.planned);
  expect(plan.seccomp.listing[1]).toContain("AUDIT_ARCH_X86_64");
  expect(plan.landlock.abi).toBeGreaterThan(0);
});

releaseTest("musl: doctor probes every layer and agrees with the glibc build", reasons, () => {
  const musl = run([binary, "doctor", "--json"]);
  const glibc = run([join(REPO, "dist", "cordon"), "doctor", "--json"]);
  const report = JSON.parse(musl.stdout) as {
    checks: { id: string; status: string }[];
    modes: Record<string, unknown>;
  };
  expect(report.checks.map((check) => check.id)).toContain("landlock");
  expect(report.checks.find((check) => check.id === "landlock")?.status).toBe("ok");
  expect(musl.exitCode).toBe(glibc.exitCode);
  expect(report.modes).toEqual((JSON.parse(glibc.stdout) as { modes: Record<string, unknown> }).modes);
});

for (const mode of ["landlock", "bwrap"] as const) {
  const bwrapMissing = mode === "bwrap" && !existsSync("/usr/bin/bwrap") ? "bubblewrap is not installed" : undefined;
  releaseTest(
    `musl, ${mode} mode: the sandboxed command writes its write root and nothing else`,
    [...reasons, bwrapMissing],
    () => {
      const work = scratchDir("cordon-musl-work-");
      // Outside /tmp, so that bwrap mode shows it (read-only) rather than hiding it.
      const outside = mkdtempSync(join(VISIBLE_BASE, ".musl-outside-"));
      try {
        const script = `touch ok; touch ${outside}/escaped`;
        // The attack works without cordon...
        expect(run(["sh", "-c", script], { cwd: work }).exitCode).toBe(0);
        expect(existsSync(join(outside, "escaped"))).toBe(true);
        rmSync(join(outside, "escaped"));
        rmSync(join(work, "ok"));
        // ...and not inside it.
        const result = run([binary, ...modeArgs(mode), "-q", "-w", work, "-C", work, "--", "sh", "-c", script]);
        expect(result.exitCode).toBe(1);
        expect(result.stderr).toMatch(/escaped': (Permission denied|Read-only file system)/);
        expect(existsSync(join(work, "ok"))).toBe(true);
        expect(existsSync(join(outside, "escaped"))).toBe(false);
      } finally {
        rmSync(work, { recursive: true, force: true });
        rmSync(outside, { recursive: true, force: true });
      }
    },
  );
}

// `cordon doctor` (issue 6) is not on this branch yet; once it is, run it here too.
