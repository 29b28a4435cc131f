// What a run creates on the host, as data: its private state directory (0700)
// holding landlock-only mode's TMPDIR and the empty file that covers host
// sockets in bwrap mode, and the placeholder directories that let a stand-in
// sit where a deny path does not exist yet. The executor
// creates exactly this and removes exactly this; nothing is recomputed from
// the policy afterwards.
import { join } from "node:path";
import type { CopyFile } from "./redacted-copies.ts";

export interface HostState {
  /** The run's private directory: created first, removed last. */
  dir: string;
  tmpdir: string;
  /** An empty read-only file that bwrap binds over host sockets. */
  emptyFile: string;
  /**
   * bwrap mode: directories created where deny paths do not exist yet, so a
   * read-only stand-in can sit there for the run (see plan/deny-mounts.ts).
   */
  placeholders: string[];
  /**
   * Existing deny directories inside write roots that the run locks (shared)
   * while it runs: one may be another run's placeholder that this run did not
   * recognise, which that run must then not remove under this one's mount.
   */
  lockedDirs: string[];
  /** Redacted copies of credential files (read-only, 0400), written before the command starts. */
  copies: CopyFile[];
  /** Every path above that the run creates, so the plan can expect their identities. */
  created: string[];
}

/** explain's stand-in for the state directory a real run creates under $TMPDIR. */
export const STATE_DIR_PLACEHOLDER = "<run state>";

/** The files a state directory holds. */
export function stateFilesIn(dir: string): Pick<HostState, "tmpdir" | "emptyFile"> {
  return { tmpdir: join(dir, "tmp"), emptyFile: join(dir, "empty-file") };
}

export function hostStateFor(
  placeholders: readonly string[],
  lockedDirs: readonly string[],
  dir: string,
  copies: readonly CopyFile[] = [],
): HostState {
  const paths = stateFilesIn(dir);
  return {
    dir,
    ...paths,
    placeholders: [...placeholders],
    lockedDirs: [...lockedDirs],
    copies: [...copies],
    created: [paths.tmpdir, paths.emptyFile, ...copies.map((copy) => copy.path), ...placeholders],
  };
}
