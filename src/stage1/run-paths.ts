// Per-run host state: a private directory (0700) holding landlock-only's
// TMPDIR and the empty stand-ins that hide read-denied paths in bwrap mode.
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { bindSources, type RunPaths } from "../plan/sandbox.ts";

export interface RunState extends RunPaths {
  root: string;
  /**
   * bwrap mode: creates placeholder directories where deny paths do not exist
   * yet, so a read-only empty mount can sit there. remove() takes them away.
   */
  placeholders(paths: readonly string[]): void;
  /** Takes the placeholders away again (before falling back to landlock-only mode, which needs none). */
  removePlaceholders(): void;
  remove(): void;
}

const STATE_PREFIX = "cordon-";

/**
 * A SIGKILLed cordon cannot remove its state directory; the next run removes
 * those whose owner process is gone. The name carries the owner's pid.
 */
export function removeStaleState(base = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = /^cordon-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
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

export function createRunState(policy: ResolvedPolicy): RunState {
  removeStaleState();
  // Canonical: stage 2 opens the TMPDIR grant without following any symlink.
  const root = mkdtempSync(join(realpathSync(tmpdir()), `${STATE_PREFIX}${process.pid}-`));
  const paths = { tmpdir: join(root, "tmp"), emptyDir: join(root, "empty-dir"), emptyFile: join(root, "empty-file") };
  mkdirSync(paths.tmpdir, { mode: 0o700 });
  mkdirSync(paths.emptyDir, { mode: 0o555 });
  writeFileSync(paths.emptyFile, "", { mode: 0o444 });
  chmodSync(paths.emptyDir, 0o555);
  const inodes = new Map<string, { dev: bigint; ino: bigint }>();
  for (const source of bindSources(policy, paths)) {
    const stat = lstatSync(source, { bigint: true });
    inodes.set(source, { dev: stat.dev, ino: stat.ino });
  }
  const created: string[] = [];
  const removePlaceholders = () => {
    for (const dir of created.splice(0).reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Not empty or gone: leave what is not ours to remove.
      }
    }
  };
  return {
    root,
    ...paths,
    inodes,
    placeholders: (missing) => {
      for (const path of missing) {
        // Create each missing component, outermost first, and remember it.
        const chain: string[] = [];
        for (let at = path; !existsSync(at); at = dirname(at)) chain.unshift(at);
        for (const dir of chain) {
          mkdirSync(dir, { mode: 0o755 });
          created.push(dir);
        }
      }
    },
    removePlaceholders,
    remove: () => {
      removePlaceholders();
      try {
        chmodSync(paths.emptyDir, 0o755);
      } catch {
        // Best effort; rmSync below reports nothing either way.
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
