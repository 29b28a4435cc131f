// The release artifacts from `npm run build:release`: checksums, and the
// version line of the host's own build.
import { expect } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { checksumLine } from "../../scripts/build-release.ts";
import { RELEASE_TARGETS } from "../../scripts/build.ts";
import { missingTool, run } from "../helpers/cordon.ts";
import { artifact, DIST, missingArtifact, missingFile, releaseTest } from "./release-helpers.ts";

const SUMS = join(DIST, "SHA256SUMS");
const noSums = missingFile(SUMS, "run `npm run build:release`");

releaseTest("SHA256SUMS lists every release binary with its current digest", [noSums], () => {
  const lines = readFileSync(SUMS, "utf8").split("\n").filter(Boolean);
  expect(lines.map((line) => line.split("  ")[1]).sort()).toEqual(RELEASE_TARGETS.map((t) => `cordon-${t}`).sort());
  for (const line of lines) {
    const name = line.split("  ")[1]!;
    expect(`${line}\n`).toBe(checksumLine(join(DIST, name)));
  }
});

releaseTest("`sha256sum -c SHA256SUMS` verifies the release binaries", [noSums, missingTool("sha256sum")], () => {
  const result = run(["sha256sum", "--strict", "-c", "SHA256SUMS"], { cwd: DIST });
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
  expect(result.stdout.trim().split("\n")).toHaveLength(RELEASE_TARGETS.length);
});

const hostGlibc = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
releaseTest(`cordon-${hostGlibc} --version names its version and target`, [missingArtifact(hostGlibc)], () => {
  for (const args of [["--version"], ["run", "--version"]]) {
    const result = run([artifact(hostGlibc), ...args]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`cordon ${packageJson.version} (${hostGlibc})\n`);
  }
});

// A release binary honours no test hooks: CORDON_LANDLOCK_ABI_MAX=0 would
// disable Landlock (and refuse every run) in the development build.
releaseTest(`cordon-${hostGlibc} ignores the test hook CORDON_LANDLOCK_ABI_MAX`, [missingArtifact(hostGlibc)], () => {
  const env = { CORDON_LANDLOCK_ABI_MAX: "0" };
  const released = run([artifact(hostGlibc), "-v", "--", "true"], { env });
  expect(released.stderr).not.toContain("CORDON_LANDLOCK_ABI_MAX");
  expect(released.exitCode).toBe(0);
  const capped = run([artifact(hostGlibc), "explain", "--json"], { env: { CORDON_LANDLOCK_ABI_MAX: "2" } });
  expect(JSON.parse(capped.stdout).landlock.abi).toBeGreaterThan(2);
});

releaseTest("the development build honours CORDON_LANDLOCK_ABI_MAX, and says so", [], () => {
  const development = run([join(DIST, "cordon"), "-v", "--", "true"], { env: { CORDON_LANDLOCK_ABI_MAX: "0" } });
  expect(development.exitCode).toBe(125);
  expect(development.stderr).toContain("CORDON_LANDLOCK_ABI_MAX=0");
  expect(run([join(DIST, "cordon"), "--version"]).stdout).toContain("development build");
});
