// Runs inside bwrap for test/stage2/deny-mounts.test.ts: applies the deny
// mounts of a spec, drops privileges as stage 2 does, then tries each
// operation and prints one JSON line: the setup error, or each attempt's
// outcome ("ok", an errno code, or what was read).
import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import type { WireAnchor, WireDenyMount } from "../../src/launch/wire.ts";
import { applyDenyMounts, type DenyMountOptions } from "../../src/stage2/deny-mounts.ts";
import { dropAllCapabilities, setNoNewPrivileges } from "../../src/stage2/privileges.ts";

export type Attempt =
  | { op: "write" | "append" | "read" | "readdir" | "mkdir" | "rmdir" | "unlink" | "stat-ino"; path: string }
  | { op: "rename"; path: string; to: string }
  | { op: "cwd" };

export interface ProbeSpec {
  anchors: WireAnchor[];
  mounts: WireDenyMount[];
  options?: DenyMountOptions;
  /** Entered before the mounts are applied, as bwrap's --chdir does. */
  cwd?: string;
  attempts: Attempt[];
}

export interface ProbeOutput {
  setupError?: string;
  results: string[];
  applyMs: number;
  /** Descriptors open after applyDenyMounts that were not open before. */
  leakedFds: number;
}

function tryOp(attempt: Attempt): string {
  try {
    switch (attempt.op) {
      case "write":
        writeFileSync(attempt.path, "written");
        return "ok";
      case "append":
        appendFileSync(attempt.path, "appended");
        return "ok";
      case "read":
        return `read:${readFileSync(attempt.path, "utf8")}`;
      case "readdir":
        return `entries:${readdirSync(attempt.path).sort().join(",")}`;
      case "mkdir":
        mkdirSync(attempt.path);
        return "ok";
      case "rmdir":
        rmdirSync(attempt.path);
        return "ok";
      case "unlink":
        unlinkSync(attempt.path);
        return "ok";
      case "stat-ino":
        return `ino:${statSync(attempt.path, { bigint: true }).ino}`;
      case "rename":
        renameSync(attempt.path, attempt.to);
        return "ok";
      case "cwd":
        return `cwd:${process.cwd()}`;
    }
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

const openFds = () => readdirSync("/proc/self/fd").length;

function main(): ProbeOutput {
  const spec = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ProbeSpec;
  if (spec.cwd !== undefined) process.chdir(spec.cwd);
  const fdsBefore = openFds();
  const start = performance.now();
  try {
    applyDenyMounts(spec.anchors, spec.mounts, [], spec.options);
  } catch (error) {
    return { setupError: (error as Error).message, results: [], applyMs: 0, leakedFds: 0 };
  }
  const applyMs = performance.now() - start;
  const leakedFds = openFds() - fdsBefore;
  setNoNewPrivileges();
  dropAllCapabilities();
  return { results: spec.attempts.map(tryOp), applyMs, leakedFds };
}

console.log(JSON.stringify(main()));
