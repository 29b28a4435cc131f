// Path helpers for policy resolution: ~ expansion, and canonical forms of
// paths that may not exist yet. Glob expansion lives in glob.ts.
import { lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { escapeBytes, utf8OrUndefined } from "../bytes.ts";
import { CordonError } from "../errors.ts";

/** A file's identity: what stage 2 compares so that a grant or a mount cannot move to a swapped-in path. */
export interface Identity {
  dev: bigint;
  ino: bigint;
}

/** The identity stage 2 must find: one stage 1 recorded, or that of what the run itself creates there. */
export type ExpectedIdentity = Identity | "created";

export function isWithin(path: string, root: string): boolean {
  return path === root || root === "/" || path.startsWith(`${root}/`);
}

export function expandPath(path: string, cwd: string, home = homedir()): string {
  if (path === "~") return home;
  if (path.startsWith("~/")) return resolve(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}

export function isGlob(path: string): boolean {
  return /[*?[{]/.test(path);
}

export function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * realpath of the deepest existing ancestor (`existing`), plus the components
 * that do not exist yet.
 */
export function canonicalMaybeMissing(path: string): { path: string; exists: boolean; existing: string } {
  try {
    const real = realpathUtf8(path);
    return { path: real, exists: true, existing: real };
  } catch (error) {
    if (error instanceof CordonError) throw error;
    const parent = dirname(path);
    if (parent === path) return { path, exists: false, existing: path };
    const resolvedParent = canonicalMaybeMissing(parent);
    return { path: join(resolvedParent.path, basename(path)), exists: false, existing: resolvedParent.existing };
  }
}

/** The kernel's limit on symlinks followed in one lookup (ELOOP beyond it). */
const MAX_SYMLINKS = 40;

/**
 * One walk of absolute `path` from the root, as the kernel resolves it: each
 * symlink met on the way, in a chain too (as its canonical location), and
 * where the walk ended. Using both from the same walk matters: resolving
 * twice could see a symlink once and a directory the other time.
 */
export function walkPath(path: string): { links: string[]; canonical: string; exists: boolean } {
  const links: string[] = [];
  const pending = path.split(sep).filter(Boolean);
  let current = "/";
  for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === ".") continue;
    if (part === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, part);
    const stat = lstatOrUndefined(next);
    if (!stat) return { links, canonical: join(next, ...pending), exists: false };
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    links.push(next);
    if (links.length > MAX_SYMLINKS) throw new CordonError(`${path}: too many levels of symbolic links`);
    const target = readlinkUtf8(next);
    if (target.startsWith("/")) current = "/";
    pending.unshift(...target.split(sep).filter(Boolean));
  }
  return { links, canonical: current, exists: true };
}

/**
 * What a symlink leads to, as text, or a refusal: Bun would decode bytes that
 * are not UTF-8 with U+FFFD in their place, a path that names a different file
 * (one a placeholder could be created as). A UTF-8 path can lead there
 * through a symlink, so realpath and readlink results are checked too.
 */
function utf8Target(path: string, bytes: Buffer, verb: string): string {
  const text = utf8OrUndefined(bytes);
  if (text !== undefined) return text;
  throw new CordonError(`${path} ${verb} ${escapeBytes(bytes)}, which is not valid UTF-8 (bytes shown as \\xNN)`, {
    hint: "rename it, or name a directory above it whose real path is valid UTF-8",
  });
}

/** realpath, refused when the result is not UTF-8. */
export function realpathUtf8(path: string): string {
  return utf8Target(path, realpathSync(path, { encoding: "buffer" }), "resolves to");
}

/** readlink, refused when the target is not UTF-8. */
export function readlinkUtf8(path: string): string {
  return utf8Target(path, readlinkSync(path, { encoding: "buffer" }), "points to");
}

/** The mode of a placeholder directory (stage1/placeholders.ts): read-only for everyone. */
export const PLACEHOLDER_MODE = 0o555;

/**
 * Whether `path` looks exactly like a cordon placeholder: an empty directory
 * of this user with mode 0555. Any run may have made it (another $TMPDIR,
 * a killed run whose records are gone): cordon treats it as the missing path
 * it stands for, never as the user's directory. Its identity when it does.
 */
export function placeholderAt(path: string, uid = process.getuid?.() ?? -1): Identity | undefined {
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  if (!stat?.isDirectory() || (stat.mode & 0o7777n) !== BigInt(PLACEHOLDER_MODE) || stat.uid !== BigInt(uid)) {
    return undefined;
  }
  try {
    if (readdirSync(path).length > 0) return undefined;
  } catch {
    return undefined;
  }
  return { dev: stat.dev, ino: stat.ino };
}
