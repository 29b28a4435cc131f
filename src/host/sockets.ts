// The pathname unix sockets bound on this host, in every network namespace
// this user can see. connect(2) ignores read-only mounts, so bwrap mode must
// cover each socket file outside the write roots; a socket missed here is a
// host daemon (systemd, D-Bus, a container runtime) the command can talk to.
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { escapeBytes, utf8OrUndefined } from "../bytes.ts";

/** A socket whose canonical path is not UTF-8: stage 2 covers it by its bytes. */
export interface ForeignSocket {
  /** The path, with bytes that are not UTF-8 shown as \xNN. */
  shown: string;
  /** The path's bytes, in hex. */
  hex: string;
}

export interface HostSockets {
  /** Socket files, by canonical path (no symlink, no "..": what a mount or a rule must name). */
  paths: string[];
  foreign: ForeignSocket[];
}

// "%pK: %08X %08X %08X %04X %02X %5lu", then " PATH" when the socket is bound (net/unix/af_unix.c).
const RECORD_START = /^[0-9a-f]+: [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{4} [0-9A-F]{2} +\d+/;

// A path is at most 107 bytes, and a forged record start is at least 45: a
// path can swallow at most two following records.
const MAX_SWALLOWED_RECORDS = 2;

/**
 * The candidate paths of each bound pathname socket in one /proc/net/unix
 * text, read byte for byte (latin1). The kernel prints a path raw: spaces,
 * newlines and even a forged record start can be part of it. So a line that
 * does not start a record continues the path before it, and a record may also
 * be the tail of the path before it: each record yields its own path and the
 * longer readings that swallow the next records. The caller keeps the first
 * reading that names a socket file. Abstract names (@) and paths relative to
 * the binder's directory cannot be located and are skipped.
 */
export function socketPathCandidates(table: string): string[][] {
  const records: { line: string; path: string | undefined }[] = [];
  for (const line of table.split("\n").slice(1)) {
    const start = RECORD_START.exec(line);
    if (start) {
      const rest = line.slice(start[0].length);
      records.push({ line, path: rest.startsWith(" ") ? rest.slice(1) : undefined });
    } else if (records.length > 0) {
      const last = records[records.length - 1]!;
      last.line += `\n${line}`;
      if (last.path !== undefined) last.path += `\n${line}`;
    }
  }
  // The table ends with a newline, which the split turns into one empty continuation of the last record.
  const last = records[records.length - 1];
  if (last && table.endsWith("\n")) {
    last.line = last.line.slice(0, -1);
    if (last.path !== undefined) last.path = last.path.slice(0, -1);
  }
  return records.flatMap((record, index) => {
    if (record.path === undefined || !record.path.startsWith("/")) return [];
    const readings = [record.path];
    let longer = record.path;
    for (const next of records.slice(index + 1, index + 1 + MAX_SWALLOWED_RECORDS)) {
      longer += `\n${next.line}`;
      readings.push(longer);
    }
    return [readings.reverse()];
  });
}

/**
 * A socket file the sandbox could connect to: connect(2) needs write
 * permission on it, checked against the uid alone once the sandbox has no
 * capabilities. One this user cannot write is no way out, whoever bound it.
 */
function isSocketFile(path: Buffer): boolean {
  try {
    const stat = lstatSync(path);
    return stat.isSocket() && writableByUid(stat.mode, stat.uid, stat.gid);
  } catch {
    // Gone, or in a directory this user cannot search: so is it for the sandbox (same uid, no capabilities).
    return false;
  }
}

function writableByUid(mode: number, owner: number, group: number): boolean {
  const uid = process.getuid?.() ?? -1;
  if (uid === owner) return (mode & 0o200) !== 0;
  if (process.getgroups?.().includes(group) || process.getgid?.() === group) return (mode & 0o020) !== 0;
  return (mode & 0o002) !== 0;
}

/**
 * The kernel lists a path as it was given to bind(2): through symlinks (a
 * daemon binding under /var/run -> /run), with "..", or since renamed. The
 * socket file itself is what counts: its directory resolved, its name kept.
 */
function canonical(path: Buffer): Buffer | undefined {
  const text = path.toString("latin1");
  const slash = text.lastIndexOf("/");
  try {
    const dir = realpathSync(Buffer.from(text.slice(0, Math.max(slash, 1)), "latin1"), { encoding: "buffer" });
    const name = Buffer.from(text.slice(slash + 1), "latin1");
    if (name.length === 0 || name.equals(Buffer.from(".")) || name.equals(Buffer.from(".."))) return undefined;
    return Buffer.concat([dir.length === 1 ? Buffer.alloc(0) : dir, Buffer.from("/"), name]);
  } catch {
    return undefined;
  }
}

/** The sockets one or more /proc/net/unix texts (latin1) name, keeping only readings that are socket files. */
export function socketsInTables(
  tables: readonly string[],
  isSocket = isSocketFile,
  resolve: (path: Buffer) => Buffer | undefined = canonical,
): HostSockets {
  const paths = new Set<string>();
  const foreign = new Map<string, ForeignSocket>();
  for (const table of tables) {
    for (const readings of socketPathCandidates(table)) {
      const listed = readings.map((reading) => Buffer.from(reading, "latin1")).find(isSocket);
      const found = listed && resolve(listed);
      if (!found) continue;
      const text = utf8OrUndefined(found);
      if (text !== undefined) paths.add(text);
      else foreign.set(found.toString("hex"), { shown: escapeBytes(found), hex: found.toString("hex") });
    }
  }
  return { paths: [...paths].sort(), foreign: [...foreign.values()] };
}

/**
 * /proc/net/unix lists one network namespace: the reader's. A socket file
 * bound in another (a container runtime, a PrivateNetwork= service,
 * `unshare -n`) is still connectable from this one, so the tables of every
 * namespace that a visible process is in are read. /proc/PID/net/unix is
 * readable for any process; its inode number tells the namespaces apart.
 */
function unixTables(): string[] {
  const seen = new Set<number>();
  const tables: string[] = [];
  const read = (path: string) => {
    try {
      const { ino } = statSync(path);
      if (seen.has(ino)) return;
      seen.add(ino);
      tables.push(readFileSync(path).toString("latin1"));
    } catch {
      // The process exited, or /proc hides it (hidepid).
    }
  };
  read("/proc/self/net/unix");
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc");
  } catch {
    return tables;
  }
  for (const entry of entries) if (/^\d+$/.test(entry)) read(`/proc/${entry}/net/unix`);
  return tables;
}

export function hostUnixSockets(): HostSockets {
  return socketsInTables(unixTables());
}
