// The caller's environment, as raw bytes, read once from /proc/self/environ
// (libc's view, which process.env edits do not change). Stage 1 hands it to
// the command minus what the plan removes; the plan sees names and values.
import { readFileSync } from "node:fs";
import { splitNul } from "../bytes.ts";
import type { HostVariable } from "../policy/environment.ts";
import { NPM_PACKAGE_VARIABLE } from "./cordon-files.ts";

export type EnvEntry = Uint8Array;

/** Variables that speak to cordon itself, never to the command. */
const CORDON_ONLY = new Set([NPM_PACKAGE_VARIABLE]);

export function nameOf(entry: EnvEntry): string {
  const eq = entry.indexOf(0x3d);
  return Buffer.from(entry.subarray(0, eq < 0 ? entry.length : eq)).toString("latin1");
}

function valueOf(entry: EnvEntry): string {
  const eq = entry.indexOf(0x3d);
  return eq < 0 ? "" : Buffer.from(entry.subarray(eq + 1)).toString("utf8");
}

export function hostEnvironment(): EnvEntry[] {
  return splitNul(readFileSync("/proc/self/environ")).filter(
    (entry) => entry.length > 0 && !CORDON_ONLY.has(nameOf(entry)),
  );
}

/** The caller's variables, decoded for the planner's look at names and values. */
export function hostVariables(entries: readonly EnvEntry[] = hostEnvironment()): HostVariable[] {
  return entries.map((entry) => ({ name: nameOf(entry), value: valueOf(entry) }));
}
