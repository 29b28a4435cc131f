// `cordon doctor`: one check per layer cordon relies on, each with what it
// means for cordon's modes and the concrete fix. Probes the host once; the
// assessments below are pure functions of what was probed, so tests can feed
// them any host.
import { HOST_ARCH } from "../../ffi/syscalls.ts";
import { NEWEST_KNOWN_ABI } from "../landlock/abi.ts";
import { landlockRulesFor } from "../landlock/rules.ts";
import { LANDLOCK_ONLY_GAPS } from "../plan/sandbox.ts";
import { landlockAvailability, type LandlockAvailability } from "../stage1/host.ts";
import { VERSION } from "../version.ts";
import { diagnoseBwrapMessage, USERNS_DIAGNOSES, type BwrapDiagnosis } from "./bwrap-messages.ts";
import { probeBwrap, type BwrapProbe } from "./bwrap-probe.ts";
import {
  detectContainer, kernelRelease, readSeccompFacts, readUsernsSysctls, type ContainerFacts, type SeccompFacts, type UsernsSysctls,
} from "./host.ts";
import type { Check, DoctorReport } from "./schema.ts";

export interface HostProbe {
  landlock: LandlockAvailability;
  seccomp: SeccompFacts;
  sysctls: UsernsSysctls;
  bwrap: BwrapProbe;
  container: ContainerFacts;
  uid: number;
}

export function probeHost(options: { bwrap?: string; env?: Record<string, string | undefined> } = {}): HostProbe {
  return {
    landlock: landlockAvailability(options.env),
    seccomp: readSeccompFacts(),
    sysctls: readUsernsSysctls(),
    bwrap: probeBwrap(options.bwrap),
    container: detectContainer(),
    uid: process.getuid?.() ?? -1,
  };
}

const LANDLOCK_ONLY_CONSEQUENCE = `auto mode will use landlock-only mode, which does not enforce: ${LANDLOCK_ONLY_GAPS.map((gap) => gap.feature).join(", ")}; denies inside write roots are compiled into grants on their siblings, so new entries cannot be created directly next to a denied path`;

export function assessLandlock(landlock: LandlockAvailability): Check {
  const details = { abi: landlock.abi, newestKnownAbi: NEWEST_KNOWN_ABI, note: landlock.note ?? null };
  if (landlock.abi === 0) {
    const disabled = landlock.note?.includes("disabled at boot");
    return {
      id: "landlock",
      status: "fail",
      summary: landlock.note ?? "Landlock is unavailable",
      consequence: "cordon refuses to run in every mode: stage 2 enforces the filesystem policy with Landlock",
      fixes: disabled
        ? ["add landlock to the kernel's lsm= list (e.g. GRUB_CMDLINE_LINUX=\"lsm=landlock,lockdown,yama,integrity,apparmor,bpf\" in /etc/default/grub, then `sudo update-grub` and reboot)"]
        : ["use Linux 5.13 or newer built with CONFIG_SECURITY_LANDLOCK=y and landlock in CONFIG_LSM (inside a container, this is the host's kernel)"],
      details,
    };
  }
  const sample = landlockRulesFor({ readRoots: [], writeRoots: [], devices: [], network: { allow: false, connectPorts: [], bindPorts: [] } }, landlock.abi);
  const weaker = sample.dropped.filter((gap) => gap.weakensSecurity);
  const lost = sample.dropped.map((gap) => `${gap.feature} (ABI ${gap.since ?? "?"}): ${gap.consequence}`);
  return {
    id: "landlock",
    status: weaker.length > 0 ? "warn" : "ok",
    summary: `Landlock ABI ${landlock.abi}${landlock.note ? ` (${landlock.note})` : ""}`,
    consequence: lost.length > 0 ? `on this ABI: ${lost.join("; ")}` : null,
    fixes: weaker.length > 0 ? [`a newer kernel provides the missing rights (Landlock ABI ${Math.max(...weaker.map((gap) => gap.since ?? 0))} or newer); --strict refuses runs that need them`] : [],
    details,
  };
}

export function assessSeccomp(facts: SeccompFacts): Check {
  const details = { mode: facts.mode ?? null, filters: facts.filters ?? null, actions: facts.actions?.join(" ") ?? null };
  const fail = (summary: string): Check => ({
    id: "seccomp",
    status: "fail",
    summary,
    consequence: "cordon refuses to run in every mode: its seccomp filter closes io_uring, TIOCSTI, nested user namespaces and the network",
    fixes: ["use a kernel built with CONFIG_SECCOMP=y and CONFIG_SECCOMP_FILTER=y (every mainstream distribution kernel is)"],
    details,
  });
  if (facts.mode === undefined) return fail("the kernel has no seccomp support (no Seccomp field in /proc/self/status)");
  if (!facts.actions) return fail("the kernel has no seccomp filter support (no /proc/sys/kernel/seccomp/actions_avail)");
  const missing = ["errno", "kill_process", "allow"].filter((action) => !facts.actions!.includes(action));
  if (missing.length > 0) return fail(`the kernel lacks the seccomp actions cordon uses: ${missing.join(", ")}`);
  const stacked = (facts.filters ?? 0) > 0;
  return {
    id: "seccomp",
    status: "ok",
    summary: stacked
      ? `seccomp filters available; ${facts.filters} filter(s) already installed on cordon (a container runtime's or a parent sandbox's), cordon's stacks on top`
      : "seccomp filters available",
    consequence: null,
    fixes: [],
    details,
  };
}

export function assessUserNamespaces(sysctls: UsernsSysctls, bwrap: BwrapProbe, diagnosis: BwrapDiagnosis | null): Check {
  const details = {
    apparmorRestrictUnprivilegedUserns: sysctls.apparmorRestrict ?? null,
    maxUserNamespaces: sysctls.maxUserNamespaces ?? null,
    unprivilegedUsernsClone: sysctls.unprivilegedClone ?? null,
  };
  // Each restricting sysctl with the setting that lifts it.
  const restrictions = [
    sysctls.maxUserNamespaces === "0" ? ["user.max_user_namespaces=0", "user.max_user_namespaces=15000"] : undefined,
    sysctls.unprivilegedClone === "0" ? ["kernel.unprivileged_userns_clone=0", "kernel.unprivileged_userns_clone=1"] : undefined,
    sysctls.apparmorRestrict === "1" ? ["kernel.apparmor_restrict_unprivileged_userns=1", "kernel.apparmor_restrict_unprivileged_userns=0"] : undefined,
  ].filter((pair): pair is string[] => pair !== undefined);
  const sysctlProblems = restrictions.map(([problem]) => problem!);
  if (bwrap.found && bwrap.works) {
    return {
      id: "user-namespaces",
      status: "ok",
      summary: `a real bwrap attempt created user, mount, pid, net, ipc and uts namespaces${sysctlProblems.length ? ` (despite ${sysctlProblems.join(", ")})` : ""}`,
      consequence: null,
      fixes: [],
      details,
    };
  }
  if (bwrap.found && diagnosis && USERNS_DIAGNOSES.has(diagnosis.id)) {
    return {
      id: "user-namespaces",
      status: "fail",
      summary: `a real bwrap attempt failed: ${bwrap.message || `exit ${bwrap.status}`}`,
      consequence: LANDLOCK_ONLY_CONSEQUENCE,
      fixes: diagnosis.fixes,
      details,
    };
  }
  return {
    id: "user-namespaces",
    status: sysctlProblems.length > 0 ? "fail" : "warn",
    summary: sysctlProblems.length > 0 ? `restricted by ${sysctlProblems.join(", ")}` : "not tested: bwrap could not be run",
    consequence: sysctlProblems.length > 0 ? "bwrap mode cannot work here until user namespaces are allowed" : null,
    fixes: restrictions.map(([, setting]) => `\`sudo sysctl -w ${setting}\` (persist it in /etc/sysctl.d/)`),
    details,
  };
}

export function assessBwrap(bwrap: BwrapProbe, diagnosis: BwrapDiagnosis | null): Check {
  if (!bwrap.found) {
    return {
      id: "bwrap",
      status: "fail",
      summary: bwrap.reason,
      consequence: LANDLOCK_ONLY_CONSEQUENCE,
      fixes: ["`sudo apt-get install bubblewrap` (Fedora: `dnf install bubblewrap`; Alpine: `apk add bubblewrap`), or pass --bwrap PATH to one outside every write root"],
      details: { path: null, version: null, status: null, message: null, diagnosis: null },
    };
  }
  const details = { path: bwrap.path, version: bwrap.version ?? null, status: bwrap.status, message: bwrap.message || null, diagnosis: diagnosis?.id ?? null };
  if (bwrap.works) {
    return {
      id: "bwrap",
      status: "ok",
      summary: `${bwrap.path} (bubblewrap ${bwrap.version ?? "of unknown version"}) mounted /proc, /dev and a tmpfs and brought up loopback in new namespaces`,
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
    summary: `${bwrap.path} failed (exit ${bwrap.status}): ${bwrap.message || "no message"}`,
    consequence: `${diagnosis?.cause ?? "bwrap mode does not work here"}${userns ? " (fixes under user-namespaces)" : `; ${LANDLOCK_ONLY_CONSEQUENCE}`}`,
    fixes: userns ? [] : (diagnosis?.fixes ?? []),
    details,
  };
}

export function assessPrivileges(uid: number): Check {
  const root = uid === 0;
  return {
    id: "privileges",
    status: "ok",
    summary: root ? "running as root" : `running as uid ${uid}`,
    consequence: root
      ? "the command runs with no capabilities in either mode, but keeps uid 0: files outside the write roots stay protected by Landlock and read-only mounts, not by permissions"
      : null,
    fixes: [],
    details: { uid, root },
  };
}

export function assessContainer(container: ContainerFacts): Check {
  return {
    id: "container",
    status: "ok",
    summary: container.kind ? `inside a ${container.kind} container (${container.evidence})` : "not inside a container, as far as the usual markers tell",
    consequence: container.kind
      ? "the container runtime's seccomp and AppArmor profiles decide whether bwrap may create namespaces; Landlock and seccomp depend on the host's kernel"
      : null,
    fixes: [],
    details: { kind: container.kind ?? null, evidence: container.evidence ?? null },
  };
}

export function doctorReport(host: HostProbe): DoctorReport {
  const diagnosis =
    host.bwrap.found && !host.bwrap.works
      ? diagnoseBwrapMessage(host.bwrap.message, { sysctls: host.sysctls, container: host.container, root: host.uid === 0, bwrapPath: host.bwrap.path })
      : null;
  const checks = [
    assessLandlock(host.landlock),
    assessSeccomp(host.seccomp),
    assessUserNamespaces(host.sysctls, host.bwrap, diagnosis),
    assessBwrap(host.bwrap, diagnosis),
    assessPrivileges(host.uid),
    assessContainer(host.container),
  ];
  const failed = (id: Check["id"]) => checks.some((check) => check.id === id && check.status === "fail");
  const stage2 = !failed("landlock") && !failed("seccomp");
  const bwrapWorks = stage2 && host.bwrap.found && host.bwrap.works;
  return {
    format: "cordon-doctor/1",
    version: VERSION,
    host: { kernel: kernelRelease(), arch: HOST_ARCH, uid: host.uid, root: host.uid === 0, container: host.container.kind ?? null },
    checks,
    diagnosis,
    modes: { bwrap: bwrapWorks, landlock: stage2, auto: bwrapWorks ? "bwrap" : stage2 ? "landlock" : "refuse" },
    ok: bwrapWorks,
  };
}
