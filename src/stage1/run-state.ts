// Creates and removes exactly what the plan says a run creates on the host
// (plan/state.ts): the private state directory and the placeholders.
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { identitiesOf } from "../host/filesystem.ts";
import type { HostState } from "../plan/state.ts";
import type { Identity } from "../policy/paths.ts";
import { CordonError } from "../errors.ts";

const STATE_NAME = /^cordon-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * A new state directory's path: canonical, since stage 2 opens the TMPDIR
 * grant without following any symlink, and named after this process, so
 * that a later run can tell when its owner is gone.
 */
export function newStateDir(): string {
  // The Web Crypto global: importing node:crypto would cost about 11 ms on every run.
  const suffix = Buffer.from(crypto.getRandomValues(new Uint8Array(6)))
    .toString("base64url")
    .replace(/[-_]/g, "x")
    .slice(0, 6);
  return join(realpathSync(tmpdir()), `cordon-${process.pid}-${suffix}`);
}

/**
 * A SIGKILLed cordon cannot remove its state directory; the next run removes
 * those whose owner process is gone.
 */
function removeStaleState(base = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = STATE_NAME.exec(name);
    if (!match || existsSync(`/proc/${match[1]}`)) continue;
    const path = join(base, name);
    try {
      if (lstatSync(path).uid !== uid) continue;
      chmodSync(join(path, "empty-dir"), 0o755);
    } catch {
      // Not ours, or already partly gone.
    }
    rmSync(path, { recursive: true, force: true });
  }
}

interface CreatedState {
  /** The identity of each path created, for the launch message. */
  identities: ReadonlyMap<string, Identity>;
  /** Takes the placeholders away again (before falling back to a mode that needs none). */
  removePlaceholders(): void;
  remove(): void;
}

/** Creates `state` on the host; remove() takes all of it away again. */
export function createHostState(state: HostState): CreatedState {
  removeStaleState();
  mkdirSync(state.dir, { mode: 0o700 });
  mkdirSync(state.tmpdir, { mode: 0o700 });
  mkdirSync(state.emptyDir, { mode: 0o555 });
  writeFileSync(state.emptyFile, "", { mode: 0o444 });
  chmodSync(state.emptyDir, 0o555);
  const placeholders: string[] = [];
  const removePlaceholders = () => {
    for (const dir of placeholders.splice(0).reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty or gone: leave what is not ours to remove.
      }
    }
  };
  const remove = () => {
    removePlaceholders();
    try {
      chmodSync(state.emptyDir, 0o755);
    } catch {
      // Best effort; rmSync below reports nothing either way.
    }
    rmSync(state.dir, { recursive: true, force: true });
  };
  for (const dir of state.placeholders) {
    try {
      mkdirSync(dir, { mode: 0o755 });
      placeholders.push(dir);
    } catch (error) {
      // Created since planning (by another run): it is not ours to remove.
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      remove();
      throw new CordonError(
        `cannot create a placeholder at ${dir} for a missing deny path: ${(error as Error).message}`,
        {
          hint: "create the path yourself, or drop the deny entry; the command was not run",
        },
      );
    }
  }
  return { identities: identitiesOf(state.created), removePlaceholders, remove };
}
