// The pure parts of doctor: bwrap's messages and seccomp (including a kernel
// without it, which cannot be simulated against the real binary).
import { describe, expect, test } from "bun:test";
import { diagnoseBwrapMessage, type DiagnosisContext } from "../../src/diagnostics/bwrap-messages.ts";
import { assessSeccomp } from "../../src/diagnostics/doctor.ts";
import { detectNesting, seccompFacts } from "../../src/host/system.ts";

const plainHost: DiagnosisContext = { sysctls: {}, container: {}, root: false };
const ubuntu: DiagnosisContext = { sysctls: { apparmorRestrict: "1" }, container: {}, root: false };
const docker: DiagnosisContext = {
  sysctls: {},
  container: { kind: "docker", evidence: "/.dockerenv exists" },
  root: true,
};

describe("bwrap messages", () => {
  test.each([
    ["bwrap: setting up uid map: Permission denied", ubuntu, "apparmor-userns", "apparmor_parser"],
    ["bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted", ubuntu, "apparmor-userns", "userns,"],
    [
      "bwrap: No permissions to create new namespace, likely because the kernel does " +
        "not allow non-privileged user namespaces.",
      docker,
      "userns-blocked",
      "seccomp=unconfined",
    ],
    [
      "bwrap: No permissions to create new namespace",
      { ...plainHost, sysctls: { unprivilegedClone: "0" } },
      "userns-blocked",
      "kernel.unprivileged_userns_clone=1",
    ],
    [
      "bwrap: Creating new namespace failed: No space left on device",
      { ...plainHost, sysctls: { maxUserNamespaces: "0" } },
      "userns-limit",
      "user.max_user_namespaces",
    ],
    ["bwrap: Creating new namespace failed: Invalid argument", plainHost, "userns-unavailable", "--mode landlock"],
    [
      "bwrap: Can't mount proc on /newroot/proc: Operation not permitted",
      docker,
      "proc-mount",
      "systempaths=unconfined",
    ],
    ["bwrap: Unknown option --disable-userns", plainHost, "bwrap-too-old", "0.8.0"],
    ["bwrap: something new", plainHost, "unknown", "--mode landlock"],
  ] as const)("%s", (message, host, id, fix) => {
    const diagnosis = diagnoseBwrapMessage(message, host);
    expect(diagnosis.id).toBe(id);
    expect(diagnosis.fixes.join("\n")).toContain(fix);
  });

  test("the AppArmor profile names the bwrap that failed", () => {
    const diagnosis = diagnoseBwrapMessage("bwrap: setting up uid map: Permission denied", {
      ...ubuntu,
      bwrapPath: "/opt/bin/bwrap",
    });
    expect(diagnosis.fixes.join("\n")).toContain("profile bwrap /opt/bin/bwrap flags=(unconfined)");
  });
});

describe("a refused user namespace: the most specific cause, and one fix", () => {
  const refused = "bwrap: No permissions to create new namespace";
  const enospc =
    "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)";
  test.each([
    [
      refused,
      { ...docker, nesting: { kind: "bwrap" as const, evidence: "an ancestor process is bwrap" } },
      "nested",
      "bwrap",
    ],
    [refused, { ...plainHost, nesting: { kind: "cordon" as const, evidence: "x" } }, "nested", "this cordon outside"],
    [enospc, { ...plainHost, sysctls: { maxUserNamespaces: "0" } }, "userns-limit", "user.max_user_namespaces=15000"],
    [refused, { ...plainHost, sysctls: { unprivilegedClone: "0" } }, "userns-blocked", "unprivileged_userns_clone=1"],
    [refused, ubuntu, "apparmor-userns", "kernel.apparmor_restrict_unprivileged_userns=0"],
    [refused, docker, "userns-blocked", "seccomp=unconfined"],
  ] as const)("%s (%#)", (message, host, id, fix) => {
    const diagnosis = diagnoseBwrapMessage(message, host);
    expect(diagnosis.id).toBe(id);
    expect(diagnosis.fix).toContain(fix);
    expect(diagnosis.cause).not.toContain("\n");
  });

  test("nesting: an ancestor cordon or bwrap, else no-new-privileges with a seccomp filter", () => {
    expect(detectNesting({ ancestors: ["sh", "cordon", "bash"], status: "" }).kind).toBe("cordon");
    expect(detectNesting({ ancestors: ["sh", "bwrap"], status: "" }).kind).toBe("bwrap");
    expect(detectNesting({ ancestors: ["sh"], status: "NoNewPrivs:\t1\nSeccomp:\t2\n" }).kind).toBe("sandbox");
    // A container runtime's filter alone (Docker's default) is not another sandbox around cordon.
    expect(detectNesting({ ancestors: ["sh"], status: "NoNewPrivs:\t0\nSeccomp:\t2\n" }).kind).toBeUndefined();
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
    const check = assessSeccomp(
      seccompFacts(
        "Seccomp:\t2\nSeccomp_filters:\t1\n",
        "kill_process kill_thread trap errno user_notif trace log allow",
      ),
    );
    expect(check.status).toBe("ok");
    expect(check.summary).toContain("1 filter(s) already installed");
  });
});
