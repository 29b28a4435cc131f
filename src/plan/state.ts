// What a run creates on the host, as data: its private state directory (0700)
// holding landlock-only mode's TMPDIR and the empty stand-ins that hide
// read-denied paths in bwrap mode, and the placeholder directories that let a
// read-only mount sit where a deny path does not exist yet. The executor
// creates exactly this and removes exactly this; nothing is recomputed from
// the policy afterwards.
import { join, relative } from "node:path";
import type { ResolvedPolicy } from "../policy/resolve.ts";

export interface HostState {
  /** The run's private directory: created first, removed last. */
  dir: string;
  tmpdir: string;
  emptyDir: string;
  emptyFile: string;
  /** bwrap mode: directories created, outermost first, where deny paths do not exist yet. */
  placeholders: string[];
  /** Every path above that the run creates, so the plan can expect their identities. */
  created: string[];
}

/** explain's stand-in for the state directory a real run creates under $TMPDIR. */
export const STATE_DIR_PLACEHOLDER = "<run state>";

/** Each missing component of a deny path, outermost first, below its deepest existing ancestor. */
function missingComponents(path: string, existing: string): string[] {
  const chain: string[] = [];
  let at = existing;
  for (const part of relative(existing, path).split("/")) {
    at = join(at, part);
    chain.push(at);
  }
  return chain;
}

export function hostStateFor(policy: ResolvedPolicy, mode: "bwrap" | "landlock", dir: string): HostState {
  const paths = { tmpdir: join(dir, "tmp"), emptyDir: join(dir, "empty-dir"), emptyFile: join(dir, "empty-file") };
  const placeholders = new Set<string>();
  if (mode === "bwrap") {
    for (const deny of [...policy.denyWrite, ...policy.denyRead]) {
      if (deny.kind !== "missing" || deny.existing === undefined) continue;
      for (const component of missingComponents(deny.path, deny.existing)) placeholders.add(component);
    }
  }
  return {
    dir,
    ...paths,
    placeholders: [...placeholders],
    created: [paths.tmpdir, paths.emptyDir, paths.emptyFile, ...placeholders],
  };
}
