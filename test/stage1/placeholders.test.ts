// Placeholders on the host (src/stage1/placeholders.ts) and the run's state
// directory that records them (src/stage1/run-state.ts, src/host/runs.ts):
// created 0555, shared by the runs that recognise them, held with flock(2),
// removed only by whoever can take the exclusive lock, and cleaned up after a
// run that was killed. Needs no compiled binary; a second process is flock(1).
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { LOCK_EX, LOCK_NB, LOCK_SH } from "../../ffi/constants.ts";
import { syscall } from "../../ffi/libc.ts";
import { CordonError } from "../../src/errors.ts";
import { encodePlaceholderRecords, PLACEHOLDER_RECORDS, stateBase } from "../../src/host/runs.ts";
import { hostStateFor } from "../../src/plan/state.ts";
import type { Identity } from "../../src/policy/paths.ts";
import { acquirePlaceholder, releasePlaceholder, type Recognition } from "../../src/stage1/placeholders.ts";
import { createHostState, newStateDir } from "../../src/stage1/run-state.ts";
import { missingSystemTool, scratchDir, systemTool } from "../helpers/cordon.ts";

const FLOCK = systemTool("flock") ?? "flock";
const noFlock = missingSystemTool("flock") !== undefined;

let base: string;
let count = 0;
/** A fresh path in the scratch directory, not created. */
const freshPath = () => join(base, `p${count++}`);

function identityOf(path: string): Identity {
  const stat = lstatSync(path, { bigint: true });
  return { dev: stat.dev, ino: stat.ino };
}

/** Whether an exclusive lock on `path` can be taken now (by a new open file description). */
function exclusivelyLockable(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    syscall("flock", fd, LOCK_EX | LOCK_NB);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * flock(1) holding a lock on `path` in another process (itself only: -o) while
 * `command` runs; resolves once the lock is held. Ending its stdin ends `cat`.
 */
async function lockInAnotherProcess(path: string, mode: "-s" | "-x", command = "cat >/dev/null") {
  const child = Bun.spawn([FLOCK, "-o", mode, path, "sh", "-c", `echo locked; ${command}`], {
    stdin: "pipe",
    stdout: "pipe",
  });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  expect(new TextDecoder().decode(value)).toBe("locked\n");
  reader.releaseLock();
  return child;
}

const never = (): Recognition => "no";

beforeAll(() => {
  base = scratchDir("cordon-placeholders-");
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("acquirePlaceholder and releasePlaceholder", () => {
  test("creates a 0555 directory, held open under a shared lock; the last release removes it", () => {
    const path = freshPath();
    const held = acquirePlaceholder(path, never);
    expect(held.path).toBe(path);
    const stat = lstatSync(path);
    expect(stat.isDirectory()).toBe(true);
    expect(stat.mode & 0o777).toBe(0o555);
    expect(held.identity).toEqual(identityOf(path));
    // Our shared lock keeps any exclusive one out.
    expect(exclusivelyLockable(path)).toBe(false);
    releasePlaceholder(path, held.identity, held);
    expect(existsSync(path)).toBe(false);
  });

  test("a second run that recognises it joins it; it stays until the last holder lets go", () => {
    const path = freshPath();
    const first = acquirePlaceholder(path, never);
    const seen: Identity[] = [];
    const second = acquirePlaceholder(path, (identity) => {
      seen.push(identity);
      return "yes";
    });
    expect(seen).toEqual([first.identity]);
    expect(second.identity).toEqual(first.identity);
    // flock(2) locks belong to an open file description: two opens in one process are two holders.
    expect(second.fd).not.toBe(first.fd);
    releasePlaceholder(path, first.identity, first);
    expect(existsSync(path)).toBe(true);
    releasePlaceholder(path, second.identity, second);
    expect(existsSync(path)).toBe(false);
  });

  test("a release while another descriptor holds the shared lock leaves it in place", () => {
    const path = freshPath();
    const held = acquirePlaceholder(path, never);
    const other = openSync(path, "r");
    syscall("flock", other, LOCK_SH);
    try {
      releasePlaceholder(path, held.identity, held);
      expect(existsSync(path)).toBe(true);
    } finally {
      closeSync(other);
    }
    // Nobody holds it now: a release without a descriptor (a later run's clean-up) removes it.
    releasePlaceholder(path, held.identity);
    expect(existsSync(path)).toBe(false);
  });

  test.skipIf(noFlock)("a release while another process holds it leaves it; after that process, it goes", async () => {
    const path = freshPath();
    const held = acquirePlaceholder(path, never);
    const child = await lockInAnotherProcess(path, "-s");
    try {
      releasePlaceholder(path, held.identity, held);
      expect(existsSync(path)).toBe(true);
    } finally {
      await child.stdin.end();
      expect(await child.exited).toBe(0);
    }
    releasePlaceholder(path, held.identity);
    expect(existsSync(path)).toBe(false);
  });

  test("a release removes nothing that is not the recorded, empty directory", () => {
    const path = freshPath();
    const held = acquirePlaceholder(path, never);
    releasePlaceholder(path, held.identity, held);
    mkdirSync(path);
    // The user's own directory now stands there. (It may well get the inode number just freed:
    // a record names dev and ino only, so the test makes sure they differ.)
    const recorded = { ...held.identity, ino: identityOf(path).ino + 1n };
    releasePlaceholder(path, recorded);
    expect(existsSync(path)).toBe(true);
    // A placeholder the command wrote into is not removed either.
    const again = acquirePlaceholder(join(path, "inner"), never);
    writeFileSync(join(path, "inner", "file"), "x");
    releasePlaceholder(again.path, again.identity, again);
    expect(existsSync(join(path, "inner", "file"))).toBe(true);
  });

  test("paths the command changed during the run: removal goes through the directory it was made in", () => {
    // A command that can write above a placeholder renames its directory and plants a symlink in its place.
    const dir = freshPath();
    mkdirSync(dir);
    const victim = freshPath();
    mkdirSync(join(victim, "ph"), { recursive: true, mode: 0o555 });
    const held = acquirePlaceholder(join(dir, "ph"), never);
    renameSync(dir, `${dir}-moved`);
    symlinkSync(victim, dir);
    releasePlaceholder(held.path, held.identity, held);
    // Neither followed nor refused with an error: the real placeholder is gone, the symlink's target stays.
    expect(existsSync(join(`${dir}-moved`, "ph"))).toBe(false);
    expect(existsSync(join(victim, "ph"))).toBe(true);
    expect(lstatSync(dir).isSymbolicLink()).toBe(true);

    // The placeholder itself swapped for a symlink (its directory moved away and recreated): no error, nothing removed.
    const other = freshPath();
    mkdirSync(other);
    const second = acquirePlaceholder(join(other, "ph"), never);
    renameSync(join(other, "ph"), join(other, "ph-moved"));
    symlinkSync(join(victim, "ph"), join(other, "ph"));
    expect(() => releasePlaceholder(second.path, second.identity, second)).not.toThrow();
    expect(existsSync(join(victim, "ph"))).toBe(true);
    expect(existsSync(join(other, "ph-moved"))).toBe(true);
  });

  test("a directory it does not recognise: 'appeared while cordon planned', left as it was, not held", () => {
    const path = freshPath();
    mkdirSync(path, { mode: 0o755 });
    const seen: Identity[] = [];
    const attempt = () => acquirePlaceholder(path, (identity) => (seen.push(identity), "no"));
    expect(attempt).toThrow(CordonError);
    expect(attempt).toThrow(`${path} appeared while cordon planned the run`);
    expect(seen[0]).toEqual(identityOf(path));
    expect(lstatSync(path).mode & 0o777).toBe(0o755);
    expect(exclusivelyLockable(path)).toBe(true);
  });

  test.skipIf(noFlock)("one removed under it while it waited for the lock is created again", async () => {
    const path = freshPath();
    const old = acquirePlaceholder(path, never);
    closeSync(old.fd);
    // Another run holds the exclusive lock to remove it, and removes it a moment later.
    const child = await lockInAnotherProcess(path, "-x", `sleep 0.3; rmdir ${path}`);
    const started = performance.now();
    const asked: Identity[] = [];
    // The inode number may come back for the new directory: whether it was joined or created
    // shows in `recognised`, which is asked only about a directory found, not one made.
    const held = acquirePlaceholder(path, (identity) => (asked.push(identity), "yes"));
    try {
      expect(performance.now() - started).toBeGreaterThan(200);
      expect(await child.exited).toBe(0);
      expect(asked).toEqual([]);
      expect(held.identity).toEqual(identityOf(path));
      expect(lstatSync(path).mode & 0o777).toBe(0o555);
      expect(exclusivelyLockable(path)).toBe(false);
    } finally {
      releasePlaceholder(path, held.identity, held);
    }
    expect(existsSync(path)).toBe(false);
  });
});

describe("createHostState: the run's records and a killed run's leftovers", () => {
  let stateRoot: string;
  const savedTmpdir = process.env.TMPDIR;
  beforeAll(() => {
    // State directories live in $TMPDIR: a private one keeps other runs on this host out.
    stateRoot = scratchDir("cordon-state-base-");
    process.env.TMPDIR = stateRoot;
  });
  afterAll(() => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    rmSync(stateRoot, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const name of ["live", "ph"]) rmSync(join(base, name), { recursive: true, force: true });
  });

  /** A pid that no process has now: one that has just exited. */
  const deadPid = () => Bun.spawnSync(["true"]).pid;

  function readRecords(dir: string): { path: string; dev?: string; ino?: string }[] {
    return readFileSync(join(dir, PLACEHOLDER_RECORDS), "utf8")
      .split("\n")
      .map((line) => JSON.parse(line));
  }

  test("records each placeholder with its identity in the state directory; remove() takes it all away", () => {
    expect(stateBase()).toBe(stateRoot);
    const placeholders = [freshPath(), freshPath()];
    const state = hostStateFor(placeholders, [], newStateDir());
    const created = createHostState(state);
    try {
      expect(readRecords(state.dir)).toEqual(
        placeholders.map((path) => {
          const { dev, ino } = identityOf(path);
          return { path, dev: dev.toString(), ino: ino.toString() };
        }),
      );
      expect(lstatSync(join(state.dir, PLACEHOLDER_RECORDS)).mode & 0o777).toBe(0o600);
      for (const path of placeholders) expect(created.identities.get(path)).toEqual(identityOf(path));
      expect(created.identities.get(state.tmpdir)).toEqual(identityOf(state.tmpdir));
    } finally {
      created.remove();
    }
    for (const path of [...placeholders, state.dir]) expect(existsSync(path)).toBe(false);
  });

  test("a dead run's state directory goes, with its placeholders that nobody holds", () => {
    const placeholder = join(base, "ph");
    mkdirSync(placeholder, { mode: 0o555 });
    const stale = join(stateRoot, `cordon-${deadPid()}-abcdef`);
    mkdirSync(stale, { mode: 0o700 });
    writeFileSync(
      join(stale, PLACEHOLDER_RECORDS),
      encodePlaceholderRecords([{ path: placeholder, identity: identityOf(placeholder) }]),
    );
    const created = createHostState(hostStateFor([], [], newStateDir()));
    created.remove();
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(placeholder)).toBe(false);
  });

  test("a dead run's placeholder that a live run still holds stays; a live run's state stays", async () => {
    const placeholder = join(base, "ph");
    mkdirSync(placeholder, { mode: 0o555 });
    const record = encodePlaceholderRecords([{ path: placeholder, identity: identityOf(placeholder) }]);
    const stale = join(stateRoot, `cordon-${deadPid()}-abcdef`);
    mkdirSync(stale, { mode: 0o700 });
    writeFileSync(join(stale, PLACEHOLDER_RECORDS), record);
    const holder = openSync(placeholder, "r");
    syscall("flock", holder, LOCK_SH);
    const liveRun = Bun.spawn(["sleep", "30"]);
    const live = join(stateRoot, `cordon-${liveRun.pid}-ghijkl`);
    mkdirSync(live, { mode: 0o700 });
    writeFileSync(join(live, PLACEHOLDER_RECORDS), record);
    try {
      createHostState(hostStateFor([], [], newStateDir())).remove();
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(placeholder)).toBe(true);
      expect(existsSync(live)).toBe(true);
    } finally {
      closeSync(holder);
      liveRun.kill();
      await liveRun.exited;
      rmSync(live, { recursive: true, force: true });
    }
  });
});
