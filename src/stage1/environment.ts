// The command's environment, as raw bytes: the user's own, with the
// policy's changes. Stage 2 itself starts with an empty environment.
import { readFileSync } from "node:fs";

export type EnvEntry = Uint8Array;

export function hostEnvironment(): EnvEntry[] {
  const bytes = readFileSync("/proc/self/environ");
  const entries: EnvEntry[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      if (i > start) entries.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return entries;
}

function nameOf(entry: EnvEntry): string {
  const eq = entry.indexOf(0x3d);
  return Buffer.from(entry.subarray(0, eq < 0 ? entry.length : eq)).toString("latin1");
}

export interface EnvChanges {
  clear: boolean;
  set: Record<string, string>;
  unset: string[];
}

export function applyEnvChanges(base: EnvEntry[], changes: EnvChanges): EnvEntry[] {
  const drop = new Set([...changes.unset, ...Object.keys(changes.set)]);
  const kept = changes.clear ? [] : base.filter((entry) => !drop.has(nameOf(entry)));
  const added = Object.entries(changes.set).map(([name, value]) => Buffer.from(`${name}=${value}`));
  return [...kept, ...added];
}
