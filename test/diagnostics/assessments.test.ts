// The pure parts of doctor: bwrap's messages, seccomp (including a kernel
// without it, which cannot be simulated against the real binary), container
// markers and the mode decision that run and explain share.
import { describe, expect, test } from "bun:test";
import { diagnoseBwrapMessage, type DiagnosisContext } from "../../src/diagnostics/bwrap-messages.ts";
import { assessSeccomp } from "../../src/diagnostics/doctor.ts";
import { detectContainer, seccompFacts } from "../../src/diagnostics/host.ts";
import { decideMode, type ModeInputs } from "../../src/plan/mode.ts";

const plainHost: DiagnosisContext = { sysctls: {}, container: {}, root: false };
const ubuntu: DiagnosisContext = { sysctls: { apparmorRestrict: "1" }, container: {}, root: false };
const docker: DiagnosisContext = { sysctls: {}, container: { kind: "docker", evidence: "/.dockerenv exists" }, root: true };

describe("bwrap messages", () => {
  test.each([
    ["bwrap: setting up uid map: Permission denied", ubuntu, "apparmor-userns", "apparmor_parser"],
    ["bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted", ubuntu, "apparmor-userns", "userns,"],
    ["bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.", docker, "userns-blocked", "seccomp=unconfined"],
    ["bwrap: No permissions to create new namespace", { ...plainHost, sysctls: { unprivilegedClone: "0" } }, "userns-blocked", "kernel.unprivileged_userns_clone=1"],
    ["bwrap: Creating new namespace failed: No space left on device", { ...plainHost, sysctls: { maxUserNamespaces: "0" } }, "userns-limit", "user.max_user_namespaces"],
    ["bwrap: Creating new namespace failed: Invalid argument", plainHost, "userns-unavailable", "--mode landlock"],
    ["bwrap: Can't mount proc on /newroot/proc: Operation not permitted", docker, "proc-mount", "systempaths=unconfined"],
    ["bwrap: Unknown option --disable-userns", plainHost, "bwrap-too-old", "0.8.0"],
    ["bwrap: something new", plainHost, "unknown", "--mode landlock"],
  ] as const)("%s", (message, host, id, fix) => {
    const diagnosis = diagnoseBwrapMessage(message, host);
    expect(diagnosis.id).toBe(id);
    expect(diagnosis.fixes.join("\n")).toContain(fix);
  });

  test("the AppArmor profile names the bwrap that failed", () => {
    const diagnosis = diagnoseBwrapMessage("bwrap: setting up uid map: Permission denied", { ...ubuntu, bwrapPath: "/opt/bin/bwrap" });
    expect(diagnosis.fixes[0]).toContain("profile bwrap /opt/bin/bwrap flags=(unconfined)");
  });
});

describe("seccomp assessment", () => {
  const withFilter = "Name:\tcordon\nSeccomp:\t0\nSeccomp_filters:\t0\n";
  test("a kernel without CONFIG_SECCOMP fails", () => {
    const check = assessSeccomp(seccompFacts("Name:\tcordon\n", undefined));
    expect(check.status).toBe("fail");
    expect(check.fixes.join()).toContain("CONFIG_SECCOMP");
  });
  test("a kernel without seccomp filters fails", () => {
    expect(assessSeccomp(seccompFacts(withFilter, undefined)).status).toBe("fail");
  });
  test("a kernel lacking the errno action fails", () => {
    expect(assessSeccomp(seccompFacts(withFilter, "kill_process allow")).summary).toContain("errno");
  });
  test("filters installed by a container runtime are reported, not a failure", () => {
    const check = assessSeccomp(seccompFacts("Seccomp:\t2\nSeccomp_filters:\t1\n", "kill_process kill_thread trap errno user_notif trace log allow"));
    expect(check.status).toBe("ok");
    expect(check.summary).toContain("1 filter(s) already installed");
  });
});

describe("container markers", () => {
  const none = (_path: string) => false;
  test.each([
    [{ exists: (p: string) => p === "/.dockerenv" }, "docker"],
    [{ exists: (p: string) => p === "/run/.containerenv" }, "podman"],
    [{ exists: none, containerEnv: "systemd-nspawn" }, "systemd-nspawn"],
    [{ exists: none, cgroup: "0::/kubepods/besteffort/pod1/abc\n" }, "kubernetes"],
    [{ exists: none, cgroup: "0::/system.slice/docker-abc.scope\n" }, "docker"],
    [{ exists: none, cgroup: "0::/init.scope\n" }, undefined],
  ])("%#", (input, kind) => {
    expect(detectContainer(input).kind).toBe(kind);
  });
});

describe("decideMode (shared by run and explain)", () => {
  const found = { found: true as const, path: "/usr/bin/bwrap" };
  const missing = { found: false as const, reason: "bubblewrap is not installed" };
  const base: ModeInputs = { requested: "auto", landlockAbi: 7, bwrap: found, losses: [] };
  test("auto tries bwrap first, and uses it when it works", () => {
    expect(decideMode(base)).toMatchObject({ kind: "run", mode: "bwrap" });
    expect(decideMode({ ...base, bwrapStarts: true })).toMatchObject({ kind: "run", mode: "bwrap" });
  });
  test("auto falls back to landlock-only when bwrap fails or is missing and nothing is lost", () => {
    expect(decideMode({ ...base, bwrapStarts: false })).toMatchObject({ kind: "run", mode: "landlock" });
    expect(decideMode({ ...base, bwrap: missing })).toMatchObject({ kind: "run", mode: "landlock" });
  });
  test("auto refuses when landlock-only mode would lose something", () => {
    const decision = decideMode({ ...base, bwrapStarts: false, losses: ["tcp ports"] });
    expect(decision).toMatchObject({ kind: "refuse", attempted: "bwrap" });
    expect(decision.reason).toContain("tcp ports");
  });
  test("--mode bwrap refuses without a working bwrap; --mode landlock never looks", () => {
    expect(decideMode({ ...base, requested: "bwrap", bwrap: missing })).toMatchObject({ kind: "refuse" });
    expect(decideMode({ ...base, requested: "bwrap", bwrapStarts: false })).toMatchObject({ kind: "refuse" });
    expect(decideMode({ ...base, requested: "landlock", bwrap: undefined })).toMatchObject({ kind: "run", mode: "landlock" });
    // Asking for landlock-only mode accepts what it loses; the decision says so.
    const accepted = decideMode({ ...base, requested: "landlock", bwrap: undefined, losses: ["x"] });
    expect(accepted).toMatchObject({ kind: "run", mode: "landlock" });
    expect(accepted.reason).toContain("accepting: x");
  });
  test("no Landlock refuses every mode", () => {
    for (const requested of ["auto", "bwrap", "landlock"] as const) {
      expect(decideMode({ ...base, requested, landlockAbi: 0 }).kind).toBe("refuse");
    }
  });
});
