// What cordon says when bwrap failed before the command started: one line
// when auto mode falls back to landlock-only mode, or, when it may not, an
// error of three lines: the cause, the one fix, and the alternative with what
// it loses. Pure: the diagnosis and the fallback's plan come in as data.
import { inEveryMode, refusedByDefault, type Degradation } from "../policy/degradations.ts";
import type { PreparedRun } from "./prepare.ts";

/** The cause and the one fix of a bwrap failure (diagnostics/bwrap-messages.ts). */
export interface BwrapWhy {
  cause: string;
  fix: string;
}

/** A few words per guarantee landlock-only mode gives up; the catalog's long consequence is for explain. */
const SHORT_LOSS: Partial<Record<Degradation["name"], (root: boolean) => string>> = {
  "unix-sockets": () => "host unix sockets (docker.sock, agents) stay reachable",
  metadata: (root) => (root ? "chmod of system files is not blocked" : "chmod of your own files is not blocked"),
  "process-isolation": () => "host processes stay visible",
};

/** The guarantees landlock-only mode gives up here, each in a few words. */
export function landlockLosses(fallback: PreparedRun): string {
  const root = fallback.facts.uid === 0;
  return fallback.plan.degradations
    .filter((degradation) => degradation.weakensSecurity && !inEveryMode(degradation))
    .map((degradation) => SHORT_LOSS[degradation.name]?.(root) ?? `${degradation.feature} is weaker`)
    .filter((loss, index, all) => all.indexOf(loss) === index)
    .join(", ");
}

/** The flags that run the command in landlock-only mode anyway (as root, accepting the metadata gap by name). */
function landlockFlags(fallback: PreparedRun): string {
  const accept = refusedByDefault(fallback.plan.degradations, fallback.policy.allowDegraded)
    .filter((degradation) => !inEveryMode(degradation))
    .map((degradation) => ` --allow-degraded ${degradation.name}`);
  return `--mode landlock${[...new Set(accept)].join("")}`;
}

/** The one line of a fallback that is allowed (-q silences it). */
export function fallbackLine(why: BwrapWhy, fallback: PreparedRun): string {
  const losses = landlockLosses(fallback);
  return `bubblewrap cannot run here: ${why.cause}; using landlock-only mode` + (losses ? ` (${losses})` : "");
}

/**
 * The error of a refused fallback, as three lines. The refusal is the
 * fallback's own: a loss the policy does not accept (the usual case), or
 * something landlock-only mode cannot do at all (a checkout token it cannot
 * redact), which then takes the third line instead of the alternative.
 */
export function refusalLines(why: BwrapWhy, fallback: PreparedRun): { message: string; lines: string[] } {
  const refusal = fallback.refusal!;
  const losses = landlockLosses(fallback);
  // --mode bwrap refuses any other mode; a loss the policy does not accept is the usual refusal.
  const isLoss = fallback.policy.mode === "bwrap" || /would (lose|weaken)/.test(refusal.message);
  const flags = landlockFlags(fallback);
  // As root, the metadata gap is why the fallback was refused: say so, or the flag reads as arbitrary.
  const asRoot = flags.includes("metadata") ? "running as root, " : "";
  const alternative = isLoss
    ? `or: ${asRoot}\`${flags}\` accepts landlock-only mode` + (losses ? `, where ${losses}` : "")
    : `landlock-only mode is refused too: ${refusal.message}`;
  return { message: `bubblewrap cannot run here: ${why.cause}`, lines: [`fix: ${why.fix}`, alternative] };
}
