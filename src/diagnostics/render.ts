// Human-readable forms of doctor's and explain's reports. Plain text with
// fixed tags, so it pastes well into an issue; JSON is the stable form.
import { escapeControls } from "../bytes.ts";
import type { Check, DoctorReport, ExplainReport, SelftestReport } from "./schema.ts";

const TAG: Record<Check["status"], string> = { ok: "[ OK ]", warn: "[WARN]", fail: "[FAIL]" };

const indent = (text: string, by: string) => text.split("\n").join(`\n${by}`);

export function renderDoctor(report: DoctorReport): string {
  const lines = [`cordon ${report.version} doctor — Linux ${report.host.kernel} (${report.host.arch})`, ""];
  for (const check of report.checks) {
    lines.push(`${TAG[check.status]} ${check.id.padEnd(16)} ${check.summary}`);
    if (check.consequence) lines.push(`       means: ${indent(check.consequence, "              ")}`);
    for (const fix of check.fixes) lines.push(`       fix:   ${indent(fix, "              ")}`);
  }
  lines.push("");
  const modes = report.modes;
  // As root, landlock-only mode works but is refused unless its metadata gap is accepted by name.
  const stage2Works = !report.checks.some(
    (check) => ["landlock", "seccomp"].includes(check.id) && check.status === "fail",
  );
  const refusedAsRoot = !modes.landlock && stage2Works && report.host.root;
  lines.push(
    `bwrap mode: ${modes.bwrap ? "works" : "does not work"}; landlock-only mode: ` +
      (modes.landlock
        ? "works"
        : refusedAsRoot
          ? "refused as root with a write root unless --allow-degraded metadata"
          : "does not work"),
  );
  lines.push(
    modes.auto === "bwrap"
      ? "auto mode (the default) will use bwrap."
      : modes.auto === "landlock"
        ? "auto mode (the default) will fall back to landlock-only mode when the policy " +
          "loses nothing there, and refuse otherwise."
        : refusedAsRoot
          ? "cordon will refuse to run here until bwrap works, unless a run accepts landlock-only mode as root " +
            "(--mode landlock --allow-degraded metadata), or runs as another user."
          : "cordon will refuse to run here until the FAIL lines above are fixed.",
  );
  return `${lines.join("\n")}\n`;
}

/** One line per option with its operands: `--ro-bind / /`. */
function groupOptions(args: readonly string[]): string[] {
  const lines: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("--") || lines.length === 0) lines.push(JSON.stringify(arg).slice(1, -1));
    else lines[lines.length - 1] += ` ${JSON.stringify(arg).slice(1, -1)}`;
  }
  return lines;
}

const REMOVED_BECAUSE = {
  secret: "removed, secret-shaped name",
  "credential-value": "removed, its value holds a URL with a password, a credential header or a private key",
  "not-allowed": "removed, not on the CI allow-list",
} as const;

/** One line per reason, names only: a value never appears in cordon's output. */
function removedLines(removed: ExplainReport["environment"]["removed"]): string[] {
  return (Object.keys(REMOVED_BECAUSE) as (keyof typeof REMOVED_BECAUSE)[]).flatMap((why) => {
    const names = removed.filter((variable) => variable.why === why).map((variable) => variable.name);
    return names.length > 0 ? [`${REMOVED_BECAUSE[why]} (--env NAME passes one): ${names.join(" ")}`] : [];
  });
}

const REDACTED_HOW = {
  copy: "a redacted copy, bound read-only over it",
  hidden: "hidden; the tool reads a redacted copy instead",
  "hidden whole":
    "hidden whole: landlock-only mode has no variable to point the tool at a copy (its settings are lost)",
  refused: "REFUSED: landlock-only mode cannot replace it",
  unchanged: "left as it is: nothing secret in it",
  "helpers only": "left as it is: it only names credential helpers, no secret is in the file itself",
  "out of sight": "out of sight: the sandbox has its own directory there",
} as const;

function secretLines(secrets: ExplainReport["secrets"]): string[] {
  return [
    ...secrets.hidden.map((entry) => `hidden ${entry.path} (${entry.secret})`),
    ...secrets.redacted.map((entry) => {
      const removed = entry.removed.length > 0 ? `; without ${entry.removed.join(", ")}` : "";
      const variables = Object.entries(entry.variables).map(([name, value]) => `${name}=${value}`);
      const pointed = variables.length > 0 ? `; ${variables.join(" ")}` : "";
      return `${entry.path} (${entry.secret}): ${REDACTED_HOW[entry.how]}${removed}${pointed}`;
    }),
    ...(secrets.revealed.length > 0 ? [`revealed (not hidden): ${secrets.revealed.join(", ")}`] : []),
    ...secrets.notHidden.map((text) => `NOT hidden: ${text}`),
  ];
}

/**
 * Every string of `value` with its control characters written as escapes: a
 * path the command chose (a repository named with ESC or a newline) must not
 * reach the terminal raw, nor forge a line of cordon's.
 */
function withoutControls<T>(value: T): T {
  if (typeof value === "string") return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map(withoutControls) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withoutControls(item)])) as T;
  }
  return value;
}

export function renderExplain(unsafe: ExplainReport): string {
  const report = withoutControls(unsafe);
  const out: string[] = [];
  const section = (title: string, body: string[]) => {
    out.push(`${title}:`, ...(body.length > 0 ? body.map((line) => `  ${line}`) : ["  (none)"]), "");
  };
  // The answer first (mode, what is not enforced), the details after, the BPF listing last.
  const mode = report.mode;
  section("mode", [
    `requested: ${mode.requested}`,
    mode.chosen
      ? `chosen: ${mode.chosen}`
      : `chosen: none: the run would be refused (exit 125); the plan below is for ${mode.planned}`,
    `why: ${mode.reason}`,
    ...mode.fixes.map((fix) => `fix: ${fix}`),
  ]);
  const line = (degradation: ExplainReport["notEnforced"][number]) =>
    `${degradation.feature}: ${degradation.consequence}`;
  section("not enforced here", report.notEnforced.filter((degradation) => degradation.weakensSecurity).map(line));
  // What fails with "Permission denied" although nothing is less safe: cordon never reads the command's output.
  const costs = report.notEnforced.filter((degradation) => !degradation.weakensSecurity);
  if (costs.length > 0) section("costs of this mode (these fail, though nothing is less safe)", costs.map(line));
  if (report.warnings.length > 0) section("warnings", report.warnings);
  const policy = report.policy;
  section(
    "policy",
    Object.entries(policy).map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
  );
  if (report.bwrap)
    section(`bwrap arguments (${report.bwrap.path}, read from a descriptor)`, groupOptions(report.bwrap.arguments));
  section(
    "mount plan",
    report.mounts.map((op) =>
      "source" in op
        ? `${op.kind.padEnd(7)} ${op.dest}${op.source === op.dest ? "" : ` <- ${op.source}`}  (${op.why})`
        : `${op.kind.padEnd(7)} ${op.dest}`,
    ),
  );
  section("host unix sockets", [
    ...(report.sockets.emptied.length > 0
      ? [`emptied, whatever the network: ${report.sockets.emptied.join(" ")}`]
      : []),
    ...report.sockets.covered.map((path) => `covered ${path}`),
    ...report.sockets.allowed.map((path) => `allowed ${path}`),
    ...report.sockets.open.map((what) => `open: ${what}`),
  ]);
  section(
    "deny paths",
    report.denyPaths.map((entry) => `deny-${entry.deny} ${entry.path} (${entry.kind}): ${entry.how}`),
  );
  const landlock = report.landlock;
  section(`Landlock ABI ${landlock.abi}${landlock.note ? ` (${landlock.note})` : ""}`, [
    `handled: ${landlock.handledFs.join(" ") || "nothing"}`,
    ...(landlock.handledNet.length ? [`network handled: ${landlock.handledNet.join(" ")}`] : []),
    ...(landlock.scopes.length ? [`scopes: ${landlock.scopes.join(" ")}`] : []),
    ...landlock.rules.map((rule) => `${rule.grant.padEnd(6)} ${rule.path}: ${rule.rights.join(" ")}`),
    ...landlock.netRules.map((rule) => `port ${rule.port}: ${rule.rights.join(" ")}`),
    ...landlock.dropped.map((degradation) => {
      const since = degradation.since ? ` (needs ABI ${degradation.since})` : "";
      return `dropped ${degradation.feature}${since}: ${degradation.consequence}`;
    }),
  ]);
  section("limits", report.limits);
  section("terminal", [
    report.terminal.session === "inherit" ? "session: kept (cordon's)" : "session: new (setsid before exec)",
    `why: ${report.terminal.why}`,
  ]);
  const env = report.environment;
  section("environment", [
    env.clear
      ? "cleared (only what is set below reaches the command)"
      : env.allowList
        ? "the CI allow-list of the caller's variables, minus secret-shaped ones"
        : "inherited from cordon's caller, minus secret-shaped variables",
    ...Object.entries(env.set).map(([name, value]) => `set ${name}=${value}`),
    ...env.unset.map((name) => `unset ${name}`),
    ...removedLines(env.removed),
  ]);
  if (report.git) {
    const git = report.git;
    section("git and project files (protectGit, protectFiles)", [
      `searched: ${git.scope}`,
      ...git.repositories.map((path) => `repository ${path}`),
      `how: ${git.how}`,
      ...git.prevented.map((entry) => `prevented ${entry.path} (${entry.what})`),
      ...git.repaired.map((entry) => `repaired after the run ${entry.path} (${entry.what})`),
      `after the run: ${git.afterRun}`,
    ]);
  }
  section("secrets (secure defaults)", secretLines(report.secrets));
  section(
    `seccomp program (${report.seccomp.arch}, ${report.seccomp.instructions} ` +
      `instructions, disassembled from the installed bytes)`,
    report.seccomp.listing,
  );
  return `${out.join("\n").trimEnd()}\n`;
}

const OUTCOME = { pass: "pass", fail: "FAIL", skip: "skip" } as const;

export function renderSelftest(report: SelftestReport): string {
  const lines = [`cordon ${report.version} selftest`, ""];
  for (const mode of report.modes) {
    if (!mode.available) {
      lines.push(`${mode.mode} mode: not available here (${mode.reason ?? "unknown"})`, "");
      continue;
    }
    lines.push(`${mode.mode} mode:`);
    for (const probe of mode.probes) {
      lines.push(
        `  ${OUTCOME[probe.outcome].padEnd(4)}  ` +
          `${probe.kind === "escape" ? "escape   " : "must-work"}  ` +
          `${probe.description}${probe.outcome === "pass" ? "" : ` — ${probe.detail}`}`,
      );
    }
    lines.push("");
  }
  lines.push(report.ok ? "every probe behaved as expected" : "SOME PROBES FAILED: see above");
  return `${lines.join("\n")}\n`;
}
