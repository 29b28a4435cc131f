// The descriptors this process had when its JavaScript began: main.ts imports
// this module first, so it is evaluated before any other module of the bundle
// can open, close or replace a descriptor. Only the runtime's own start-up
// came before it (host/descriptors.ts says what that leaves behind).
import { readOpenDescriptors, type OpenDescriptor } from "./descriptors.ts";

/** argv[1] of stage 2 (STAGE2_ARGUMENT in launch/wire.ts, a layer this one cannot import). */
export const STAGE2_ARGV = "__cordon-stage2";

/**
 * Read once, at start-up. Stage 2 never asks, and skips the reading: it runs
 * before every command. An empty list makes every descriptor "not passed".
 */
export const STARTUP_DESCRIPTORS: readonly OpenDescriptor[] =
  process.argv[2] === STAGE2_ARGV ? [] : Object.freeze(readOpenDescriptors());
