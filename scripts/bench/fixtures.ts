// Scratch files for the policy-size workloads: real, existing directories
// (each holding one file) inside the run's temporary directory, so every
// deny path or write root costs cordon the same open()/stat() a user's would.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Fixture {
  /** Directories to pass as --deny-read PATH. */
  denyPaths: string[];
  /** Directories to pass as -w PATH (the stand-in workload). */
  writeRoots: string[];
}

function makeDirectories(parent: string, prefix: string, count: number): string[] {
  mkdirSync(parent, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const path = join(parent, `${prefix}${String(i).padStart(4, "0")}`);
    mkdirSync(path);
    writeFileSync(join(path, "file"), "bench\n");
    paths.push(path);
  }
  return paths;
}

export function createFixture(workDir: string, count: number): Fixture {
  return {
    denyPaths: makeDirectories(join(workDir, "deny"), "secret-", count),
    writeRoots: makeDirectories(join(workDir, "write"), "root-", count),
  };
}
