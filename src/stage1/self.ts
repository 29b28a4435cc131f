// How stage 1 re-invokes this same program as stage 2.
import { readFileSync } from "node:fs";
import { STAGE2_ARGUMENT } from "../stage2/main.ts";

/** True inside the `bun build --compile` binary, false under `bun src/main.ts`. */
export const isCompiled = import.meta.path.startsWith("/$bunfs/");

/**
 * The argv that starts stage 2 from `executable` (the binary, or bun plus the
 * script in development), reading its plan from `launchFd` and, in bwrap
 * mode, marking its start in `statusFd`.
 */
export function stage2Command(executable: string, launchFd: number, statusFd?: number): string[] {
  const prefix = isCompiled ? [executable] : [process.execPath, Bun.main];
  return [...prefix, STAGE2_ARGUMENT, String(launchFd), ...(statusFd === undefined ? [] : [String(statusFd)])];
}

/**
 * Our own arguments as the exact bytes the kernel received: process.argv is
 * decoded text, and a command may take arguments that are not UTF-8.
 */
export function rawArguments(decodedCount: number): Uint8Array[] {
  const cmdline = readFileSync("/proc/self/cmdline");
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < cmdline.length; i++) {
    if (cmdline[i] === 0) {
      parts.push(cmdline.subarray(start, i));
      start = i + 1;
    }
  }
  return parts.slice(parts.length - decodedCount);
}

/** The name this binary was invoked under (argv[0]'s last component), e.g. a runok-linux-sandbox symlink. */
export function invokedName(): string {
  const cmdline = readFileSync("/proc/self/cmdline");
  const end = cmdline.indexOf(0);
  const argv0 = cmdline.subarray(0, end < 0 ? cmdline.length : end).toString();
  return argv0.slice(argv0.lastIndexOf("/") + 1);
}
