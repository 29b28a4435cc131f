// The JSON forms of `doctor`, `explain` and `selftest`, defined once. The
// TypeScript types come from these schemas, the tests validate real output
// against them, and docs/doctor.md describes the same fields.
import * as v from "valibot";
import { DegradationSchema } from "../policy/degradations.ts";

const STATUSES = ["ok", "warn", "fail"] as const;
const CHECK_IDS = ["landlock", "seccomp", "user-namespaces", "bwrap", "privileges", "container", "limits"] as const;
const DIAGNOSIS_IDS = [
  "apparmor-userns",
  "userns-blocked",
  "userns-limit",
  "userns-unavailable",
  "nested",
  "proc-mount",
  "mount-denied",
  "bwrap-too-old",
  "unknown",
] as const;

const Detail = v.union([v.string(), v.number(), v.boolean(), v.null()]);

const CheckSchema = v.strictObject({
  id: v.picklist(CHECK_IDS),
  status: v.picklist(STATUSES),
  /** One line: what was found. */
  summary: v.string(),
  /** What it means for cordon's modes, or null when nothing. */
  consequence: v.nullable(v.string()),
  /** Concrete steps, most specific first; empty when nothing needs fixing. */
  fixes: v.array(v.string()),
  details: v.record(v.string(), Detail),
});

const DiagnosisSchema = v.strictObject({
  id: v.picklist(DIAGNOSIS_IDS),
  cause: v.string(),
  fixes: v.array(v.string()),
});

export const DoctorReportSchema = v.strictObject({
  format: v.literal("cordon-doctor/1"),
  version: v.string(),
  host: v.strictObject({
    kernel: v.string(),
    arch: v.string(),
    uid: v.number(),
    root: v.boolean(),
    container: v.nullable(v.string()),
  }),
  checks: v.array(CheckSchema),
  /** The bwrap failure, matched against known messages; null when bwrap works or is missing. */
  diagnosis: v.nullable(DiagnosisSchema),
  modes: v.strictObject({
    bwrap: v.boolean(),
    landlock: v.boolean(),
    /** What `--mode auto` does here for a policy that landlock-only mode can enforce. */
    auto: v.picklist(["bwrap", "landlock", "refuse"]),
  }),
  /** True when bwrap mode works; the exit status is 0 exactly then. */
  ok: v.boolean(),
});

export type Check = v.InferOutput<typeof CheckSchema>;
export type DoctorReport = v.InferOutput<typeof DoctorReportSchema>;

const MountSchema = v.variant("kind", [
  v.strictObject({ kind: v.picklist(["bind", "ro-bind"]), source: v.string(), dest: v.string(), why: v.string() }),
  v.strictObject({ kind: v.picklist(["proc", "dev"]), dest: v.string() }),
  /** `size` in bytes: the private /tmp and /dev/shm (limits.tmpSize). */
  v.strictObject({ kind: v.literal("tmpfs"), dest: v.string(), size: v.optional(v.number()) }),
]);

export const ExplainReportSchema = v.strictObject({
  format: v.literal("cordon-explain/1"),
  command: v.array(v.string()),
  policy: v.record(v.string(), v.unknown()),
  warnings: v.array(v.string()),
  mode: v.strictObject({
    requested: v.picklist(["auto", "bwrap", "landlock"]),
    /** The mode a run would use, or null when it would refuse (exit 125). */
    chosen: v.nullable(v.picklist(["bwrap", "landlock"])),
    /** The mode the plan below is for: `chosen`, or the one a refused run would have attempted. */
    planned: v.picklist(["bwrap", "landlock"]),
    reason: v.string(),
    fixes: v.array(v.string()),
  }),
  bwrap: v.nullable(v.strictObject({ path: v.string(), arguments: v.array(v.string()) })),
  mounts: v.array(MountSchema),
  /** Host unix sockets: covered one by one, allowed by the policy, and what stays reachable. */
  sockets: v.strictObject({
    emptied: v.array(v.string()),
    covered: v.array(v.string()),
    allowed: v.array(v.string()),
    open: v.array(v.string()),
  }),
  /** Every deny entry after resolution, and how this mode enforces it. */
  denyPaths: v.array(
    v.strictObject({ path: v.string(), deny: v.picklist(["write", "read"]), kind: v.string(), how: v.string() }),
  ),
  landlock: v.strictObject({
    abi: v.number(),
    note: v.nullable(v.string()),
    handledFs: v.array(v.string()),
    handledNet: v.array(v.string()),
    scopes: v.array(v.string()),
    rules: v.array(
      v.strictObject({ path: v.string(), grant: v.string(), rights: v.array(v.string()), walked: v.boolean() }),
    ),
    netRules: v.array(v.strictObject({ port: v.number(), rights: v.array(v.string()) })),
    dropped: v.array(DegradationSchema),
  }),
  seccomp: v.strictObject({
    arch: v.string(),
    instructions: v.number(),
    /** The exact bytes stage 2 installs (struct sock_filter[], little-endian), in hex. */
    bytes: v.string(),
    /** One line per instruction, disassembled from `bytes`. */
    listing: v.array(v.string()),
  }),
  /** The command's session: cordon's (interactive on its controlling terminal) or a new one. */
  terminal: v.strictObject({ session: v.picklist(["inherit", "new"]), why: v.string() }),
  /** The run's limits and how this mode enforces each (README, Limits). */
  limits: v.array(v.string()),
  environment: v.strictObject({
    clear: v.boolean(),
    /** The `ci` profile: only the allow-list of the caller's variables is kept. */
    allowList: v.boolean(),
    set: v.record(v.string(), v.string()),
    unset: v.array(v.string()),
    /** The caller's variables the command would not get, by name (never a value), and why. */
    removed: v.array(
      v.strictObject({ name: v.string(), why: v.picklist(["secret", "credential-value", "not-allowed"]) }),
    ),
  }),
  /** protectGit: where cordon looked for repositories, and how this mode holds what git executes or trusts. */
  git: v.nullable(
    v.strictObject({
      scope: v.string(),
      repositories: v.array(v.string()),
      /** "prevented" (bwrap mode: mounts) or "repaired" (landlock-only mode: restored after the run), in words. */
      how: v.string(),
      prevented: v.array(v.strictObject({ path: v.string(), what: v.string() })),
      repaired: v.array(v.strictObject({ path: v.string(), what: v.string() })),
      afterRun: v.string(),
    }),
  ),
  /** The secure defaults on this host: what is hidden, what is a redacted copy, and what is not hidden. */
  secrets: v.strictObject({
    hidden: v.array(v.strictObject({ secret: v.string(), path: v.string() })),
    redacted: v.array(
      v.strictObject({
        secret: v.string(),
        path: v.string(),
        how: v.picklist(["copy", "hidden", "hidden whole", "refused", "unchanged", "helpers only", "out of sight"]),
        /** What the copy leaves out, by key; never a value. */
        removed: v.array(v.string()),
        copy: v.nullable(v.string()),
        variables: v.record(v.string(), v.string()),
      }),
    ),
    revealed: v.array(v.string()),
    notHidden: v.array(v.string()),
  }),
  notEnforced: v.array(DegradationSchema),
});

export type ExplainReport = v.InferOutput<typeof ExplainReportSchema>;

const ProbeResultSchema = v.strictObject({
  id: v.string(),
  kind: v.picklist(["escape", "must-work"]),
  description: v.string(),
  /** pass: as expected; fail: an escape succeeded or a must-work probe failed; skip: a tool is missing. */
  outcome: v.picklist(["pass", "fail", "skip"]),
  detail: v.string(),
});

export const SelftestReportSchema = v.strictObject({
  format: v.literal("cordon-selftest/1"),
  version: v.string(),
  modes: v.array(
    v.strictObject({
      mode: v.picklist(["bwrap", "landlock"]),
      available: v.boolean(),
      /** Why the mode was not tested, when it is unavailable. */
      reason: v.nullable(v.string()),
      probes: v.array(ProbeResultSchema),
    }),
  ),
  /** True when every probe of every available mode passed or was skipped, and at least one mode ran. */
  ok: v.boolean(),
});

export type ProbeResult = v.InferOutput<typeof ProbeResultSchema>;
export type SelftestReport = v.InferOutput<typeof SelftestReportSchema>;
