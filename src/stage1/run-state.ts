// Creates and removes exactly what the plan says a run creates on the host
// (plan/state.ts): the private state directory and the placeholders.
import { closeSync, lstatSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { identitiesOf } from "../host/filesystem.ts";
import {
  encodePlaceholderRecords,
  otherRuns,
  PLACEHOLDER_RECORDS,
  stateBase,
  type PlaceholderRecord,
} from "../host/runs.ts";
import type { HostState } from "../plan/state.ts";
import { placeholderAt, type Identity } from "../policy/paths.ts";
import { CordonError } from "../errors.ts";
import {
  acquirePlaceholder,
  lockDirectory,
  releasePlaceholder,
  type HeldPlaceholder,
  type Recognition,
} from "./placeholders.ts";

/**
 * A new state directory's path, named after this process, so that a later
 * run can tell when its owner is gone.
 */
export function newStateDir(): string {
  // The Web Crypto global: importing node:crypto would cost about 11 ms on every run.
  const suffix = Buffer.from(crypto.getRandomValues(new Uint8Array(6)))
    .toString("base64url")
    .replace(/[-_]/g, "x")
    .slice(0, 6);
  return join(stateBase(), `cordon-${process.pid}-${suffix}`);
}

/**
 * A SIGKILLed cordon cannot remove its state directory or its placeholders;
 * the next run removes them, the placeholders only where no live run holds
 * them.
 */
function removeStaleState(): void {
  for (const run of otherRuns()) {
    if (!run.stale) continue;
    for (const record of run.placeholders) {
      // Records are only hints (a sandboxed command that can write $TMPDIR could forge them):
      // what is removed must still look exactly like a placeholder.
      const identity = placeholderAt(record.path);
      const recorded = record.identity;
      if (identity && (!recorded || (recorded.dev === identity.dev && recorded.ino === identity.ino))) {
        releasePlaceholder(record.path, identity);
      }
    }
    rmSync(run.dir, { recursive: true, force: true });
  }
}

interface CreatedState {
  /** The identity of each path created, for the launch message. */
  identities: ReadonlyMap<string, Identity>;
  /** Lets go of the placeholders (before falling back to a mode that needs none). */
  removePlaceholders(): void;
  /**
   * Writes another plan's redacted copies into the same state directory (the
   * landlock-only fallback names its own), adding their identities.
   */
  writeCopies(copies: HostState["copies"]): void;
  remove(): void;
}

function cannotHold(path: string, error: unknown): CordonError {
  if (error instanceof CordonError) return error;
  return new CordonError(
    `cannot create a placeholder at ${path} for a missing deny path: ${(error as Error).message}`,
    {
      hint: "create the path yourself, or drop the deny entry; the command was not run",
    },
  );
}

/**
 * Whether the directory found at `path` is a placeholder: it looks exactly
 * like one. Whose it is does not matter (another run's, with any $TMPDIR, or
 * one left behind): this run holds it and takes its share in removing it. An
 * empty directory of ours with another mode may be one still being made.
 */
function recognise(path: string, identity: Identity): Recognition {
  const look = placeholderAt(path);
  if (look) return look.dev === identity.dev && look.ino === identity.ino ? "yes" : "no";
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  const ours = stat?.isDirectory() && stat.uid === BigInt(process.getuid?.() ?? -1) && stat.nlink === 2n;
  return ours ? "pending" : "no";
}

/**
 * Holds each placeholder, recording it in the state directory before it can
 * exist, so that a SIGKILL at any point leaves a record for the next run.
 */
function holdPlaceholders(state: HostState, held: HeldPlaceholder[]): void {
  const recordsFile = join(state.dir, PLACEHOLDER_RECORDS);
  const records: PlaceholderRecord[] = [];
  for (const path of state.placeholders) {
    records.push({ path });
    writeFileSync(recordsFile, encodePlaceholderRecords(records), { mode: 0o600 });
    try {
      const placeholder = acquirePlaceholder(path, (identity) => recognise(path, identity));
      held.push(placeholder);
      records[records.length - 1] = { path, identity: placeholder.identity };
    } catch (error) {
      throw cannotHold(path, error);
    }
  }
  writeFileSync(recordsFile, encodePlaceholderRecords(records), { mode: 0o600 });
}

/** Creates `state` on the host; remove() takes all of it away again. */
export function createHostState(state: HostState): CreatedState {
  removeStaleState();
  mkdirSync(state.dir, { mode: 0o700 });
  mkdirSync(state.tmpdir, { mode: 0o700 });
  writeFileSync(state.emptyFile, "", { mode: 0o444 });
  writeCopyFiles(state.copies);
  const held: HeldPlaceholder[] = [];
  const locks = state.lockedDirs.map(lockDirectory).filter((fd) => fd !== undefined);
  const removePlaceholders = () => {
    for (const fd of locks.splice(0)) closeSync(fd);
    for (const placeholder of held.splice(0).reverse()) {
      releasePlaceholder(placeholder.path, placeholder.identity, placeholder);
    }
  };
  const remove = () => {
    removePlaceholders();
    rmSync(state.dir, { recursive: true, force: true });
  };
  try {
    holdPlaceholders(state, held);
  } catch (error) {
    remove();
    throw error;
  }
  const identities = identitiesOf([state.tmpdir, state.emptyFile, ...state.copies.map((copy) => copy.path)]);
  for (const placeholder of held) identities.set(placeholder.path, placeholder.identity);
  const writeCopies = (copies: HostState["copies"]) => {
    const fresh = copies.filter((copy) => !identities.has(copy.path));
    writeCopyFiles(fresh);
    for (const [path, identity] of identitiesOf(fresh.map((copy) => copy.path))) identities.set(path, identity);
  };
  return { identities, removePlaceholders, writeCopies, remove };
}

/** Redacted copies: read-only for the owner (the caller, and the command's uid). */
function writeCopyFiles(copies: HostState["copies"]): void {
  for (const copy of copies) {
    mkdirSync(dirname(copy.path), { recursive: true, mode: 0o700 });
    writeFileSync(copy.path, copy.text, { mode: 0o400 });
  }
}
