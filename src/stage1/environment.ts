// The command's environment, as raw bytes: the user's own, with the plan's
// changes. Stage 2 itself starts with an empty environment.
import { nameOf, type EnvEntry } from "../host/environment.ts";
import type { PlannedEnvironment } from "../plan/sandbox.ts";

export function applyEnvChanges(base: EnvEntry[], changes: PlannedEnvironment): EnvEntry[] {
  const drop = new Set([
    ...changes.unset,
    ...Object.keys(changes.set),
    ...changes.removed.map((variable) => variable.name),
  ]);
  const kept = changes.clear ? [] : base.filter((entry) => !drop.has(nameOf(entry)));
  const added = Object.entries(changes.set).map(([name, value]) => Buffer.from(`${name}=${value}`));
  return [...kept, ...added];
}
