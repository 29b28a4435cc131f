// A degradation: a guarantee that is weaker here than the policy asks, because
// of the kernel's Landlock ABI or the mode. This module is its one home: the
// names that `allowDegraded` / `--allow-degraded` accept, the type, its JSON
// schema, and the catalog of what each one costs. `--strict` refuses every
// degradation that weakens security and is not accepted by name; the report,
// `-v`, `explain` and `doctor` all read the same records.
import * as v from "valibot";
import { FS_RIGHT_SINCE, NET_RIGHTS_SINCE, SCOPES_SINCE } from "../../ffi/landlock.ts";

export const DEGRADATION_NAMES = [
  "refer",
  "truncate",
  "ioctl-dev",
  "tcp-ports",
  "scopes",
  "unix-sockets",
  "metadata",
  "process-isolation",
  "deny-costs",
  "hard-links",
  "cordon-writable",
  "hidden-names",
  "shm",
  "tmp",
  "memory-limit",
  "pids-limit",
] as const;

export type DegradationName = (typeof DEGRADATION_NAMES)[number];

export const DegradationSchema = v.strictObject({
  /** The name --allow-degraded accepts. */
  name: v.picklist(DEGRADATION_NAMES),
  /** "filesystem" and "limits": weaker whatever the mode, so said in every mode. */
  layer: v.picklist(["landlock", "seccomp", "namespaces", "filesystem", "limits"]),
  feature: v.string(),
  /** The Landlock ABI that would provide it. */
  since: v.optional(v.number()),
  consequence: v.string(),
  /** True when a restriction is weaker, false when only a convenience is lost. */
  weakensSecurity: v.boolean(),
  /** Refused unless accepted by name, with or without --strict: the loss defeats the policy itself. */
  refusedByDefault: v.optional(v.literal(true)),
});

export type Degradation = v.InferOutput<typeof DegradationSchema>;

/** Each degradation that does not depend on the policy, as the catalog states it. */
export const CATALOG = {
  refer: {
    name: "refer",
    layer: "landlock",
    feature: "REFER",
    since: FS_RIGHT_SINCE.REFER,
    consequence: "renaming or hard-linking across directories fails with EXDEV, even inside write roots",
    weakensSecurity: false,
  },
  truncate: {
    name: "truncate",
    layer: "landlock",
    feature: "TRUNCATE",
    since: FS_RIGHT_SINCE.TRUNCATE,
    consequence: "truncate(2) and O_TRUNC are not restricted: read-only files can be emptied",
    weakensSecurity: true,
  },
  "ioctl-dev": {
    name: "ioctl-dev",
    layer: "landlock",
    feature: "IOCTL_DEV",
    since: FS_RIGHT_SINCE.IOCTL_DEV,
    consequence: "ioctl(2) on device files opened in the sandbox is not restricted",
    weakensSecurity: true,
  },
  "tcp-ports": {
    name: "tcp-ports",
    layer: "landlock",
    feature: "TCP port rules",
    since: NET_RIGHTS_SINCE,
    consequence: "TCP is blocked by the seccomp socket filter alone",
    weakensSecurity: false,
  },
  scopes: {
    name: "scopes",
    layer: "landlock",
    feature: "scopes",
    since: SCOPES_SINCE,
    consequence: "abstract unix sockets and signals to processes outside the sandbox are not blocked by Landlock",
    weakensSecurity: true,
  },
  "unix-sockets": {
    name: "unix-sockets",
    layer: "namespaces",
    feature: "unix socket files",
    since: FS_RIGHT_SINCE.RESOLVE_UNIX,
    consequence:
      "connecting to unix socket files outside the write roots (docker.sock, session " +
      "bus, agents) is not blocked (Landlock ABI < 9)",
    weakensSecurity: true,
  },
  metadata: {
    name: "metadata",
    layer: "namespaces",
    feature: "metadata outside the write roots",
    consequence:
      "Landlock has no right for chmod, utimes or xattrs: the command can make the user's own files " +
      "outside the write roots, hidden ones included (~/.ssh), readable or writable by every local user",
    weakensSecurity: true,
  },
  "process-isolation": {
    name: "process-isolation",
    layer: "namespaces",
    feature: "process isolation",
    consequence:
      "host processes stay visible in /proc; a daemon the command detaches may outlive cordon if cordon is SIGKILLed",
    weakensSecurity: true,
  },
  "hard-links": {
    name: "hard-links",
    layer: "filesystem",
    feature: "denied files with other names",
    consequence:
      "a denied file with more than one hard link stays reachable under its other names " +
      "(a mount or a Landlock rule covers one name)",
    weakensSecurity: true,
  },
  "cordon-writable": {
    name: "cordon-writable",
    layer: "filesystem",
    feature: "cordon's own files",
    consequence:
      "cordon's executable or npm package lies inside a write root: the command can replace the cordon " +
      "that the next run starts outside any sandbox",
    weakensSecurity: true,
    refusedByDefault: true,
  },
} as const satisfies Partial<Record<DegradationName, Degradation>>;

/**
 * Landlock-only mode keeps the directories above a hidden directory listable
 * (`ls ~` beside ~/.ssh): a right on a directory covers everything beneath
 * it, so the hidden directory's own entries can be listed too. Their contents
 * stay unreadable; bwrap mode mounts an empty directory there instead.
 */
export function hiddenNames(dirs: readonly string[]): Degradation {
  const shown = dirs.length > 4 ? `${dirs.slice(0, 4).join(", ")} and ${dirs.length - 4} more` : dirs.join(", ");
  return {
    name: "hidden-names",
    layer: "namespaces",
    feature: "names in hidden directories",
    consequence:
      `the names of the entries in ${shown} (and in their subdirectories) can be listed, never their ` +
      "contents: Landlock cannot keep a directory's parents listable without letting it be listed too",
    weakensSecurity: true,
  };
}

const SHM_SHARED =
  "the POSIX shared memory and semaphores there of every process of the same user (as root: of every user)";

/**
 * /dev/shm in landlock-only mode: without a mount namespace it is the host's,
 * and glibc's shm_open and sem_open use no other directory. Not granted unless
 * `shm` is accepted by name (fail closed): a cost, not a gap.
 */
export const SHM_NOT_WRITABLE: Degradation = {
  name: "shm",
  layer: "namespaces",
  feature: "a writable /dev/shm",
  consequence:
    "/dev/shm is not writable: shm_open and sem_open fail with Permission denied (Python multiprocessing's " +
    `Queue, Lock and Pool); --allow-degraded shm makes the host's /dev/shm writable, and with it ${SHM_SHARED}`,
  weakensSecurity: false,
};

/** /dev/shm granted in landlock-only mode, because `shm` was accepted by name. */
export const SHM_SHARED_WITH_HOST: Degradation = {
  name: "shm",
  layer: "namespaces",
  feature: "a private /dev/shm",
  consequence: `/dev/shm is the host's (--allow-degraded shm): the command can read, change and remove ${SHM_SHARED}`,
  weakensSecurity: true,
};

/** The host's /tmp in landlock-only mode: read-only, with a private TMPDIR instead. */
export const TMP_READ_ONLY: Degradation = {
  name: "tmp",
  layer: "namespaces",
  feature: "a writable /tmp",
  consequence:
    "/tmp is read-only (it is the host's): a program that writes to /tmp instead of $TMPDIR gets Permission " +
    "denied; $TMPDIR is a private directory, removed after the run",
  weakensSecurity: false,
};

/**
 * The metadata gap as uid 0: without capabilities root still owns the
 * system's files, so chmod reaches /etc/shadow and every stand-in cordon
 * mounts. That defeats the policy itself: refused unless accepted by name.
 */
export const METADATA_AS_ROOT: Degradation = {
  ...CATALOG.metadata,
  consequence:
    "running as root (uid 0), the command can chmod every root-owned file outside the write roots: " +
    "system files, hidden ones included, can be made readable or writable by every local user " +
    "(Landlock has no right for chmod, utimes or xattrs)",
  refusedByDefault: true,
};

/** The per-port TCP rules a policy asked for, without the ABI to enforce them. */
export const TCP_PORTS_REQUESTED: Degradation = {
  ...CATALOG["tcp-ports"],
  consequence: "per-port TCP rules cannot be enforced",
  weakensSecurity: true,
};

/**
 * The metadata gap mostly closed by seccomp: with no write root, landlock-only
 * mode refuses every chmod, chown and xattr change (in the private TMPDIR
 * too). Timestamps stay changeable: they open no file to anyone, but they are
 * metadata, so the loss still counts under --strict.
 */
export const METADATA_LOCKED: Degradation = {
  ...CATALOG.metadata,
  consequence:
    "with no write root, seccomp refuses every chmod, chown and xattr change (in the private TMPDIR too), " +
    "but the command can still set the times of files it can reach (utimes)",
};

/**
 * What landlock-only mode cannot enforce whatever the policy, as user `uid`,
 * with Landlock `abi`; `metadataLocked` when the policy has no write root;
 * `shm` when /dev/shm is granted (accepted by name). Also what it costs:
 * /dev/shm (unless granted) and /tmp are not writable.
 */
export function landlockOnlyLosses(uid: number, abi: number, metadataLocked = false, shm = false): Degradation[] {
  const metadata = metadataLocked ? METADATA_LOCKED : uid === 0 ? METADATA_AS_ROOT : CATALOG.metadata;
  return [
    ...(abi < FS_RIGHT_SINCE.RESOLVE_UNIX ? [CATALOG["unix-sockets"]] : []),
    metadata,
    CATALOG["process-isolation"],
    shm ? SHM_SHARED_WITH_HOST : SHM_NOT_WRITABLE,
    TMP_READ_ONLY,
  ];
}

/**
 * What a kernel with Landlock `abi` cannot enforce of any policy: the rights
 * and features introduced by later ABIs. `doctor` reports these.
 */
export function abiDegradations(abi: number): (Degradation & { since: number })[] {
  const byAbi = [CATALOG.refer, CATALOG.truncate, CATALOG["ioctl-dev"], CATALOG["tcp-ports"], CATALOG.scopes];
  return byAbi.filter((degradation) => abi < degradation.since);
}

/** A degradation that holds whatever the mode (a deny path's hard links, a limit): said in every mode. */
export function inEveryMode(degradation: Degradation): boolean {
  return degradation.layer === "filesystem" || degradation.layer === "limits";
}

/** The degradations every run refuses unless they are accepted by name. */
export function refusedByDefault(degradations: readonly Degradation[], accepted: readonly string[]): Degradation[] {
  return degradations.filter((degradation) => degradation.refusedByDefault && !accepted.includes(degradation.name));
}

/** The degradations `--strict` refuses: those that weaken security and are not accepted by name. */
export function unaccepted(degradations: readonly Degradation[], accepted: readonly string[]): Degradation[] {
  return degradations.filter((degradation) => degradation.weakensSecurity && !accepted.includes(degradation.name));
}
