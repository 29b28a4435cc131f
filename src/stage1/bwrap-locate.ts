// Finding bubblewrap without trusting PATH or anything the sandbox could
// have written: a bwrap inside a write root or the working directory could
// have been planted by an earlier sandboxed run.
import { accessSync, constants, realpathSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { CordonError } from "../errors.ts";
import { isWithin } from "../policy/paths.ts";

export const TRUSTED_BWRAP_PATHS = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"] as const;

export type BwrapLocation = { found: true; path: string } | { found: false; reason: string };

function usable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Refuses a bwrap that the sandboxed command could have written. */
function checkNotWritableBySandbox(path: string, writable: readonly string[]): void {
  const real = realpathSync(path);
  const inside = writable.find((root) => isWithin(real, root));
  if (inside) {
    throw new CordonError(`refusing bwrap at ${real}: it lies inside ${inside}, which the sandbox can write`, {
      hint: "install bubblewrap system-wide (apt-get install bubblewrap) or pass --bwrap with a path outside the write roots",
    });
  }
}

export function locateBwrap(explicit: string | undefined, writable: readonly string[]): BwrapLocation {
  if (explicit !== undefined) {
    if (!isAbsolute(explicit)) throw new CordonError(`--bwrap ${explicit}: must be an absolute path`);
    if (!usable(explicit)) throw new CordonError(`--bwrap ${explicit}: not an executable file`);
    checkNotWritableBySandbox(explicit, writable);
    return { found: true, path: explicit };
  }
  for (const candidate of TRUSTED_BWRAP_PATHS) {
    if (usable(candidate)) {
      checkNotWritableBySandbox(candidate, writable);
      return { found: true, path: candidate };
    }
  }
  return { found: false, reason: `bubblewrap is not installed (looked in ${TRUSTED_BWRAP_PATHS.join(", ")})` };
}
