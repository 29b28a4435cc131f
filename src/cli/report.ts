import type { Degradation } from "../landlock/rules.ts";

/** One line naming each guarantee that is weaker, for warnings. */
export function describeGaps(gaps: readonly Degradation[]): string {
  return gaps
    .filter((gap) => gap.weakensSecurity)
    .map((gap) => gap.feature)
    .join(", ");
}
