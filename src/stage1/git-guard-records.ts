// Records of protectGit's repair, shared between runs. A run that repairs
// (landlock-only mode, and symlinked or missing paths in bwrap mode) writes
// what it recorded, as digests, to a file of its own before the command
// starts, and removes it after the repair. Two things read them:
// - a run that starts while another live cordon run holds the same path
//   cannot trust its own record: the other command may already have changed
//   the path. It disarms a change instead of putting its record back;
// - a run after a SIGKILLed one: a path that differs from the killed run's
//   record was never repaired, so it is disarmed.
// Records are files a sandboxed command may be able to write, so they are
// hints: they can make cordon disarm (move a file aside), never write
// chosen content and never skip a repair. They live in the first candidate
// directory outside the run's write roots, so a run's own command cannot
// rewrite its record.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { processStat } from "../host/processes.ts";
import { isWithin, lstatOrUndefined } from "../policy/paths.ts";

/** One path a run holds by repair, and a digest of what it recorded. */
export interface GitGuardRecord {
  path: string;
  digest: string;
}

/** Another run's record file, by its owner's state. */
export interface OtherRecords {
  file: string;
  /** "live": a cordon process holds it; "stale": its process is gone; "unknown": neither can be told. */
  state: "live" | "stale" | "unknown";
  records: GitGuardRecord[];
}

/** A killed run's records are handled by the next run that holds their paths; past this age they go. */
const STALE_RECORD_DAYS = 30;

/** Where record files may live, most private first. */
function candidateBases(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.getuid?.() ?? 0;
  const state = env["XDG_STATE_HOME"] || join(homedir(), ".local", "state");
  return [...new Set([tmpdir(), `/run/user/${uid}`, state, "/var/tmp", "/tmp"])];
}

function recordsDirIn(base: string): string {
  return join(base, `cordon-git-guard-${process.getuid?.() ?? 0}`);
}

/** A records directory that is this user's own and not a symlink, or undefined. */
function ownDirectory(dir: string): boolean {
  try {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    return stat !== undefined && stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o022) === 0;
  } catch {
    // EACCES: a HOME this user cannot search (nobody with root's HOME).
    return false;
  }
}

/** The process's start time, which tells a reused pid apart. */
const startTimeOf = (pid: number): string | undefined => processStat(pid)?.startTime;

function selfExecutable(): string | undefined {
  try {
    return readlinkSync("/proc/self/exe");
  } catch {
    return undefined;
  }
}

const RECORD_NAME = /^(\d+)-(\d+)\.json$/;

function stateOf(name: string): OtherRecords["state"] {
  const match = RECORD_NAME.exec(name);
  if (!match) return "unknown";
  const [, pid, start] = match;
  const now = startTimeOf(Number(pid));
  if (now === undefined || now !== start) return "stale";
  try {
    return readlinkSync(`/proc/${pid}/exe`) === selfExecutable() ? "live" : "unknown";
  } catch {
    return "unknown";
  }
}

function decode(text: string): GitGuardRecord[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (entry): entry is GitGuardRecord =>
        typeof entry === "object" &&
        entry !== null &&
        typeof (entry as GitGuardRecord).path === "string" &&
        typeof (entry as GitGuardRecord).digest === "string",
    );
  } catch {
    return [];
  }
}

/** Every other run's record file, in every candidate directory; old stale ones are removed on the way. */
export function otherRecords(): OtherRecords[] {
  const own = `${process.pid}-`;
  const out: OtherRecords[] = [];
  for (const base of candidateBases()) {
    const dir = recordsDirIn(base);
    if (!ownDirectory(dir)) continue;
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(own)) continue;
      const file = join(dir, name);
      const state = stateOf(name);
      const stat = lstatOrUndefined(file);
      if (!stat?.isFile()) continue;
      if (state === "stale" && Date.now() - stat.mtimeMs > STALE_RECORD_DAYS * 86_400_000) {
        rmSync(file, { force: true });
        continue;
      }
      let text = "";
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      out.push({ file, state, records: decode(text) });
    }
  }
  return out;
}

/** Rewrites a killed run's record file without the paths this run has handled, or removes it. */
export function dropHandled(other: OtherRecords, handled: ReadonlySet<string>): void {
  const left = other.records.filter((record) => !handled.has(record.path));
  if (left.length === other.records.length) return;
  try {
    if (left.length === 0) rmSync(other.file, { force: true });
    else writeFileSync(other.file, JSON.stringify(left), { mode: 0o600 });
  } catch {
    // Another run handled it first.
  }
}

/**
 * Writes this run's records to the first candidate directory outside its
 * write roots, and returns the file (to remove after the repair), or
 * undefined when every candidate lies inside them or cannot be written:
 * then a SIGKILL of this run leaves nothing for the next run to check.
 */
export function writeOwnRecords(records: readonly GitGuardRecord[], writeRoots: readonly string[]): string | undefined {
  const start = startTimeOf(process.pid);
  if (records.length === 0 || start === undefined) return undefined;
  for (const base of candidateBases()) {
    let dir: string;
    try {
      dir = recordsDirIn(realpathSync(base));
    } catch {
      continue;
    }
    if (writeRoots.some((root) => isWithin(dir, root))) continue;
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch {
      // Exists already, or the base does not: checked below.
    }
    if (!ownDirectory(dir)) continue;
    const file = join(dir, `${process.pid}-${start}.json`);
    try {
      writeFileSync(file, JSON.stringify(records), { mode: 0o600 });
      return file;
    } catch {
      continue;
    }
  }
  return undefined;
}
