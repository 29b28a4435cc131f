// "Errors that explain": when bwrap fails before the command starts, run
// calls this with what bwrap printed (captured, never shown raw) and turns it
// into a diagnosis. Only a message cordon does not recognise costs a second
// try: doctor's probe, which tells a host problem from one of this run's plan.
import { attemptBwrap } from "../host/bwrap.ts";
import { detectContainer, detectNesting, readUsernsSysctls } from "../host/system.ts";
import { diagnoseBwrapMessage, USERNS_DIAGNOSES, type BwrapDiagnosis } from "./bwrap-messages.ts";

export interface BwrapFailureDiagnosis {
  /** bwrap's own message: the run's, or the probe's when the run's was not recognised. */
  message: string;
  diagnosis: BwrapDiagnosis;
  /** The kernel refused bwrap its user namespace (so no bwrap run can work here as things are). */
  userns: boolean;
}

/**
 * Diagnoses why `bwrapPath` failed, from `runMessage`. When the message is not
 * recognised and the probe succeeds, the failure was specific to this run's
 * plan (a mount source, the working directory), and the diagnosis says so.
 */
export function diagnoseBwrapFailure(bwrapPath: string, runMessage: string): BwrapFailureDiagnosis {
  const context = () => ({
    sysctls: readUsernsSysctls(),
    container: detectContainer(),
    nesting: detectNesting(),
    root: process.getuid?.() === 0,
    bwrapPath,
  });
  const result = (message: string, diagnosis: BwrapDiagnosis): BwrapFailureDiagnosis => ({
    message,
    diagnosis,
    userns: USERNS_DIAGNOSES.has(diagnosis.id),
  });
  const fromRun = diagnoseBwrapMessage(runMessage, context());
  if (fromRun.id !== "unknown") return result(runMessage, fromRun);
  const probe = attemptBwrap(bwrapPath);
  if (!probe.works) return result(probe.message || runMessage, diagnoseBwrapMessage(probe.message, context()));
  const said = runMessage ? ` (bwrap: ${JSON.stringify(runMessage)})` : "";
  return result(runMessage, {
    id: "unknown",
    cause: `bwrap works here in general, so it failed on something of this run's mounts or working directory${said}`,
    fix: "check the paths in `cordon explain` with the same options",
    fixes: ["check the paths in `cordon explain` with the same options", "run `cordon doctor` for the full report"],
  });
}
