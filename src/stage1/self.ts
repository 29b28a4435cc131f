// How stage 1 re-invokes this same program as stage 2.
import { readFileSync } from "node:fs";
import { splitNul } from "../bytes.ts";
import { isCompiled } from "../host/cordon-files.ts";
import { STAGE2_ARGUMENT, type Slots } from "../launch/wire.ts";

export { isCompiled };

/**
 * The argv that starts stage 2 through the descriptor of this very binary
 * (bun plus the script in development), reading its plan from the launch
 * slot and, in bwrap mode, marking its start in the status slot and taking
 * the caller's stderr back from the stderr slot. Through a
 * descriptor, the file that runs is the one that planned: found even in a
 * hidden /tmp or after being replaced on disk.
 */
export function stage2Command(slots: Slots, markStart: boolean): string[] {
  const prefix = isCompiled ? [`/proc/self/fd/${slots.exe}`] : [process.execPath, Bun.main];
  const bwrapSlots = markStart ? [String(slots.status), String(slots.stderr)] : [];
  return [...prefix, STAGE2_ARGUMENT, String(slots.launch), ...bwrapSlots];
}

/**
 * Our own arguments as the exact bytes the kernel received: process.argv is
 * decoded text, and a command may take arguments that are not UTF-8.
 */
export function rawArguments(decodedCount: number): Uint8Array[] {
  const parts = splitNul(readFileSync("/proc/self/cmdline"));
  return parts.slice(parts.length - decodedCount);
}

/** The name this binary was invoked under (argv[0]'s last component), e.g. a runok-linux-sandbox symlink. */
export function invokedName(): string {
  const cmdline = readFileSync("/proc/self/cmdline");
  const end = cmdline.indexOf(0);
  const argv0 = cmdline.subarray(0, end < 0 ? cmdline.length : end).toString();
  return argv0.slice(argv0.lastIndexOf("/") + 1);
}
