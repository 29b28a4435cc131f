// bubblewrap's failure messages mapped to their usual cause and fix. Pure:
// the message and what doctor knows about the host come in as data.
import type { ContainerFacts, UsernsSysctls } from "../host/system.ts";

export interface BwrapDiagnosis {
  /** Stable identifier, part of doctor's JSON. */
  id:
    | "apparmor-userns"
    | "userns-blocked"
    | "userns-limit"
    | "userns-unavailable"
    | "proc-mount"
    | "mount-denied"
    | "bwrap-too-old"
    | "unknown";
  cause: string;
  fixes: string[];
}

/** Ubuntu 24.04's recipe: a profile that lets bwrap (only) create user namespaces. */
function apparmorProfile(bwrapPath = "/usr/bin/bwrap"): string {
  return `abi <abi/4.0>,
include <tunables/global>

profile bwrap ${bwrapPath} flags=(unconfined) {
  userns,
  include if exists <local/bwrap>
}`;
}

function apparmorFix(bwrapPath?: string): string {
  return (
    `write this to /etc/apparmor.d/bwrap, then run \`sudo apparmor_parser -r ` +
    `/etc/apparmor.d/bwrap\`:\n${apparmorProfile(bwrapPath)}`
  );
}
const APPARMOR_SYSCTL_FIX =
  "or, for every program at once: `sudo sysctl -w " +
  "kernel.apparmor_restrict_unprivileged_userns=0` (persist it in /etc/sysctl.d/)";
const DOCKER_FIX =
  "start the container with `docker run --security-opt seccomp=unconfined " +
  "--security-opt apparmor=unconfined ...` (or a seccomp profile that allows " +
  "clone/unshare with CLONE_NEWUSER, plus mount, umount2 and pivot_root); " +
  "--privileged is not needed";
const PROC_MOUNT_FIX =
  "start the container with `docker run --security-opt systempaths=unconfined " +
  "...` (podman: `--security-opt unmask=ALL`) so /proc is not partly masked, in " +
  "addition to the seccomp and AppArmor options above";
const LANDLOCK_MODE_FIX =
  "or accept landlock-only mode explicitly with `--mode landlock` (as root, also `--allow-degraded metadata`; " +
  "see `cordon explain` for what it does not enforce)";

export interface DiagnosisContext {
  sysctls: UsernsSysctls;
  container: ContainerFacts;
  root: boolean;
  /** The bwrap that failed, for the AppArmor profile's attachment path. */
  bwrapPath?: string;
}

/** Diagnoses that mean user namespaces are refused (as opposed to a bwrap or mount problem). */
export const USERNS_DIAGNOSES: ReadonlySet<BwrapDiagnosis["id"]> = new Set([
  "apparmor-userns",
  "userns-blocked",
  "userns-limit",
  "userns-unavailable",
]);

/** The most likely cause of a bwrap failure, from its stderr and the host. */
export function diagnoseBwrapMessage(stderr: string, host: DiagnosisContext): BwrapDiagnosis {
  const message = stderr.toLowerCase();
  const apparmorRestricts = host.sysctls.apparmorRestrict === "1";
  const APPARMOR_FIX = apparmorFix(host.bwrapPath);
  if (/unknown option --(disable-userns|unshare-user|info-fd|args)/.test(message)) {
    return {
      id: "bwrap-too-old",
      cause:
        "this bubblewrap is too old for the options cordon needs (--disable-userns needs bubblewrap 0.8.0 or newer)",
      fixes: [
        "install bubblewrap 0.8.0 or newer (`apt-get install bubblewrap` on Debian 12+ " +
          "/ Ubuntu 24.04+), or pass --bwrap PATH to a newer build",
      ],
    };
  }
  if (
    message.includes("setting up uid map") ||
    message.includes("setting up gid map") ||
    message.includes("rtm_newaddr")
  ) {
    const cause =
      "bwrap got a user namespace without any capability in it, so it cannot write " +
      "its uid map or bring up loopback: the signature of AppArmor's restriction on " +
      "unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, " +
      "the default on Ubuntu 23.10 and 24.04)";
    const unconfirmed = apparmorRestricts
      ? ""
      : "; this host does not show that sysctl set" +
        (host.container.kind ? `, so the ${host.container.kind} container's security profile may be the cause` : "");
    return {
      id: "apparmor-userns",
      cause: `${cause}${unconfirmed}`,
      fixes: [APPARMOR_FIX, APPARMOR_SYSCTL_FIX, ...(host.container.kind ? [DOCKER_FIX] : []), LANDLOCK_MODE_FIX],
    };
  }
  if (
    message.includes("no permissions to create new namespace") ||
    (message.includes("creating new namespace failed") && message.includes("operation not permitted"))
  ) {
    if (host.container.kind) {
      return {
        id: "userns-blocked",
        cause:
          `the container's seccomp profile (${host.container.kind}'s default) refuses ` +
          `unshare/clone with CLONE_NEWUSER, so bwrap cannot create namespaces`,
        fixes: [DOCKER_FIX, LANDLOCK_MODE_FIX],
      };
    }
    const fixes =
      host.sysctls.unprivilegedClone === "0"
        ? ["`sudo sysctl -w kernel.unprivileged_userns_clone=1` (persist it in /etc/sysctl.d/)", LANDLOCK_MODE_FIX]
        : apparmorRestricts
          ? [APPARMOR_FIX, APPARMOR_SYSCTL_FIX, LANDLOCK_MODE_FIX]
          : [
              "allow unprivileged user namespaces on this host (a parent sandbox, seccomp " +
                "filter or security module forbids them)",
              LANDLOCK_MODE_FIX,
            ];
    return {
      id: "userns-blocked",
      cause: "the kernel refused to create a user namespace for an unprivileged process",
      fixes,
    };
  }
  if (message.includes("creating new namespace failed") && message.includes("no space left on device")) {
    return {
      id: "userns-limit",
      cause:
        `the user-namespace limit is exhausted or zero ` +
        `(user.max_user_namespaces=${host.sysctls.maxUserNamespaces ?? "?"})`,
      fixes: ["`sudo sysctl -w user.max_user_namespaces=15000` (persist it in /etc/sysctl.d/)", LANDLOCK_MODE_FIX],
    };
  }
  if (message.includes("creating new namespace failed")) {
    return {
      id: "userns-unavailable",
      cause: "the kernel cannot create user namespaces (built without CONFIG_USER_NS, or disabled)",
      fixes: ["use a kernel with user namespaces enabled", LANDLOCK_MODE_FIX],
    };
  }
  if (/(can't|cannot|failed to) mount proc/.test(message) || message.includes("mount proc on")) {
    return {
      id: "proc-mount",
      cause:
        "bwrap may not mount a fresh /proc: the container masks parts of /proc, and the " +
        "kernel refuses a new proc mount while those masks exist",
      fixes: [PROC_MOUNT_FIX, LANDLOCK_MODE_FIX],
    };
  }
  if (message.includes("mount") || message.includes("pivot_root") || message.includes("make / slave")) {
    return {
      id: "mount-denied",
      cause: "bwrap may not set up its mount namespace (mount, pivot_root) here",
      fixes: host.container.kind ? [DOCKER_FIX, PROC_MOUNT_FIX, LANDLOCK_MODE_FIX] : [LANDLOCK_MODE_FIX],
    };
  }
  return {
    id: "unknown",
    cause: "bwrap failed for a reason cordon does not recognise; its message is above",
    fixes: [LANDLOCK_MODE_FIX],
  };
}
