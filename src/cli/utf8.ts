// cordon takes policy paths and values as UTF-8 text only. Bun decodes argv,
// the environment and the working directory lossily: a byte that is not
// UTF-8 becomes U+FFFD, and a deny path decoded so names a different file,
// one cordon could even create as a placeholder while the real one stays
// open. So what feeds the policy is checked against the bytes the kernel
// holds, and refused when it is not UTF-8. The command's own arguments are
// not checked: they reach it as bytes (see rawArguments).
import { readFileSync, readlinkSync } from "node:fs";
import { escapeBytes, splitNul, utf8OrUndefined } from "../bytes.ts";
import { CordonError } from "../errors.ts";
import type { ParsedCommandLine } from "./args.ts";

const HINT =
  "for a path: rename it, or name a directory above it whose path is valid UTF-8. Nothing was run or created";

/** Refuses any argument before the command (an option or its value) that is not UTF-8, naming the option. */
export function checkOptionsAreUtf8(raw: readonly Uint8Array[], parsed: ParsedCommandLine): void {
  for (let index = 0; index < parsed.commandStart; index++) {
    const bytes = raw[index];
    if (bytes === undefined || utf8OrUndefined(bytes) !== undefined) continue;
    const source = parsed.values.get(index);
    if (source === undefined) throw new CordonError(`the argument ${escapeBytes(bytes)} is not valid UTF-8`);
    const value = escapeBytes(bytes.subarray(source.offset));
    throw new CordonError(
      `${source.option} ${value}: not valid UTF-8 (bytes shown as \\xNN); cordon reads its options as UTF-8 ` +
        `text, and a decoded path would name a different file`,
      { hint: HINT },
    );
  }
}

/**
 * The variables the policy takes paths from: ~ and the secure defaults
 * (policy/secrets.ts). Decoded, they would name directories that do not
 * exist, and the secrets below the real ones would stay readable.
 */
const PATH_VARIABLES = ["HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK"];

/** The environment as the process received it: NAME to the bytes of its value. */
function rawEnvironment(): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  for (const item of splitNul(readFileSync("/proc/self/environ"))) {
    const at = item.indexOf(0x3d);
    if (at > 0) entries.set(Buffer.from(item.subarray(0, at)).toString("latin1"), item.subarray(at + 1));
  }
  return entries;
}

/**
 * Refuses a working directory, or a variable the policy reads paths from,
 * that is not UTF-8: relative policy paths resolve against the one, ~ and
 * the secure defaults against the others.
 */
export function checkHostPathsAreUtf8(cwdOption: string | undefined): void {
  const cwd = readlinkSync("/proc/self/cwd", { encoding: "buffer" });
  // An absolute -C replaces it; a relative one resolves against it.
  if (!cwdOption?.startsWith("/") && utf8OrUndefined(cwd) === undefined) {
    throw new CordonError(`the working directory ${escapeBytes(cwd)} is not valid UTF-8`, {
      hint: "run cordon from a directory whose path is valid UTF-8",
    });
  }
  const environment = rawEnvironment();
  for (const name of PATH_VARIABLES) {
    const value = environment.get(name);
    if (value === undefined || utf8OrUndefined(value) !== undefined) continue;
    throw new CordonError(
      `$${name} (${escapeBytes(value)}) is not valid UTF-8: cordon takes paths from it (~, the secure defaults)`,
      { hint: `set ${name} to a path that is valid UTF-8, or unset it` },
    );
  }
}
