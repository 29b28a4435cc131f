// The data of `cordon explain`: the prepared run that `run` would execute
// (the same prepareRun), with the seccomp program read back from the bytes
// stage 2 would install. Nothing here runs the command.
import { ACCESS_NET, SCOPE } from "../../ffi/landlock.ts";
import { decodeSockFilters, encodeSockFilters } from "../../ffi/seccomp.ts";
import { fsRightsOf } from "../landlock/abi.ts";
import { slotsFor } from "../launch/wire.ts";
import { OUTSIDE_WRITE_ROOTS } from "../plan/deny-mounts.ts";
import { GIT_GUARD_WORDS } from "../plan/git-guard.ts";
import { bwrapArguments } from "../plan/mounts.ts";
import { NOT_HIDDEN } from "../policy/secrets.ts";
import { disassembleSeccompProgram } from "../seccomp/disassemble.ts";
import type { PreparedRun } from "../stage1/prepare.ts";
import type { ExplainReport } from "./schema.ts";
import { formatDuration, formatSize } from "../policy/limits.ts";

const namesOf = <K extends string>(table: Record<K, bigint>, mask: bigint): K[] =>
  (Object.keys(table) as K[]).filter((name) => (mask & table[name]) !== 0n);

interface ExplainInput {
  prepared: PreparedRun;
  warnings: string[];
  command: string[];
}

const ACTION_TEXT = {
  pin: "pinned in place",
  "read-only": "a read-only bind onto itself, mounted by stage 2 after checking its identity",
  "hide-dir": "hidden under an empty read-only directory, mounted by stage 2 after checking its identity",
  "hide-file": "hidden under an empty read-only file, mounted by stage 2 after checking its identity",
} as const;

type DenyEntry = PreparedRun["policy"]["denyRead"][number];

/** How the plan enforces one deny entry, in words. */
function enforcement(entry: DenyEntry, deny: "write" | "read", plan: PreparedRun["plan"]): string {
  const links = (entry.links ?? 1) > 1 ? `; it has ${entry.links} hard links, and its other names are not covered` : "";
  if (plan.mode === "landlock") {
    const names =
      deny === "read" && entry.kind === "dir"
        ? "; its entries' names can be listed (so that its parents can), never their contents"
        : "";
    return `Landlock withholds the rights from it and grants them to its siblings instead${names}${links}`;
  }
  if (entry.kind === "symlink") return "the link itself: Landlock keeps its directory's entries from being changed";
  const mount = plan.denyMounts.find((candidate) => candidate.path === entry.path);
  if (mount) {
    const pinned =
      mount.components.length > 1 && mount.anchor !== "/"
        ? "; every directory above it up to the write root is pinned (cannot be renamed)"
        : "";
    return `${ACTION_TEXT[mount.action]}${pinned}${links}`;
  }
  const placeholder = plan.denyMounts.find(
    (candidate) => candidate.action === "hide-dir" && entry.path.startsWith(`${candidate.path}/`),
  );
  if (placeholder && plan.hostState.placeholders.includes(placeholder.path)) {
    return `missing: a placeholder directory at ${placeholder.path} holds an empty read-only stand-in for the run`;
  }
  const covered = plan.denyCovered.find((candidate) => candidate.path === entry.path);
  if (deny === "write" && covered?.reason === OUTSIDE_WRITE_ROOTS) {
    return "missing, outside every write root: nothing there is writable in the sandbox";
  }
  if (deny === "read" && plan.denyLandlockReads.includes(entry.path)) {
    return (
      `missing, ${covered?.reason ?? "without a placeholder"}: if it appears during the run, Landlock gives it ` +
      `no rights but listing its names (rule at ${entry.existing ?? "its nearest existing ancestor"})`
    );
  }
  return covered ? `${covered.reason}: nothing more to do` : "not enforced (please report this)";
}

function denyPaths(prepared: PreparedRun): ExplainReport["denyPaths"] {
  const { policy, plan } = prepared;
  const describe = (deny: "write" | "read") => (entry: DenyEntry) => ({
    path: entry.path,
    deny,
    kind: entry.kind,
    how: enforcement(entry, deny, plan),
  });
  return [...policy.denyWrite.map(describe("write")), ...policy.denyRead.map(describe("read"))];
}

/** The search scope of protectGit and how this mode holds each path. */
function gitOf(prepared: PreparedRun): ExplainReport["git"] {
  const { policy, plan } = prepared;
  if (!policy.git.enabled && policy.projectFiles.length === 0) return null;
  const { search } = policy.git;
  const stopped = search.truncated ? " (STOPPED at the limit: the rest is unprotected)" : "";
  return {
    scope: !policy.git.enabled
      ? "protectGit is off: no repository is searched for"
      : "every .git (directory, gitdir: file or symlink) and every directory with HEAD, objects/ and refs/ in " +
        `the write roots down to ${search.maxDepth} directories below each, not entering ` +
        `${search.skipped.join(", ")} or symlinked directories; ${search.directories} directories searched${stopped}`,
    repositories: policy.git.repositories.map((dotGit) => dotGit.path),
    how: GIT_GUARD_WORDS[plan.mode],
    prevented: plan.git.prevented,
    repaired: plan.git.repaired,
    afterRun:
      "a .git (or a git directory in a known repository's modules/) that appeared in the same scope during the " +
      "run and whose config sets anything outside an allow-list of data keys (format, remotes, branches, " +
      "submodule URLs, user.name/email: so core.fsmonitor, core.hooksPath, drivers, ! aliases, includes and " +
      "every other executing key count) or holds a hook git would run is neutralised: its config moved to " +
      "config.cordon-disabled and replaced by its allow-listed entries, its hooks directory moved to " +
      "hooks.cordon-disabled; one line each on stderr (also under -q) and in --report",
  };
}

/** The secure defaults as this run applies them, and what they leave readable. */
function secretsOf(prepared: PreparedRun): ExplainReport["secrets"] {
  const { policy, plan } = prepared;
  return {
    hidden: policy.denyRead
      .filter((entry) => entry.origin.startsWith("default:"))
      .map((entry) => ({ secret: entry.origin.slice("default:".length), path: entry.path })),
    redacted: plan.redactions.map((redaction) => ({
      secret: redaction.secret,
      path: redaction.path,
      how: redaction.how,
      removed: redaction.removed,
      copy: redaction.copy ?? null,
      variables: redaction.variables ?? {},
    })),
    revealed: policy.reveal,
    notHidden: [...NOT_HIDDEN],
  };
}

/**
 * The resolved policy for explain's policy section, without what resolving
 * found in the write roots (the repositories, the project files): the git
 * section shows those, and dumping them here buried the policy.
 */
function policyAsWritten(policy: PreparedRun["policy"]): Record<string, unknown> {
  const shown = JSON.parse(JSON.stringify(policy)) as Record<string, unknown>;
  delete shown["git"];
  delete shown["projectFiles"];
  return shown;
}

/** What RLIMIT each per-process limit is, and what the process gets at it. */
const RLIMIT_WORDS = {
  cpuTime: (value: bigint) => `cpu time: ${value}s per process (RLIMIT_CPU: SIGXCPU, then SIGKILL a second later)`,
  fileSize: (value: bigint) => `file size: ${formatSize(Number(value))} per file (RLIMIT_FSIZE: SIGXFSZ, or EFBIG)`,
  openFiles: (value: bigint) => `open files: ${value} per process (RLIMIT_NOFILE: EMFILE)`,
} as const;

/** Memory and processes, where a cgroup of the sandbox's own holds them: where it is made. */
function cgroupLimitLines(plan: PreparedRun["plan"]): string[] {
  const where = (controller: "memory" | "pids") => {
    const cgroup = plan.limits.cgroups.find((planned) => planned.controllers.includes(controller))!;
    const aside = cgroup.vacate ? ", where cordon, alone, first moves itself into a leaf" : "";
    return `the sandbox's own cgroup (v${cgroup.version}), made in ${cgroup.parent}${aside}`;
  };
  const { memory, pids } = plan.limits;
  return [
    ...(memory === undefined
      ? []
      : [
          `memory: ${formatSize(memory)} for the whole sandbox, tmpfs pages and accounted swap included ` +
            `(${where("memory")}; out of memory, the kernel kills it: exit 137)`,
        ]),
    ...(pids === undefined
      ? []
      : [`processes: ${pids} at once in the whole sandbox, threads included (${where("pids")}; fork fails: EAGAIN)`]),
  ];
}

/** The run's limits and how this mode enforces each, one line each; those it cannot enforce say so. */
function limitLines(prepared: PreparedRun): string[] {
  const { plan } = prepared;
  const { limits } = plan;
  return [
    limits.timeout === undefined
      ? "timeout: none"
      : `timeout: ${formatDuration(limits.timeout)} of wall clock from the sandbox's start, then SIGTERM to ` +
        `every process of it and SIGKILL ${formatDuration(limits.killAfter)} later (exit 124)`,
    limits.tmpSize === undefined
      ? "tmp size: none of cordon's (landlock-only mode has no tmpfs of its own; /tmp is read-only)"
      : `tmp size: /tmp and /dev/shm ${formatSize(limits.tmpSize)} each (tmpfs size: ENOSPC past it)`,
    ...limits.rlimits.map((rlimit) => RLIMIT_WORDS[rlimit.limit](rlimit.soft)),
    ...cgroupLimitLines(plan),
    ...plan.degradations
      .filter((degradation) => degradation.layer === "limits")
      .map((degradation) => degradation.consequence),
  ];
}

export function explainReport(input: ExplainInput): ExplainReport {
  const { policy, facts, decision, plan, refusal, options } = input.prepared;
  // Disassemble the bytes stage 2 would receive, not the in-memory program.
  const bytes = encodeSockFilters(plan.seccomp);
  const attempt = facts.bwrapAttempt;
  const probeNote = attempt && !attempt.works && attempt.message ? ` (bwrap said: ${attempt.message})` : "";
  const bwrapPath = plan.mode === "bwrap" && facts.bwrap.found ? facts.bwrap.path : undefined;
  return {
    format: "cordon-explain/1",
    command: input.command,
    policy: policyAsWritten(policy),
    warnings: input.warnings,
    mode: {
      requested: policy.mode,
      chosen: refusal ? null : plan.mode,
      planned: plan.mode,
      reason: `${refusal ? `refused: ${refusal.message}` : decision.reason}${probeNote}`,
      fixes: refusal?.hint ? [refusal.hint] : [],
    },
    bwrap: bwrapPath ? { path: bwrapPath, arguments: bwrapArguments(plan, slotsFor(options.preserveFds).info) } : null,
    mounts: plan.mounts.map((op) => ({ ...op })),
    sockets: plan.sockets,
    denyPaths: denyPaths(input.prepared),
    landlock: {
      abi: plan.landlock.abi,
      note: facts.landlock.note ?? null,
      handledFs: fsRightsOf(plan.landlock.handledFs),
      handledNet: namesOf(ACCESS_NET, plan.landlock.handledNet),
      scopes: namesOf(SCOPE, plan.landlock.scoped),
      rules: plan.landlock.pathRules.map((rule) => ({
        path: rule.path,
        grant: rule.grant,
        rights: fsRightsOf(rule.access),
        walked: rule.walked,
      })),
      netRules: plan.landlock.netRules.map((rule) => ({ port: rule.port, rights: namesOf(ACCESS_NET, rule.access) })),
      dropped: plan.landlock.degradations,
    },
    seccomp: {
      arch: facts.arch,
      instructions: plan.seccomp.length,
      bytes: Buffer.from(bytes).toString("hex"),
      listing: disassembleSeccompProgram(decodeSockFilters(bytes), facts.arch),
    },
    terminal: { session: plan.terminal.session, why: plan.terminal.why },
    limits: limitLines(input.prepared),
    environment: {
      clear: plan.env.clear,
      allowList: plan.env.allowList,
      set: plan.env.set,
      unset: plan.env.unset,
      removed: plan.env.removed,
    },
    git: gitOf(input.prepared),
    secrets: secretsOf(input.prepared),
    notEnforced: plan.degradations,
  };
}
