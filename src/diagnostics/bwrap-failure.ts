// "Errors that explain": when bwrap fails before the command starts, run
// calls this to re-run doctor's bwrap probe (capturing bwrap's message, which
// the failed run let through to the terminal) and turn it into a diagnosis.
import { attemptBwrap } from "../host/bwrap.ts";
import { detectContainer, readUsernsSysctls } from "../host/system.ts";
import { diagnoseBwrapMessage, type BwrapDiagnosis } from "./bwrap-messages.ts";

interface BwrapFailureDiagnosis {
  /** bwrap's own message from the probe ("" when the probe passed or printed nothing). */
  message: string;
  diagnosis: BwrapDiagnosis;
  /** One paragraph for a CordonError hint: the cause, then the fixes. */
  text: string;
}

/**
 * Diagnoses why `bwrapPath` failed. When the probe itself succeeds, the
 * failure was specific to this run's plan (a mount source, the working
 * directory), and the diagnosis says so.
 */
export function diagnoseBwrapFailure(bwrapPath: string): BwrapFailureDiagnosis {
  const probe = attemptBwrap(bwrapPath);
  if (probe.works) {
    const diagnosis: BwrapDiagnosis = {
      id: "unknown",
      cause:
        "bwrap works on this host in general (doctor's probe passed), so it failed on " +
        "something specific to this run's mounts or working directory; bwrap's message " +
        "above names it",
      fixes: ["check the paths in `cordon explain` with the same options", "run `cordon doctor` for the full report"],
    };
    return { message: "", diagnosis, text: render(diagnosis) };
  }
  const diagnosis = diagnoseBwrapMessage(probe.message, {
    sysctls: readUsernsSysctls(),
    container: detectContainer(),
    root: process.getuid?.() === 0,
    bwrapPath,
  });
  return { message: probe.message, diagnosis, text: render(diagnosis) };
}

function render(diagnosis: BwrapDiagnosis): string {
  const fixes = diagnosis.fixes.map((fix, i) => `(${i + 1}) ${fix}`).join("\n  ");
  return `${diagnosis.cause}.\nfix:\n  ${fixes}\n(\`cordon doctor\` shows every layer)`;
}
