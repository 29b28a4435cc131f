// Glob expansion for deny lists: a walk of the tree below a base directory.
// It reads each directory once, with every name as its bytes (the latin1
// encoding keeps one character per byte) and its type (no stat per entry).
// - It never follows a symlink: a symlinked directory is a leaf, so a link
//   planted by an earlier run cannot pull matches in from elsewhere.
// - A directory the user may not list is skipped and reported: the command
//   runs as the same user. One the user owns is refused instead, since the
//   command could chmod it and read what the walk did not see.
// - A name that is not UTF-8, where the pattern could match it or find a
//   match below it, is refused: a pattern is text, and a decoded name (U+FFFD
//   in place of the bytes) would protect a different path.
// - It stops at GLOB_MATCH_LIMIT matches.
import { accessSync, constants, lstatSync, readdirSync, type Dirent } from "node:fs";
import { dirname, normalize } from "node:path/posix";
import { escapeBytes, utf8OrUndefined } from "../bytes.ts";
import { CordonError } from "../errors.ts";
import { isGlob, lstatOrUndefined } from "./paths.ts";

export const GLOB_MATCH_LIMIT = 10_000;

/** The static directory prefix of an absolute glob and the pattern below it. */
export function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split("/");
  const firstGlob = parts.findIndex(isGlob);
  return { base: parts.slice(0, firstGlob).join("/") || "/", rest: parts.slice(firstGlob).join("/") };
}

/**
 * What the globs of one resolution share: a cap on their matches, and the
 * directories they could not list (for -v and explain).
 */
export class GlobBudget {
  private used = 0;
  private readonly skipped = new Set<string>();

  skip(dir: string): void {
    this.skipped.add(dir);
  }

  skippedDirs(): string[] {
    return [...this.skipped].sort();
  }

  take(pattern: string): void {
    if (++this.used > GLOB_MATCH_LIMIT) {
      throw new CordonError(
        `the deny globs match more than ${GLOB_MATCH_LIMIT} paths (at ${pattern}); ` +
          `refusing rather than protecting only some`,
        {
          hint: "narrow the pattern, or deny the directory that contains the matches",
        },
      );
    }
  }
}

export interface GlobExpansion {
  /** Every path that matches, sorted. */
  matches: string[];
  /** Directories the walk could not list (EACCES, EPERM): nothing below them was matched. */
  skipped: string[];
}

/**
 * What the pattern asks of the name at one depth: anything from here down
 * ("**"), one exact name, or a name that matches a one-component glob.
 */
type Step = "globstar" | { literal: string } | { glob: Bun.Glob; source: string };

/**
 * The pattern cut at its slashes, for pruning; undefined when cutting would
 * change its meaning (a negation, a slash inside {..} or [..], an empty, "."
 * or ".." component), so that the walk visits everything instead.
 */
function stepsOf(pattern: string): Step[] | undefined {
  if (pattern.startsWith("!") || slashInsideGroup(pattern)) return undefined;
  const segments = pattern.split("/");
  if (segments.some((segment) => segment === "" || segment === "." || segment === "..")) return undefined;
  return segments.map((segment): Step => {
    // "a**b" is not a globstar to Bun, but taking it for one only visits more.
    if (segment.includes("**")) return "globstar";
    return isGlob(segment) || segment.includes("\\")
      ? { glob: new Bun.Glob(segment), source: segment }
      : { literal: segment };
  });
}

/** Whether a slash lies inside {..} or [..]: cutting there would split one alternative or class. */
function slashInsideGroup(pattern: string): boolean {
  let braces = 0;
  for (let at = 0; at < pattern.length; at++) {
    const char = pattern[at];
    if (char === "\\") at++;
    else if (char === "{") braces++;
    else if (char === "}" && braces > 0) braces--;
    else if (char === "/" && braces > 0) return true;
    else if (char === "[") {
      // A class ends at the first "]" after its first member ("[]]" and "[!]]" hold "]").
      const first = pattern[at + 1] === "!" || pattern[at + 1] === "^" ? at + 2 : at + 1;
      const end = pattern.indexOf("]", first + 1);
      if (end >= 0 && pattern.slice(at + 1, end).includes("/")) return true;
    }
  }
  return false;
}

/** A directory to list: its path, its path below the base, and how much of the pattern is behind it. */
interface Visit {
  dir: string;
  rel: string;
  depth: number;
  /** A globstar lies behind: every name matters and every directory is walked. */
  free: boolean;
}

/** Whether the walk enters a directory named `name` met in `at`, and how; undefined to leave it. */
function enter(steps: Step[] | undefined, at: Visit, name: string): { free: boolean } | undefined {
  if (steps === undefined || at.free) return { free: true };
  const step = steps[at.depth];
  if (step === undefined) return undefined;
  if (step === "globstar") return { free: true };
  const fits = "literal" in step ? step.literal === name : step.glob.match(name);
  return fits && at.depth + 1 < steps.length ? { free: false } : undefined;
}

/** Whether an entry (its name in latin1) of `dir` is a directory; a symlink to one is not. */
function isDirectory(entry: Dirent, dir: string): boolean {
  if (entry.isDirectory()) return true;
  const typed =
    entry.isFile() ||
    entry.isSymbolicLink() ||
    entry.isFIFO() ||
    entry.isSocket() ||
    entry.isCharacterDevice() ||
    entry.isBlockDevice();
  if (typed) return false;
  // A file system that does not report types (DT_UNKNOWN): ask, without following links.
  try {
    return lstatSync(bytesOf(dir, entry.name)).isDirectory();
  } catch {
    return false;
  }
}

/** Entries of `dir` with their names as bytes in latin1 (one character per byte), or "unlistable". */
function listDirectory(dir: string): Dirent[] | "unlistable" | "gone" {
  try {
    // Search as well as read: names listed in a directory the user cannot
    // search could not even be stat'ed, and would look missing.
    accessSync(dir, constants.R_OK | constants.X_OK);
    return readdirSync(dir, { encoding: "latin1", withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") return "unlistable";
    // Removed or replaced while the walk ran: nothing there to protect now.
    if (code === "ENOENT" || code === "ENOTDIR") return "gone";
    throw new CordonError(`cannot list ${dir} for a deny glob: ${code ?? (error as Error).message}`);
  }
}

const ASCII = /^[\x00-\x7f]*$/;
const lossyUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** A latin1-encoded name as text: itself when ASCII (most names), else its bytes decoded; undefined if not UTF-8. */
function nameText(latin1: string): string | undefined {
  return ASCII.test(latin1) ? latin1 : utf8OrUndefined(Buffer.from(latin1, "latin1"));
}

function childPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/**
 * A test every name the last step matches passes, cheaper than the glob: the
 * literal itself, or the literal text before the first and after the last
 * special character ("*.pem" ends in ".pem"). Most names fail it, so a walk
 * of a large tree mostly skips building a path and running the matcher.
 */
function endTest(last: Step | undefined): (name: string) => boolean {
  if (last === undefined || last === "globstar") return () => true;
  if ("literal" in last) return (name) => name === last.literal;
  const source = last.source;
  const prefix = source.slice(0, source.search(/[*?[{\\]/));
  const suffix = source.slice(source.search(/[^*?\]}\\]*$/));
  return (name) => name.length >= prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix);
}

/** The exact bytes of the path of a name (in latin1) in `dir`. */
function bytesOf(dir: string, latin1: string): Buffer {
  return Buffer.concat([Buffer.from(childPath(dir, "")), Buffer.from(latin1, "latin1")]);
}

/** One expansion: the pattern as written, compiled whole and cut into steps. */
interface Walk {
  base: string;
  pattern: string;
  whole: Bun.Glob;
  steps: Step[] | undefined;
  /** A cheap test the last name of every match passes, before the glob's own. */
  mayEnd: (name: string) => boolean;
}

/** Refuses a name that is not UTF-8 where the walk would match it or enter it. */
function checkUndecodable(walk: Walk, at: Visit, entry: Dirent): void {
  const path = bytesOf(at.dir, entry.name);
  // Judged by the decoded name: U+FFFD stands for the bytes, and "*" matches it.
  const lossy = lossyUtf8.decode(Buffer.from(entry.name, "latin1"));
  const entered = isDirectory(entry, at.dir) && enter(walk.steps, at, lossy) !== undefined;
  if (!entered && !walk.whole.match(at.rel + lossy)) return;
  throw new CordonError(
    `${escapeBytes(path)}: its name is not valid UTF-8, and the deny glob ${walk.pattern} (below ` +
      `${walk.base}) could match it or something inside it; cordon matches globs as text and will not guess`,
    { hint: "rename it, or deny its parent directory by name" },
  );
}

/** A directory the walk may not list: skipped, unless the user owns it and so could open it up. */
function checkUnlistable(walk: Walk, dir: string): void {
  if (lstatOrUndefined(dir)?.uid !== process.geteuid?.()) return;
  throw new CordonError(
    `the deny glob ${walk.pattern} cannot look inside ${dir}, which you own but may not read or search: ` +
      `the command could chmod it and reach what the glob did not see`,
    { hint: `make it readable (chmod u+rx ${dir}), or deny it by name` },
  );
}

/**
 * The pattern without "." and empty components or a trailing slash, and with
 * leading ".." components moved into the base ("../*.pem" below a write root).
 */
function normalized(base: string, pattern: string): { base: string; pattern: string } {
  let rest = normalize(pattern).replace(/\/+$/, "");
  let from = base;
  for (; rest === ".." || rest.startsWith("../"); rest = rest.slice(3)) from = dirname(from);
  return { base: from, pattern: rest === "." ? "" : rest };
}

/** Expands one glob below `base`, without following symlinks. */
export function expandGlob(given: string, written: string, budget: GlobBudget): GlobExpansion {
  const matches: string[] = [];
  const skipped: string[] = [];
  const { base, pattern } = normalized(given, written);
  if (pattern === "" || !lstatOrUndefined(base)?.isDirectory()) return { matches, skipped };
  const steps = stepsOf(pattern);
  const walk: Walk = { base, pattern, whole: new Bun.Glob(pattern), steps, mayEnd: endTest(steps?.at(-1)) };
  const stack: Visit[] = [{ dir: base, rel: "", depth: 0, free: false }];
  for (let at = stack.pop(); at !== undefined; at = stack.pop()) {
    const entries = listDirectory(at.dir);
    if (entries === "gone") continue;
    if (entries === "unlistable") {
      checkUnlistable(walk, at.dir);
      skipped.push(at.dir);
      budget.skip(at.dir);
      continue;
    }
    for (const entry of entries) {
      const text = nameText(entry.name);
      if (text === undefined) {
        checkUndecodable(walk, at, entry);
        continue;
      }
      // Not path.join: it normalizes, and costs more than the listing here; names have no slash.
      if (walk.mayEnd(text) && walk.whole.match(at.rel + text)) {
        budget.take(pattern);
        matches.push(childPath(at.dir, text));
      }
      const next = isDirectory(entry, at.dir) ? enter(walk.steps, at, text) : undefined;
      if (next) stack.push({ dir: childPath(at.dir, text), rel: `${at.rel}${text}/`, depth: at.depth + 1, ...next });
    }
  }
  return { matches: matches.sort(), skipped: skipped.sort() };
}
