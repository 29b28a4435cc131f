// Host facts for diagnostics, each read once from /proc or the filesystem.
// The readers take their inputs as text so tests can feed any host.
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { statusField } from "../bytes.ts";

function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** A sysctl's value (trimmed), or undefined when this kernel has no such knob. */
function readSysctl(name: string): string | undefined {
  return readProcFile(`/proc/sys/${name.replaceAll(".", "/")}`)?.trim();
}

export interface UsernsSysctls {
  /** Ubuntu 23.10+: 1 confines unprivileged user namespaces to AppArmor profiles that allow them. */
  apparmorRestrict?: string;
  /** 0 forbids creating any user namespace. */
  maxUserNamespaces?: string;
  /** Debian's and older Ubuntu's switch: 0 forbids unprivileged user namespaces. */
  unprivilegedClone?: string;
}

export function readUsernsSysctls(): UsernsSysctls {
  return {
    apparmorRestrict: readSysctl("kernel.apparmor_restrict_unprivileged_userns"),
    maxUserNamespaces: readSysctl("user.max_user_namespaces"),
    unprivilegedClone: readSysctl("kernel.unprivileged_userns_clone"),
  };
}

export interface SeccompFacts {
  /** The "Seccomp:" field of /proc/self/status: absent without CONFIG_SECCOMP. */
  mode?: number;
  /** Filters already installed on this process (a container runtime's, a parent sandbox's). */
  filters?: number;
  /** /proc/sys/kernel/seccomp/actions_avail, split; absent without CONFIG_SECCOMP_FILTER. */
  actions?: string[];
}

export function readSeccompFacts(): SeccompFacts {
  return seccompFacts(readProcFile("/proc/self/status") ?? "", readSysctl("kernel.seccomp.actions_avail"));
}

/** Parses /proc/self/status and actions_avail (undefined: the file is absent). */
export function seccompFacts(status: string, actions: string | undefined): SeccompFacts {
  const field = (name: string) => {
    const value = statusField(status, name);
    return value === undefined ? undefined : Number(value);
  };
  return { mode: field("Seccomp"), filters: field("Seccomp_filters"), actions: actions?.split(/\s+/).filter(Boolean) };
}

export interface ContainerFacts {
  /** docker, podman, kubernetes, lxc, a systemd `container=` value, or undefined on a plain host. */
  kind?: string;
  /** What gave it away. */
  evidence?: string;
}

interface ContainerProbeInput {
  exists: (path: string) => boolean;
  cgroup?: string;
  containerEnv?: string;
}

/** Guesses whether cordon runs inside a container, from the usual markers. */
export function detectContainer(
  input: ContainerProbeInput = {
    exists: existsSync,
    cgroup: readProcFile("/proc/1/cgroup"),
    containerEnv: process.env.container,
  },
): ContainerFacts {
  if (input.exists("/.dockerenv")) return { kind: "docker", evidence: "/.dockerenv exists" };
  if (input.exists("/run/.containerenv")) return { kind: "podman", evidence: "/run/.containerenv exists" };
  if (input.containerEnv)
    return { kind: input.containerEnv, evidence: `container=${input.containerEnv} in the environment` };
  const cgroup = input.cgroup ?? "";
  for (const [pattern, kind] of [
    [/kubepods/, "kubernetes"],
    [/docker|containerd/, "docker"],
    [/libpod/, "podman"],
    [/lxc/, "lxc"],
  ] as const) {
    if (pattern.test(cgroup)) return { kind, evidence: `/proc/1/cgroup mentions ${kind}` };
  }
  return {};
}

export function kernelRelease(): string {
  return release();
}

export interface NestingFacts {
  /** "cordon", "bwrap", or "sandbox" (no-new-privileges and a seccomp filter, by whom unknown). */
  kind?: "cordon" | "bwrap" | "sandbox";
  /** What gave it away. */
  evidence?: string;
}

interface NestingProbeInput {
  /** The command names (comm) of this process's ancestors, parent first. */
  ancestors: string[];
  /** This process's /proc/self/status. */
  status: string;
}

/** The command names of this process's ancestors, parent first (at most 64, up to pid 1 of this namespace). */
function ancestorNames(): string[] {
  const names: string[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < 64 && pid > 0; depth++) {
    const stat = readProcFile(`/proc/${pid}/stat`);
    if (stat === undefined) break;
    // comm may hold spaces and parentheses: it ends at the last ')'.
    const end = stat.lastIndexOf(")");
    names.push(stat.slice(stat.indexOf("(") + 1, end));
    pid = Number(stat.slice(end + 2).split(" ")[1]);
  }
  return names;
}

/**
 * Whether cordon runs inside another sandbox, which forbids the user
 * namespaces bwrap needs: an ancestor cordon (landlock-only mode) or bwrap
 * (bwrap mode makes it PID 1 of the sandbox), else no-new-privileges with a
 * seccomp filter, the mark of sandboxes (a container runtime sets the filter
 * but not no-new-privileges by default).
 */
export function detectNesting(
  input: NestingProbeInput = { ancestors: ancestorNames(), status: readProcFile("/proc/self/status") ?? "" },
): NestingFacts {
  const outer = input.ancestors.find((name) => name === "cordon" || name === "bwrap");
  if (outer === "cordon" || outer === "bwrap") return { kind: outer, evidence: `an ancestor process is ${outer}` };
  if (statusField(input.status, "NoNewPrivs") === "1" && statusField(input.status, "Seccomp") === "2") {
    return { kind: "sandbox", evidence: "this process has no-new-privileges and a seccomp filter" };
  }
  return {};
}
