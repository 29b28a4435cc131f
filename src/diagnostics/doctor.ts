// `cordon doctor`: one check per layer cordon relies on, each with what it
// means for cordon's modes and the concrete fix. Probes the host once; the
// assessments below are pure functions of what was probed, so tests can feed
// them any host.
import type { BwrapAttempt, BwrapLocation } from "../host/bwrap.ts";
import type { CgroupFacts } from "../host/cgroups.ts";
import type { HostFacts } from "../host/facts.ts";
import type { LandlockAvailability } from "../host/landlock.ts";
import type { SeccompFacts, UsernsSysctls, ContainerFacts, NestingFacts } from "../host/system.ts";
import { NEWEST_KNOWN_ABI } from "../landlock/abi.ts";
import { abiDegradations, landlockOnlyLosses } from "../policy/degradations.ts";
import { VERSION } from "../version.ts";
import { diagnoseBwrapMessage, USERNS_DIAGNOSES, type BwrapDiagnosis } from "./bwrap-messages.ts";
import type { Check, DoctorReport } from "./schema.ts";

/** What doctor needs of the host facts: a bwrap attempt is part of them. */
type DoctorFacts = Pick<
  HostFacts,
  "landlock" | "seccomp" | "sysctls" | "bwrap" | "bwrapAttempt" | "container" | "uid" | "kernel" | "arch" | "cgroups"
>;

/** Who falls back to landlock-only mode, on which Landlock ABI. */
interface Fallback {
  uid: number;
  abi: number;
}

/** What falling back to landlock-only mode means for this user and ABI. */
function landlockOnlyConsequence({ uid, abi }: Fallback): string {
  const all = landlockOnlyLosses(uid, abi);
  const losses = all.filter((loss) => loss.weakensSecurity);
  const costs = all.filter((loss) => !loss.weakensSecurity);
  const refused = losses.filter((loss) => loss.refusedByDefault);
  return (
    `auto mode will use landlock-only mode, which does not enforce: ` +
    `${losses.map((degradation) => degradation.feature).join(", ")}; ` +
    refused.map((loss) => `${loss.consequence}, so cordon refuses it unless --allow-degraded ${loss.name}; `).join("") +
    `and costs: ${costs.map((cost) => cost.consequence).join("; ")}; ` +
    `denies inside write roots are compiled into grants on their siblings, so new ` +
    `entries cannot be created directly next to a denied path`
  );
}

function assessLandlock(landlock: LandlockAvailability): Check {
  const details = { abi: landlock.abi, newestKnownAbi: NEWEST_KNOWN_ABI, note: landlock.note ?? null };
  if (landlock.abi === 0) {
    const disabled = landlock.note?.includes("disabled at boot");
    return {
      id: "landlock",
      status: "fail",
      summary: landlock.note ?? "Landlock is unavailable",
      consequence: "cordon refuses to run in every mode: stage 2 enforces the filesystem policy with Landlock",
      fixes: disabled
        ? [
            "add landlock to the kernel's lsm= list (e.g. " +
              'GRUB_CMDLINE_LINUX="lsm=landlock,lockdown,yama,integrity,apparmor,bpf" in ' +
              "/etc/default/grub, then `sudo update-grub` and reboot)",
          ]
        : [
            "use Linux 5.13 or newer built with CONFIG_SECURITY_LANDLOCK=y and landlock in " +
              "CONFIG_LSM (inside a container, this is the host's kernel)",
          ],
      details,
    };
  }
  const missing = abiDegradations(landlock.abi);
  const weaker = missing.filter((degradation) => degradation.weakensSecurity);
  const lost = missing.map(
    (degradation) => `${degradation.feature} (ABI ${degradation.since}): ${degradation.consequence}`,
  );
  return {
    id: "landlock",
    status: weaker.length > 0 ? "warn" : "ok",
    summary: `Landlock ABI ${landlock.abi}${landlock.note ? ` (${landlock.note})` : ""}`,
    consequence: lost.length > 0 ? `on this ABI: ${lost.join("; ")}` : null,
    fixes:
      weaker.length > 0
        ? [
            `a newer kernel provides the missing rights (Landlock ABI ` +
              `${Math.max(...weaker.map((degradation) => degradation.since))} or newer); ` +
              `--strict refuses runs that need them`,
          ]
        : [],
    details,
  };
}

export function assessSeccomp(facts: SeccompFacts): Check {
  const details = {
    mode: facts.mode ?? null,
    filters: facts.filters ?? null,
    actions: facts.actions?.join(" ") ?? null,
  };
  const fail = (summary: string): Check => ({
    id: "seccomp",
    status: "fail",
    summary,
    consequence:
      "cordon refuses to run in every mode: its seccomp filter closes io_uring, " +
      "TIOCSTI, nested user namespaces and the network",
    fixes: [
      "use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel is)",
    ],
    details,
  });
  if (facts.mode === undefined)
    return fail("the kernel has no seccomp support (no Seccomp field in /proc/self/status)");
  if (!facts.actions)
    return fail("the kernel has no seccomp filter support (no /proc/sys/kernel/seccomp/actions_avail)");
  const missing = ["errno", "kill_process", "allow"].filter((action) => !facts.actions!.includes(action));
  if (missing.length > 0) return fail(`the kernel lacks the seccomp actions cordon uses: ${missing.join(", ")}`);
  const stacked = (facts.filters ?? 0) > 0;
  return {
    id: "seccomp",
    status: "ok",
    summary: stacked
      ? `seccomp filters available; ${facts.filters} filter(s) already installed on ` +
        `cordon (a container runtime's or a parent sandbox's), cordon's stacks on top`
      : "seccomp filters available",
    consequence: null,
    fixes: [],
    details,
  };
}

function assessUserNamespaces(
  sysctls: UsernsSysctls,
  attempt: BwrapAttempt | undefined,
  diagnosis: BwrapDiagnosis | null,
  fallback: Fallback,
): Check {
  const details = {
    apparmorRestrictUnprivilegedUserns: sysctls.apparmorRestrict ?? null,
    maxUserNamespaces: sysctls.maxUserNamespaces ?? null,
    unprivilegedUsernsClone: sysctls.unprivilegedClone ?? null,
  };
  // Each restricting sysctl with the setting that lifts it.
  const restrictions = [
    sysctls.maxUserNamespaces === "0" ? ["user.max_user_namespaces=0", "user.max_user_namespaces=15000"] : undefined,
    sysctls.unprivilegedClone === "0"
      ? ["kernel.unprivileged_userns_clone=0", "kernel.unprivileged_userns_clone=1"]
      : undefined,
    sysctls.apparmorRestrict === "1"
      ? ["kernel.apparmor_restrict_unprivileged_userns=1", "kernel.apparmor_restrict_unprivileged_userns=0"]
      : undefined,
  ].filter((pair): pair is string[] => pair !== undefined);
  const sysctlProblems = restrictions.map(([problem]) => problem!);
  if (attempt?.works) {
    return {
      id: "user-namespaces",
      status: "ok",
      summary:
        `a real bwrap attempt created user, mount, pid, net, ipc and uts ` +
        `namespaces${sysctlProblems.length ? ` (despite ${sysctlProblems.join(", ")})` : ""}`,
      consequence: null,
      fixes: [],
      details,
    };
  }
  if (attempt && diagnosis && USERNS_DIAGNOSES.has(diagnosis.id)) {
    return {
      id: "user-namespaces",
      status: "fail",
      summary: `a real bwrap attempt failed: ${attempt.message || `exit ${attempt.status}`}`,
      consequence: landlockOnlyConsequence(fallback),
      fixes: diagnosis.fixes,
      details,
    };
  }
  return {
    id: "user-namespaces",
    status: sysctlProblems.length > 0 ? "fail" : "warn",
    summary:
      sysctlProblems.length > 0 ? `restricted by ${sysctlProblems.join(", ")}` : "not tested: bwrap could not be run",
    consequence: sysctlProblems.length > 0 ? "bwrap mode cannot work here until user namespaces are allowed" : null,
    fixes: restrictions.map(([, setting]) => `\`sudo sysctl -w ${setting}\` (persist it in /etc/sysctl.d/)`),
    details,
  };
}

function assessBwrap(
  bwrap: BwrapLocation,
  attempt: BwrapAttempt | undefined,
  diagnosis: BwrapDiagnosis | null,
  fallback: Fallback,
): Check {
  if (!bwrap.found || !attempt) {
    return {
      id: "bwrap",
      status: "fail",
      summary: bwrap.found ? `${bwrap.path} was not tried` : bwrap.reason,
      consequence: landlockOnlyConsequence(fallback),
      fixes: [
        "`sudo apt-get install bubblewrap` (Fedora: `dnf install bubblewrap`; Alpine: " +
          "`apk add bubblewrap`), or pass --bwrap PATH to one outside every write root",
      ],
      details: { path: null, version: null, status: null, message: null, diagnosis: null },
    };
  }
  const details = {
    path: bwrap.path,
    version: attempt.version ?? null,
    status: attempt.status,
    message: attempt.message || null,
    diagnosis: diagnosis?.id ?? null,
  };
  if (attempt.works) {
    return {
      id: "bwrap",
      status: "ok",
      summary:
        `${bwrap.path} (bubblewrap ${attempt.version ?? "of unknown version"}) mounted ` +
        `/proc, /dev and a tmpfs and brought up loopback in new namespaces`,
      consequence: null,
      fixes: [],
      details,
    };
  }
  // A refused user namespace is reported (with its fixes) by the user-namespaces check.
  const userns = diagnosis !== null && USERNS_DIAGNOSES.has(diagnosis.id);
  return {
    id: "bwrap",
    status: "fail",
    summary: `${bwrap.path} failed (exit ${attempt.status}): ${attempt.message || "no message"}`,
    consequence:
      `${diagnosis?.cause ?? "bwrap mode does not work here"}` +
      `${userns ? " (fixes under user-namespaces)" : `; ${landlockOnlyConsequence(fallback)}`}`,
    fixes: userns ? [] : (diagnosis?.fixes ?? []),
    details,
  };
}

function assessPrivileges(uid: number): Check {
  const root = uid === 0;
  return {
    id: "privileges",
    status: "ok",
    summary: root ? "running as root" : `running as uid ${uid}`,
    consequence: root
      ? "the command runs with no capabilities in either mode, but keeps uid 0: files " +
        "outside the write roots stay protected by Landlock and read-only mounts, not by " +
        "permissions. Without bwrap's read-only mounts, uid 0 could chmod every root-owned file, " +
        "so landlock-only mode as root with a write root is refused unless --allow-degraded metadata (with none, " +
        "seccomp refuses chmod, chown and xattr changes everywhere)"
      : null,
    fixes: [],
    details: { uid, root },
  };
}

function assessContainer(container: ContainerFacts): Check {
  return {
    id: "container",
    status: "ok",
    summary: container.kind
      ? `inside a ${container.kind} container (${container.evidence})`
      : "not inside a container, as far as the usual markers tell",
    consequence: container.kind
      ? "the container runtime's seccomp and AppArmor profiles decide whether bwrap may " +
        "create namespaces; Landlock and seccomp depend on the host's kernel"
      : null,
    fixes: [],
    details: { kind: container.kind ?? null, evidence: container.evidence ?? null },
  };
}

/** The one step that gives cordon a cgroup it may use, for who is asking and which cgroup version lacks it. */
function cgroupFix(uid: number, missing: CgroupFacts["missing"]): string[] {
  if (missing.length === 0) return [];
  if (missing.every((absence) => absence.why.includes("(cgroup v1)"))) {
    return [
      "cgroup v1 controllers are root's: run cordon as root, or boot the host with cgroup v2 " +
        "(systemd.unified_cgroup_hierarchy=1), where `systemd-run --user --scope -p Delegate=yes cordon …` " +
        "gives it one",
    ];
  }
  return [
    "start cordon alone in a cgroup of its own that is given memory and pids: " +
      `systemd-run ${uid === 0 ? "" : "--user "}--scope -p Delegate=yes cordon …`,
  ];
}

/**
 * Which limits cordon enforces here, and how: the timeout, the tmpfs size
 * and the rlimits everywhere; memory and processes where the sandbox can
 * get a cgroup of its own (host/cgroups.ts).
 */
function assessLimits(cgroups: CgroupFacts, uid: number): Check {
  const held = cgroups.homes.flatMap((home) =>
    home.controllers.map((controller) => `--${controller} (cgroup v${home.version} in ${home.parent})`),
  );
  const lost = cgroups.missing.map((absence) => `--${absence.controller}`);
  return {
    id: "limits",
    status: lost.length === 0 ? "ok" : "warn",
    summary:
      "--timeout (cordon's supervisor), --tmp-size (bwrap mode's tmpfs), --cpu-time, --file-size, " +
      `--open-files (rlimits, per process)${held.map((entry) => `, ${entry}`).join("")} are enforced` +
      (lost.length === 0 ? "" : `; ${lost.join(" and ")} cannot be`),
    consequence:
      lost.length === 0
        ? null
        : `${cgroups.missing.map((absence) => absence.why).join("; ")}: a run that asks for ${lost.join(" or ")} ` +
          "warns, and --strict refuses it unless --allow-degraded memory-limit / pids-limit",
    fixes: cgroupFix(uid, cgroups.missing),
    details: {
      cgroup: cgroups.homes.map((home) => `v${home.version} ${home.parent}: ${home.controllers.join(" ")}`).join("; "),
      notEnforced: cgroups.missing.map((absence) => absence.controller).join(" "),
    },
  };
}

/** `nesting`: another sandbox around cordon, asked for only when bwrap failed (doctor's command passes it). */
export function doctorReport(host: DoctorFacts, nesting: () => NestingFacts = () => ({})): DoctorReport {
  const attempt = host.bwrapAttempt;
  const diagnosis =
    host.bwrap.found && attempt && !attempt.works
      ? diagnoseBwrapMessage(attempt.message, {
          sysctls: host.sysctls,
          container: host.container,
          nesting: nesting(),
          root: host.uid === 0,
          bwrapPath: host.bwrap.path,
        })
      : null;
  const checks = [
    assessLandlock(host.landlock),
    assessSeccomp(host.seccomp),
    assessUserNamespaces(host.sysctls, attempt, diagnosis, { uid: host.uid, abi: host.landlock.abi }),
    assessBwrap(host.bwrap, attempt, diagnosis, { uid: host.uid, abi: host.landlock.abi }),
    assessPrivileges(host.uid),
    assessContainer(host.container),
    assessLimits(host.cgroups, host.uid),
  ];
  const failed = (id: Check["id"]) => checks.some((check) => check.id === id && check.status === "fail");
  const stage2 = !failed("landlock") && !failed("seccomp");
  const bwrapWorks = stage2 && attempt?.works === true;
  // As root, landlock-only mode runs only when its metadata gap is accepted by name.
  const landlockOnly = stage2 && host.uid !== 0;
  return {
    format: "cordon-doctor/1",
    version: VERSION,
    host: {
      kernel: host.kernel,
      arch: host.arch,
      uid: host.uid,
      root: host.uid === 0,
      container: host.container.kind ?? null,
    },
    checks,
    // The JSON keeps its documented fields; `fix` (the run's one-line pick) is `fixes[0]`.
    diagnosis: diagnosis && { id: diagnosis.id, cause: diagnosis.cause, fixes: diagnosis.fixes },
    modes: {
      bwrap: bwrapWorks,
      landlock: landlockOnly,
      auto: bwrapWorks ? "bwrap" : landlockOnly ? "landlock" : "refuse",
    },
    ok: bwrapWorks,
  };
}
