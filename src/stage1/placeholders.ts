// Placeholders: directories a bwrap-mode run creates on the host where a deny
// path does not exist yet, so that stage 2 can put a read-only stand-in
// there. Several runs may rely on one placeholder at once, so each holds a
// shared flock(2) on it for as long as it runs, and records it in its state
// directory before creating it. A placeholder is removed only by whoever
// gets the exclusive lock, which no run can while another still holds it: a
// host rmdir would detach every sandbox's mount on it. What a SIGKILLed run
// leaves behind, the next run removes the same way.
//
// A placeholder often lies inside a write root, where the command can rename
// the directories above it and plant symlinks: removal after the run goes
// through the descriptor of the directory the placeholder was created in,
// held since before the command started, never through its path.
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync } from "node:fs";
import { basename, dirname } from "node:path";
import {
  AT_FDCWD,
  AT_REMOVEDIR,
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  RESOLVE_NO_SYMLINKS,
} from "../../ffi/constants.ts";
import { openat, openat2, syscall, unlinkat } from "../../ffi/libc.ts";
import { encodeOpenHow } from "../../ffi/structs.ts";
import { CordonError } from "../errors.ts";
import { PLACEHOLDER_MODE, placeholderAt, type Identity } from "../policy/paths.ts";

export interface HeldPlaceholder {
  path: string;
  identity: Identity;
  /** Open with a shared lock for the whole run. */
  fd: number;
  /** The directory it was created in, open (O_PATH) for the whole run: removal goes through it. */
  parentFd: number;
}

/** How a placeholder's directory is opened: canonical, so no symlink may be met on the way. */
const PARENT = encodeOpenHow(O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS);

const RETRIES = 50;

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function openDirectory(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return undefined;
    throw error;
  }
}

/** `name` inside the directory open as `dirFd`, as a path that no rename above it can redirect. */
function entryOf(dirFd: number, name: string): string {
  return `/proc/self/fd/${dirFd}/${name}`;
}

function sameIdentity(path: string, identity: Identity): boolean {
  const stat = lstatSync(path, { bigint: true, throwIfNoEntry: false });
  return stat !== undefined && stat.dev === identity.dev && stat.ino === identity.ino;
}

/** The placeholder's directory, open, when it still holds the placeholder with `identity`. */
function openParentHolding(path: string, identity: Identity): number | undefined {
  let parentFd: number;
  try {
    parentFd = openat2(AT_FDCWD, dirname(path), PARENT);
  } catch {
    return undefined;
  }
  if (sameIdentity(entryOf(parentFd, basename(path)), identity)) return parentFd;
  closeSync(parentFd);
  return undefined;
}

/**
 * Creates the placeholder at `path`, or joins the one another run holds
 * there (`recognised` says whether a directory found there is one), and
 * takes a shared lock on it. Retries when the directory is removed under it
 * by a run that finished meanwhile.
 */
/** Whether a directory found at a placeholder's path is another run's: yes, no, or not known yet (being recorded). */
export type Recognition = "yes" | "no" | "pending";

export function acquirePlaceholder(path: string, recognise: (identity: Identity) => Recognition): HeldPlaceholder {
  for (let attempt = 0; attempt < RETRIES; attempt++) {
    let created = false;
    try {
      mkdirSync(path, { mode: PLACEHOLDER_MODE });
      // The umask may have taken bits away: a placeholder is recognised by its exact mode.
      chmodSync(path, PLACEHOLDER_MODE);
      created = true;
    } catch (error) {
      if (errorCode(error) !== "EEXIST") throw error;
    }
    const fd = openDirectory(path);
    if (fd === undefined) continue;
    // Blocks only while another run holds the exclusive lock to remove it.
    syscall("flock", fd, LOCK_SH);
    const stat = fstatSync(fd, { bigint: true });
    const identity = { dev: stat.dev, ino: stat.ino };
    const parentFd = stat.nlink > 0n ? openParentHolding(path, identity) : undefined;
    if (parentFd !== undefined) {
      const recognition = created ? "yes" : recognise(identity);
      if (recognition === "yes") return { path, identity, fd, parentFd };
      closeSync(parentFd);
      closeSync(fd);
      if (recognition === "no") {
        throw new CordonError(`${path} appeared while cordon planned the run`, { hint: "run it again" });
      }
      // Another run created it and is about to record its identity.
      Bun.sleepSync(2);
      continue;
    }
    // Removed (or replaced) between our look and our lock: start again.
    closeSync(fd);
  }
  throw new CordonError(`cannot hold a placeholder at ${path}: it keeps being removed`, { hint: "run it again" });
}

/**
 * Lets go of a placeholder, and removes it if no other run holds it and it
 * still looks exactly like a placeholder, with the identity recorded. A
 * held one (`held`) is found through the directory it was created in; a
 * killed run's (no `held`) through its path, before any command of this run
 * starts. Whatever the command left there instead (a symlink, a file, a
 * directory of its own) stays as it is.
 */
export function releasePlaceholder(
  path: string,
  identity: Identity,
  held?: Pick<HeldPlaceholder, "fd" | "parentFd">,
): void {
  if (held) closeSync(held.fd);
  const parentFd = held?.parentFd ?? openParentHolding(path, identity);
  if (parentFd === undefined) return;
  const name = basename(path);
  let probe: number | undefined;
  try {
    probe = openat(parentFd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    syscall("flock", probe, LOCK_EX | LOCK_NB);
    const locked = fstatSync(probe, { bigint: true });
    const now = placeholderAt(entryOf(parentFd, name));
    const same = (found: Identity | undefined) => found?.dev === identity.dev && found.ino === identity.ino;
    if (same(now) && same(locked)) unlinkat(parentFd, name, AT_REMOVEDIR);
  } catch {
    // Gone or replaced (ENOENT, ELOOP, ENOTDIR), held by another run (EWOULDBLOCK), or no longer empty:
    // not ours to remove now.
  } finally {
    if (probe !== undefined) closeSync(probe);
    closeSync(parentFd);
  }
}

/**
 * A shared lock on an existing deny directory, held for the run, or
 * undefined when it cannot be opened (stage 2's identity check then refuses).
 */
export function lockDirectory(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openDirectory(path);
    if (fd !== undefined) syscall("flock", fd, LOCK_SH);
    return fd;
  } catch {
    if (fd !== undefined) closeSync(fd);
    return undefined;
  }
}
