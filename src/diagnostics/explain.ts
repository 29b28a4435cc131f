// The data of `cordon explain`: the prepared run that `run` would execute
// (the same prepareRun), with the seccomp program read back from the bytes
// stage 2 would install. Nothing here runs the command.
import { ACCESS_NET, SCOPE } from "../../ffi/landlock.ts";
import { decodeSockFilters, encodeSockFilters } from "../../ffi/seccomp.ts";
import { fsRightsOf } from "../landlock/abi.ts";
import { slotsFor } from "../launch/wire.ts";
import { bwrapArguments } from "../plan/mounts.ts";
import { disassembleSeccompProgram } from "../seccomp/disassemble.ts";
import type { PreparedRun } from "../stage1/prepare.ts";
import type { ExplainReport } from "./schema.ts";

const namesOf = <K extends string>(table: Record<K, bigint>, mask: bigint): K[] =>
  (Object.keys(table) as K[]).filter((name) => (mask & table[name]) !== 0n);

interface ExplainInput {
  prepared: PreparedRun;
  warnings: string[];
  command: string[];
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
    policy: JSON.parse(JSON.stringify(policy)) as Record<string, unknown>,
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
    environment: { clear: plan.env.clear, set: plan.env.set, unset: plan.env.unset },
    notEnforced: plan.degradations,
  };
}
