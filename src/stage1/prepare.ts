// Stage 1's spine, first half: from a policy and the host's facts to what a
// run would do, or why it would refuse. Pure. `run` executes what this
// returns and `explain` prints it, so the two cannot disagree.
import { notPassedBecause } from "../host/descriptors.ts";
import type { HostFacts } from "../host/facts.ts";
import { decideMode, type ModeDecision } from "../plan/mode.ts";
import { landlockOnlyDegradations, planSandbox, unacceptedDegradations, type SandboxPlan } from "../plan/sandbox.ts";
import { inEveryMode, refusedByDefault, type DegradationName } from "../policy/degradations.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";

interface PrepareOptions {
  /** --strict: refuse every degradation not accepted by name. */
  strict: boolean;
  /** --preserve-fds N: descriptors 3..3+N-1 reach the command. */
  preserveFds: number;
  /** The run's private state directory on the host (plan/state.ts). */
  stateDir: string;
  /** bwrap was tried and failed before the command started: decide again without it. */
  bwrapFailed?: boolean;
}

interface Refusal {
  message: string;
  hint?: string;
}

export interface PreparedRun {
  policy: ResolvedPolicy;
  facts: HostFacts;
  options: PrepareOptions;
  decision: ModeDecision;
  /** The plan of the chosen mode, or of the mode a refused run would have attempted. */
  plan: SandboxPlan;
  /** Why the command would not run; undefined when it would. */
  refusal?: Refusal;
}

/**
 * Where a bwrap must not lie: everything this run can write, and, for a
 * bwrap named by --bwrap, the working directory too, which earlier runs
 * (`cordon -w .`) commonly could write. A bwrap found in the trusted system
 * locations is judged by the write roots alone, so that cordon runs from /.
 */
function bwrapSuspects(policy: ResolvedPolicy, facts: HostFacts): string[] {
  const named = facts.bwrap.found && facts.bwrap.explicit;
  return named ? [...policy.writeRoots, policy.cwd] : policy.writeRoots;
}

/** Whether bwrap gets the command started: known once tried (run) or probed (explain). */
function bwrapStarts(facts: HostFacts, options: PrepareOptions): boolean | undefined {
  return options.bwrapFailed ? false : facts.bwrapAttempt?.works;
}

/** Every descriptor --preserve-fds hands over must be one the caller passed: never the runtime's own. */
function preflightRefusal(facts: HostFacts, options: PrepareOptions): Refusal | undefined {
  const { atStart, now } = facts.descriptors;
  const range = options.preserveFds === 1 ? "descriptor 3" : `descriptors 3 to ${2 + options.preserveFds}`;
  for (let fd = 3; fd < 3 + options.preserveFds; fd++) {
    const why = notPassedBecause(fd, atStart, now);
    if (why) {
      return {
        message: `--preserve-fds ${options.preserveFds}: ${why}`,
        hint: `give cordon ${range} when starting it, or pass a smaller number; the command was not run`,
      };
    }
  }
  return undefined;
}

/** What to do instead of accepting a degradation that is refused by default, where there is a better way. */
const REMEDIES: Partial<Record<DegradationName, string>> = {
  "cordon-writable":
    "run a cordon that no write root reaches: install it globally (npm install -g cordon) or outside the project",
};

/**
 * A loss that defeats the policy itself is refused in every run, unless
 * accepted by name. One of the filesystem's (cordon's own files are
 * writable) comes with any mode, so the message names no mode.
 */
function defaultRefusal(plan: SandboxPlan, policy: ResolvedPolicy): Refusal | undefined {
  const refused = refusedByDefault(plan.degradations, policy.allowDegraded)[0];
  if (!refused) return undefined;
  const mode = plan.mode === "bwrap" ? "bwrap" : "landlock-only";
  const remedy = REMEDIES[refused.name];
  return {
    message: inEveryMode(refused) ? refused.consequence : `${mode} mode here would weaken: ${refused.consequence}`,
    hint:
      `${remedy ? `${remedy}, or ` : ""}accept it by name with --allow-degraded ${refused.name}; ` +
      "the command was not run",
  };
}

function strictRefusal(plan: SandboxPlan, policy: ResolvedPolicy): Refusal | undefined {
  const refused = unacceptedDegradations(plan, policy.allowDegraded);
  if (refused.length === 0) return undefined;
  const mode = plan.mode === "bwrap" ? "bwrap" : "landlock-only";
  const list = refused.map((degradation) => `${degradation.name} (${degradation.consequence})`).join("; ");
  return {
    message: `--strict: ${mode} mode here would weaken: ${list}`,
    hint: `accept one by name with --allow-degraded ${refused[0]!.name}; the command was not run`,
  };
}

/**
 * A secret that this mode cannot keep from the command: landlock-only mode
 * cannot put a copy over a repository's .git/config, and hiding the file
 * would break git itself.
 */
function secretRefusal(plan: SandboxPlan): Refusal | undefined {
  const refused = plan.redactions.filter((redaction) => redaction.how === "refused");
  if (refused.length === 0) return undefined;
  const what = refused.map((redaction) => `${redaction.path} (${redaction.removed.join(", ")})`).join("; ");
  return {
    message:
      `the CI checkout token in ${what} would be readable: landlock-only mode cannot present a redacted ` +
      "copy of a file, and hiding .git/config would break git",
    hint:
      "check out with `persist-credentials: false` (actions/checkout), or run where bwrap works; " +
      "--reveal git-checkout-token accepts it; the command was not run",
  };
}

export function prepareRun(policy: ResolvedPolicy, facts: HostFacts, options: PrepareOptions): PreparedRun {
  const decision = decideMode({
    requested: policy.mode,
    landlockAbi: facts.landlock.abi,
    landlockNote: facts.landlock.note,
    bwrap: facts.bwrap,
    writable: bwrapSuspects(policy, facts),
    bwrapStarts: bwrapStarts(facts, options),
    landlockOnly: landlockOnlyDegradations(policy, facts),
  });
  const mode = decision.kind === "run" ? decision.mode : decision.attempted;
  const plan = planSandbox(policy, facts, mode, options.stateDir);
  const refusal =
    preflightRefusal(facts, options) ??
    (decision.kind === "refuse" ? { message: decision.reason, hint: decision.hint } : undefined) ??
    defaultRefusal(plan, policy) ??
    secretRefusal(plan) ??
    (options.strict ? strictRefusal(plan, policy) : undefined);
  return { policy, facts, options, decision, plan, ...(refusal ? { refusal } : {}) };
}

/** The same run, decided again after bwrap failed before the command started. */
export function prepareFallback(prepared: PreparedRun): PreparedRun {
  return prepareRun(prepared.policy, prepared.facts, { ...prepared.options, bwrapFailed: true });
}
