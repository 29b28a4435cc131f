// The command's environment, as raw bytes: the user's own, with the
// policy's changes. Stage 2 itself starts with an empty environment.
import { readFileSync } from "node:fs";
import { splitNul } from "../bytes.ts";
import { NPM_PACKAGE_VARIABLE } from "../host/cordon-files.ts";
import type { EnvChanges } from "../policy/schema.ts";

type EnvEntry = Uint8Array;

/** Variables that speak to cordon itself, never to the command. */
const CORDON_ONLY = new Set([NPM_PACKAGE_VARIABLE]);

export function hostEnvironment(): EnvEntry[] {
  return splitNul(readFileSync("/proc/self/environ")).filter(
    (entry) => entry.length > 0 && !CORDON_ONLY.has(nameOf(entry)),
  );
}

function nameOf(entry: EnvEntry): string {
  const eq = entry.indexOf(0x3d);
  return Buffer.from(entry.subarray(0, eq < 0 ? entry.length : eq)).toString("latin1");
}

export function applyEnvChanges(base: EnvEntry[], changes: EnvChanges): EnvEntry[] {
  const drop = new Set([...changes.unset, ...Object.keys(changes.set)]);
  const kept = changes.clear ? [] : base.filter((entry) => !drop.has(nameOf(entry)));
  const added = Object.entries(changes.set).map(([name, value]) => Buffer.from(`${name}=${value}`));
  return [...kept, ...added];
}
