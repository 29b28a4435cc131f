// --report FILE, by descriptor. Stage 1 runs with all of the user's rights,
// and the report often lies inside a write root: written by path after the
// run, it would follow whatever the command left there (a symlink to
// ~/.bashrc, or to /etc/passwd as root). So the file is opened before the
// command starts, never through a symlink the sandbox could have planted, and
// written afterwards through that descriptor alone. Opening does not truncate:
// a run refused later has destroyed nothing but the old report.
import { closeSync, fstatSync, ftruncateSync, lstatSync, writeSync, type BigIntStats } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import {
  AT_FDCWD,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_PATH,
  O_WRONLY,
  RESOLVE_NO_SYMLINKS,
} from "../../ffi/constants.ts";
import { openat, openat2, SyscallError } from "../../ffi/libc.ts";
import { encodeOpenHow } from "../../ffi/structs.ts";
import { CordonError } from "../errors.ts";
import { isWithin, walkPath, type Identity } from "../policy/paths.ts";

export interface ReportFile {
  /** The path as the user gave it, for messages. */
  given: string;
  /** Its canonical form: the directory reached without symlinks, and the name. */
  path: string;
  fd: number;
  identity: Identity;
}

const PARENT = encodeOpenHow(O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);
// O_NONBLOCK: a FIFO swapped in after the check fails at once instead of hanging cordon.
const REPORT_FLAGS = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

function refuse(given: string, why: string, hint?: string): never {
  throw new CordonError(`--report ${given}: ${why}`, hint === undefined ? {} : { hint });
}

/** Why a file found at the report's path is not one cordon writes over, or undefined when it is. */
function unfitReason(stat: BigIntStats): string | undefined {
  if (stat.isSymbolicLink()) return "is a symlink, which cordon does not follow";
  if (stat.isDirectory()) return "is a directory";
  if (stat.isFIFO()) return "is a FIFO";
  if (!stat.isFile()) return "is not a regular file";
  if (stat.nlink > 1n) return `has ${stat.nlink} hard links: writing it would change the file under its other names`;
  return undefined;
}

/**
 * The report's directory, canonical. A symlink on the way that lies where
 * a sandbox could write (`suspects`: this run's write roots and the working
 * directory, which earlier `-w .` runs could write) may have been planted to
 * lead the report elsewhere (`reports -> /etc`): refused.
 */
function reportDirectory(given: string, suspects: readonly string[]): string {
  const walk = walkPath(dirname(resolve(given)));
  if (!walk.exists) refuse(given, "its directory does not exist");
  const planted = walk.links.find((link) => suspects.some((root) => isWithin(link, root)));
  if (planted) {
    refuse(
      given,
      `${planted} on the way is a symlink inside a directory a sandboxed command can write`,
      "an earlier sandboxed run could have planted it; name a path without it; the command was not run",
    );
  }
  return walk.canonical;
}

function openParent(given: string, dir: string): number {
  try {
    return openat2(AT_FDCWD, dir, PARENT);
  } catch (error) {
    return refuse(given, `cannot open its directory (${describe(error)})`);
  }
}

function describe(error: unknown): string {
  if (error instanceof SyscallError) return error.message.replace(/^.*failed: /, "");
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/**
 * Opens (creating if needed, never truncating) the report file at `given`
 * for writing after the run. Refuses, touching nothing, a symlink, a
 * directory, a FIFO or other special file, a file with several hard links,
 * and a path through a symlink inside `suspects`.
 */
export function openReportFile(given: string, suspects: readonly string[]): ReportFile {
  const dir = reportDirectory(given, suspects);
  const name = basename(resolve(given));
  const path = `${dir === "/" ? "" : dir}/${name}`;
  const parent = openParent(given, dir);
  try {
    // Looked at through the directory's descriptor before opening: opening a FIFO or a device can itself act.
    const before = lstatSync(`/proc/self/fd/${parent}/${name}`, { bigint: true, throwIfNoEntry: false });
    const unfit = before && unfitReason(before);
    if (unfit) refuse(given, unfit, "name a new file, or a regular file with one name; the command was not run");
    let fd: number;
    try {
      fd = openat(parent, name, REPORT_FLAGS, 0o666);
    } catch (error) {
      return refuse(given, `cannot write there (${describe(error)})`);
    }
    const stat = fstatSync(fd, { bigint: true });
    const swapped = before !== undefined && (before.dev !== stat.dev || before.ino !== stat.ino);
    const reason = unfitReason(stat) ?? (swapped ? "was replaced while cordon opened it" : undefined);
    if (reason) {
      closeSync(fd);
      refuse(given, reason, "run it again; the command was not run");
    }
    return { given, path, fd, identity: { dev: stat.dev, ino: stat.ino } };
  } finally {
    closeSync(parent);
  }
}

/** Replaces the file's content with `text`, through the descriptor opened before the run. */
export function writeReportFile(file: ReportFile, text: string): void {
  const bytes = Buffer.from(text);
  ftruncateSync(file.fd, 0);
  for (let written = 0; written < bytes.length;) {
    written += writeSync(file.fd, bytes, written, bytes.length - written, written);
  }
}

/**
 * Whether the path still names the file cordon opened. A command that could
 * write the report's directory may have renamed, removed or replaced it:
 * whatever is at the path now is not cordon's report.
 */
export function stillAtPath(file: ReportFile): boolean {
  const now = lstatSync(file.path, { bigint: true, throwIfNoEntry: false });
  return now !== undefined && now.dev === file.identity.dev && now.ino === file.identity.ino;
}

export function closeReportFile(file: ReportFile): void {
  closeSync(file.fd);
}
