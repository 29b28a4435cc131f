// bubblewrap's failure messages mapped to their usual cause and fix. Pure:
// the message and what doctor knows about the host come in as data.
import type { ContainerFacts, NestingFacts, UsernsSysctls } from "../host/system.ts";

export interface BwrapDiagnosis {
  /** Stable identifier, part of doctor's JSON. */
  id:
    | "apparmor-userns"
    | "userns-blocked"
    | "userns-limit"
    | "userns-unavailable"
    | "nested"
    | "proc-mount"
    | "mount-denied"
    | "bwrap-too-old"
    | "unknown";
  /** One line: what is wrong, as precisely as the host lets cordon tell. */
  cause: string;
  /** The one fix a failed run names (doctor lists all of `fixes`). */
  fix: string;
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
const DOCKER_FIX =
  "start the container with `docker run --security-opt seccomp=unconfined " +
  "--security-opt apparmor=unconfined ...` (or a seccomp profile that allows " +
  "clone/unshare with CLONE_NEWUSER, plus mount, umount2 and pivot_root); " +
  "--privileged is not needed";
const PROC_MOUNT_FIX =
  "start the container with `docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined " +
  "--security-opt systempaths=unconfined ...` (podman: `--security-opt unmask=ALL` instead of systempaths), " +
  "so that user namespaces are allowed and /proc is not partly masked";
const LANDLOCK_MODE_FIX =
  "or accept landlock-only mode explicitly with `--mode landlock` (as root, also `--allow-degraded metadata`; " +
  "see `cordon explain` for what it does not enforce)";

export interface DiagnosisContext {
  sysctls: UsernsSysctls;
  container: ContainerFacts;
  /** Another sandbox around cordon (optional: doctor's tests leave it out). */
  nesting?: NestingFacts;
  root: boolean;
  /** The bwrap that failed, for the AppArmor profile's attachment path. */
  bwrapPath?: string;
}

/** Diagnoses that mean user namespaces are refused (as opposed to a bwrap or mount problem). */
export const USERNS_DIAGNOSES: ReadonlySet<BwrapDiagnosis["id"]> = new Set([
  "apparmor-userns",
  "nested",
  "userns-blocked",
  "userns-limit",
  "userns-unavailable",
]);

const SYSCTL_PERSIST = "(and a line in /etc/sysctl.d/ to keep it)";
const MAX_USERNS_FIX = `\`sudo sysctl -w user.max_user_namespaces=15000\` ${SYSCTL_PERSIST}`;
const CLONE_FIX = `\`sudo sysctl -w kernel.unprivileged_userns_clone=1\` ${SYSCTL_PERSIST}`;
const APPARMOR_SYSCTL_COMMAND = `\`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\` ${SYSCTL_PERSIST}`;
/** Each outer sandbox's own way out; cordon's sandbox never allows nested user namespaces. */
const NESTED_FIXES: Record<NonNullable<NestingFacts["kind"]>, string> = {
  cordon: "run this cordon outside the other one (a cordon sandbox never allows nested user namespaces)",
  bwrap: "run cordon outside that bwrap, or start it without --disable-userns and without a filter refusing them",
  sandbox: "run cordon outside the other sandbox, or let that sandbox allow nested user namespaces",
};
const DOCKER_COMMAND = "`docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined ...`";

function diagnosis(id: BwrapDiagnosis["id"], cause: string, fixes: string[]): BwrapDiagnosis {
  return { id, cause, fix: fixes[0]!, fixes: [...fixes, LANDLOCK_MODE_FIX] };
}

function isUsernsRefusal(message: string): boolean {
  return (
    message.includes("no permissions to create new namespace") ||
    message.includes("creating new namespace failed") ||
    message.includes("unshare") ||
    message.includes("clone")
  );
}

/**
 * Why the kernel refused bwrap a user namespace, from the most specific
 * evidence down: another sandbox around cordon (whose filter answers before
 * any sysctl is consulted), then each sysctl that forbids them, then a
 * container's profile.
 */
function usernsRefusal(message: string, host: DiagnosisContext): BwrapDiagnosis {
  const nesting = host.nesting ?? {};
  if (nesting.kind) {
    const outer = { cordon: "another cordon's sandbox", bwrap: "a bwrap sandbox", sandbox: "another sandbox" };
    return diagnosis(
      "nested",
      `cordon runs inside ${outer[nesting.kind]} (${nesting.evidence}), which forbids the user namespaces bwrap needs`,
      [NESTED_FIXES[nesting.kind]],
    );
  }
  const max = host.sysctls.maxUserNamespaces;
  if (max === "0" || message.includes("enospc") || message.includes("no space left on device")) {
    return diagnosis(
      "userns-limit",
      max === "0"
        ? "user namespaces are switched off (user.max_user_namespaces=0)"
        : `the user-namespace limit is exhausted (user.max_user_namespaces=${max ?? "?"})`,
      [MAX_USERNS_FIX],
    );
  }
  if (host.sysctls.unprivilegedClone === "0") {
    return diagnosis(
      "userns-blocked",
      "unprivileged user namespaces are switched off (kernel.unprivileged_userns_clone=0)",
      [CLONE_FIX],
    );
  }
  if (host.sysctls.apparmorRestrict === "1") {
    return diagnosis(
      "apparmor-userns",
      "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)",
      [APPARMOR_SYSCTL_COMMAND, apparmorFix(host.bwrapPath)],
    );
  }
  if (host.container.kind) {
    return diagnosis(
      "userns-blocked",
      `the ${host.container.kind} container's seccomp profile refuses new user namespaces ` +
        `(${host.container.evidence})`,
      [`start the container with ${DOCKER_COMMAND}`, DOCKER_FIX],
    );
  }
  return diagnosis("userns-unavailable", "the kernel refuses bwrap a user namespace, for a reason cordon cannot see", [
    "allow unprivileged user namespaces on this host (a parent sandbox, seccomp filter or security module " +
      "forbids them)",
  ]);
}

/** The most likely cause of a bwrap failure, from its stderr and the host. */
export function diagnoseBwrapMessage(stderr: string, host: DiagnosisContext): BwrapDiagnosis {
  const message = stderr.toLowerCase();
  if (/unknown option --(disable-userns|unshare-user|info-fd|args)/.test(message)) {
    return diagnosis("bwrap-too-old", "this bubblewrap is too old for cordon (it needs 0.8.0 or newer)", [
      "install bubblewrap 0.8.0 or newer (`apt-get install bubblewrap` on Debian 12+ " +
        "/ Ubuntu 24.04+), or pass --bwrap PATH to a newer build",
    ]);
  }
  if (
    message.includes("setting up uid map") ||
    message.includes("setting up gid map") ||
    message.includes("rtm_newaddr")
  ) {
    // A user namespace without capabilities: AppArmor's signature, or a container profile that imitates it.
    const confirmed = host.sysctls.apparmorRestrict === "1";
    const cause = confirmed
      ? "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)"
      : "bwrap got a user namespace without capabilities, AppArmor's signature, though this host does not show " +
        "kernel.apparmor_restrict_unprivileged_userns=1" +
        (host.container.kind ? ` (the ${host.container.kind} container's profile may be the cause)` : "");
    return diagnosis("apparmor-userns", cause, [
      APPARMOR_SYSCTL_COMMAND,
      apparmorFix(host.bwrapPath),
      ...(host.container.kind ? [DOCKER_FIX] : []),
    ]);
  }
  if (isUsernsRefusal(message)) return usernsRefusal(message, host);
  if (/(can't|cannot|failed to) mount proc/.test(message) || message.includes("mount proc on")) {
    return diagnosis("proc-mount", "the container masks parts of /proc, so bwrap may not mount a fresh one", [
      PROC_MOUNT_FIX,
    ]);
  }
  if (message.includes("mount") || message.includes("pivot_root") || message.includes("make / slave")) {
    return diagnosis(
      "mount-denied",
      `bwrap may not set up its mount namespace here (bwrap: ${JSON.stringify(stderr.trim())})`,
      host.container.kind ? [DOCKER_FIX, PROC_MOUNT_FIX] : ["run `cordon doctor` for the full report"],
    );
  }
  return diagnosis(
    "unknown",
    stderr.trim()
      ? `bwrap failed for a reason cordon does not recognise (bwrap: ${JSON.stringify(stderr.trim())})`
      : "bwrap failed without a message",
    ["run `cordon doctor` for the full report"],
  );
}
