// Per-run host state: a private directory (0700) holding landlock-only's
// TMPDIR and the empty stand-ins that hide read-denied paths in bwrap mode.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import type { RunPaths } from "../plan/sandbox.ts";

export interface RunState extends RunPaths {
  root: string;
  remove(): void;
}

export function createRunState(policy: ResolvedPolicy): RunState {
  const root = mkdtempSync(join(tmpdir(), "cordon-"));
  const paths = { tmpdir: join(root, "tmp"), emptyDir: join(root, "empty-dir"), emptyFile: join(root, "empty-file") };
  mkdirSync(paths.tmpdir, { mode: 0o700 });
  mkdirSync(paths.emptyDir, { mode: 0o555 });
  writeFileSync(paths.emptyFile, "", { mode: 0o444 });
  chmodSync(paths.emptyDir, 0o555);
  const inodes = new Map<string, { dev: bigint; ino: bigint }>();
  const sources = [paths.emptyDir, paths.emptyFile, policy.cwd, ...policy.writeRoots, ...policy.denyWrite.map((deny) => deny.path)];
  for (const source of sources) {
    const stat = lstatSync(source, { bigint: true });
    inodes.set(source, { dev: stat.dev, ino: stat.ino });
  }
  return {
    root,
    ...paths,
    inodes,
    remove: () => {
      try {
        chmodSync(paths.emptyDir, 0o755);
      } catch {
        // Best effort; rmSync below reports nothing either way.
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
