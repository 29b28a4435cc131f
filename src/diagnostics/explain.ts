// The data of `cordon explain`: the plan a run would execute, built by the
// same functions run uses (planSandbox, bwrapArguments, decideMode) and read
// back from the bytes stage 2 would install. Nothing here runs the command.
import { ACCESS_NET, SCOPE } from "../../ffi/landlock.ts";
import { decodeSockFilters, encodeSockFilters } from "../../ffi/seccomp.ts";
import { fsRightsOf } from "../landlock/abi.ts";
import { gatherHostFacts } from "../plan/facts.ts";
import { decideMode, type ModeDecision } from "../plan/mode.ts";
import { bwrapArguments } from "../plan/mounts.ts";
import { bindSources, landlockOnlyLosses, planSandbox, type RunPaths, type SandboxPlan } from "../plan/sandbox.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { disassembleSeccompProgram } from "../seccomp/disassemble.ts";
import { locateBwrap } from "../stage1/bwrap-locate.ts";
import { landlockAvailability } from "../stage1/host.ts";
import { probeBwrap } from "./bwrap-probe.ts";
import type { ExplainReport } from "./schema.ts";

/** The descriptor number run gives bwrap's --info-fd (no --preserve-fds). */
export const EXPLAIN_INFO_FD = 6;

/** Stand-ins for the per-run host paths a real run creates. */
export const PLACEHOLDERS = { tmpdir: "<private TMPDIR>", emptyDir: "<empty dir>", emptyFile: "<empty file>" } as const;

function placeholderPaths(policy: ResolvedPolicy): RunPaths {
  const inodes = new Map<string, { dev: bigint; ino: bigint }>();
  for (const path of bindSources(policy, PLACEHOLDERS)) inodes.set(path, { dev: 0n, ino: 0n });
  return { ...PLACEHOLDERS, inodes };
}

const namesOf = <K extends string>(table: Record<K, bigint>, mask: bigint): K[] =>
  (Object.keys(table) as K[]).filter((name) => (mask & table[name]) !== 0n);

function fixesFor(decision: ModeDecision): string[] {
  return decision.kind === "refuse" ? [decision.hint] : [];
}

export interface ExplainInput {
  policy: ResolvedPolicy;
  warnings: string[];
  command: string[];
  bwrap?: string;
}

export function explainReport(input: ExplainInput): ExplainReport {
  const { policy } = input;
  const availability = landlockAvailability();
  const facts = gatherHostFacts(availability.abi);
  const bwrap = policy.mode === "landlock" ? undefined : locateBwrap(input.bwrap, [...policy.writeRoots, policy.cwd]);
  // Doctor's probe stands in for run's attempt, so auto mode is predicted, not guessed.
  const probe = bwrap?.found ? probeBwrap(bwrap.path) : undefined;
  const decision = decideMode({
    requested: policy.mode,
    landlockAbi: availability.abi,
    bwrap,
    bwrapStarts: probe?.found ? probe.works : undefined,
    losses: landlockOnlyLosses(policy, facts),
  });
  const planned = decision.kind === "run" ? decision.mode : decision.attempted;
  const plan: SandboxPlan = planSandbox(policy, facts, planned, placeholderPaths(policy));
  // Disassemble the bytes stage 2 would receive, not the in-memory program.
  const bytes = encodeSockFilters(plan.seccomp);
  const reason = decision.kind === "run" ? decision.reason : `refused: ${decision.reason}`;
  const probeNote = probe?.found && !probe.works && probe.message ? ` (bwrap said: ${probe.message})` : "";
  return {
    format: "cordon-explain/1",
    command: input.command,
    policy: JSON.parse(JSON.stringify(policy)) as Record<string, unknown>,
    warnings: input.warnings,
    mode: {
      requested: policy.mode,
      chosen: decision.kind === "run" ? decision.mode : null,
      planned,
      reason: `${reason}${probeNote}`,
      fixes: fixesFor(decision),
    },
    bwrap: planned === "bwrap" && bwrap?.found ? { path: bwrap.path, arguments: bwrapArguments(plan, EXPLAIN_INFO_FD) } : null,
    mounts: plan.mounts.map((op) => ({ ...op })),
    landlock: {
      abi: plan.landlock.abi,
      note: availability.note ?? null,
      handledFs: fsRightsOf(plan.landlock.handledFs),
      handledNet: namesOf(ACCESS_NET, plan.landlock.handledNet),
      scopes: namesOf(SCOPE, plan.landlock.scoped),
      rules: plan.landlock.pathRules.map((rule) => ({ path: rule.path, grant: rule.grant, rights: fsRightsOf(rule.access), walked: rule.walked })),
      netRules: plan.landlock.netRules.map((rule) => ({ port: rule.port, rights: namesOf(ACCESS_NET, rule.access) })),
      dropped: plan.landlock.dropped,
    },
    seccomp: {
      arch: facts.arch,
      instructions: plan.seccomp.length,
      bytes: Buffer.from(bytes).toString("hex"),
      listing: disassembleSeccompProgram(decodeSockFilters(bytes), facts.arch),
    },
    environment: { clear: plan.env.clear, set: plan.env.set, unset: plan.env.unset },
    notEnforced: plan.gaps,
  };
}
