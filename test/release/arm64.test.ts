// Runs the linux-arm64 build under qemu-user on an x86 machine: it must start,
// name its target, and plan the exact seccomp program of the golden listing
// (test/release/golden/seccomp-aarch64.txt). Landlock, seccomp and bwrap are
// not exercised here: qemu-user does not emulate them faithfully (its own
// syscalls would be filtered), so a sandboxed run needs real arm64 hardware.
import { expect } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import packageJson from "../../package.json" with { type: "json" };
import { GOLDEN_PATH } from "../../scripts/golden-seccomp.ts";
import { run, modeArgs } from "../helpers/cordon.ts";
import { artifact, missingArtifact, releaseTest } from "./release-helpers.ts";

const QEMU = ["/usr/bin/qemu-aarch64-static", "/usr/bin/qemu-aarch64"].find((path) => existsSync(path));
/** glibc for arm64 (libc6-arm64-cross); qemu-user finds the loader and libraries under it. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

const reasons = [
  process.arch === "arm64" ? "this host is arm64: the other tests already run the native build" : undefined,
  missingArtifact("linux-arm64"),
  QEMU ? undefined : "qemu-user is not installed (apt-get install qemu-user-static)",
  existsSync(`${ARM64_SYSROOT}/lib/ld-linux-aarch64.so.1`)
    ? undefined
    : "arm64 glibc is missing (apt-get install libc6-arm64-cross)",
];

function underQemu(args: string[]) {
  return run([QEMU ?? "qemu-aarch64", artifact("linux-arm64"), ...args], {
    env: { QEMU_LD_PREFIX: ARM64_SYSROOT },
    timeoutMs: 120_000,
  });
}

/** The disassembly lines of one golden section (the hex bytes stripped). */
function goldenSection(network: string, mode: string): string[] {
  const sections = readFileSync(GOLDEN_PATH, "utf8").split("\n\n");
  const section = sections.find((text) => text.startsWith(`## arch=aarch64 network=${network} mode=${mode} `));
  if (!section) throw new Error(`no golden section for network=${network} mode=${mode}`);
  return section
    .split("\n")
    .slice(1)
    .map((line) => line.slice(18));
}

releaseTest(
  "arm64 under qemu: --version names the arm64 target",
  reasons,
  () => {
    const result = underQemu(["--version"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(`cordon ${packageJson.version} (linux-arm64)\n`);
  },
  120_000,
);

for (const mode of ["bwrap", "landlock"] as const) {
  releaseTest(
    `arm64 under qemu: explain --json --mode ${mode} plans the golden aarch64 seccomp program`,
    reasons,
    () => {
      const result = underQemu(["explain", "--json", ...modeArgs(mode)]);
      expect(result.exitCode).toBe(0);
      const plan = JSON.parse(result.stdout) as {
        mode: { planned: string };
        policy: { network: string };
        seccomp: { listing: string[] };
      };
      expect(plan.mode.planned).toBe(mode);
      expect(plan.seccomp.listing[1]).toContain("AUDIT_ARCH_AARCH64");
      // No write root: landlock-only mode's program also refuses every metadata change.
      const variant = plan.mode.planned === "landlock" ? "landlock metadata=locked" : plan.mode.planned;
      expect(plan.seccomp.listing).toEqual(goldenSection(plan.policy.network, variant));
    },
    120_000,
  );
}
