// Other cordon runs of this user, as the host shows them: each run keeps a
// private state directory under $TMPDIR, named after its process, with a
// record of the placeholders it holds. A later run reads these to clean up
// after a run that was killed. They are hints only: a sandboxed command that
// can write $TMPDIR could forge one, so what is removed must still look
// exactly like a placeholder (policy/paths.ts placeholderAt).
import { lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Identity } from "../policy/paths.ts";

/** `cordon-<pid>-<6 random characters>` */
export const STATE_DIR_NAME = /^cordon-(\d+)-[A-Za-z0-9]{6}$/;

/** The file in a state directory that lists the placeholders the run holds, one JSON object per line. */
export const PLACEHOLDER_RECORDS = "placeholders";

/** Where state directories live: canonical, since stage 2 opens paths below it without following symlinks. */
export function stateBase(): string {
  return realpathSync(tmpdir());
}

export interface PlaceholderRecord {
  path: string;
  /** Absent while the run is still creating it. */
  identity?: Identity;
}

export interface OtherRun {
  dir: string;
  /** Its process is gone: a SIGKILL left its state behind. */
  stale: boolean;
  placeholders: PlaceholderRecord[];
}

export function encodePlaceholderRecords(records: readonly PlaceholderRecord[]): string {
  return records
    .map(({ path, identity }) =>
      JSON.stringify(identity ? { path, dev: identity.dev.toString(), ino: identity.ino.toString() } : { path }),
    )
    .join("\n");
}

function decodePlaceholderRecords(text: string): PlaceholderRecord[] {
  const records: PlaceholderRecord[] = [];
  for (const line of text.split("\n")) {
    try {
      const { path, dev, ino } = JSON.parse(line) as { path?: unknown; dev?: unknown; ino?: unknown };
      if (typeof path !== "string") continue;
      const identity =
        typeof dev === "string" && typeof ino === "string" ? { dev: BigInt(dev), ino: BigInt(ino) } : undefined;
      records.push(identity ? { path, identity } : { path });
    } catch {
      // A line cut short by a kill: the placeholder it names, if any, has no identity to match.
    }
  }
  return records;
}

/** The state directories of this user's other runs, live and stale, with their placeholders. */
export function otherRuns(base: string = stateBase(), uid = process.getuid?.()): OtherRun[] {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const runs: OtherRun[] = [];
  for (const name of names) {
    const match = STATE_DIR_NAME.exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    const dir = join(base, name);
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (!stat?.isDirectory() || stat.uid !== uid) continue;
    let text = "";
    try {
      text = readFileSync(join(dir, PLACEHOLDER_RECORDS), "utf8");
    } catch {
      // No placeholders recorded.
    }
    const stale = lstatSync(`/proc/${match[1]}`, { throwIfNoEntry: false }) === undefined;
    runs.push({ dir, stale, placeholders: decodePlaceholderRecords(text) });
  }
  return runs;
}
