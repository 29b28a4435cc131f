// Glob expansion for deny lists, with a hard cap on the number of matches.
import { join } from "node:path";
import { CordonError } from "../errors.ts";
import { isGlob, lstatOrUndefined } from "./paths.ts";

export const GLOB_MATCH_LIMIT = 10_000;

/** The static directory prefix of an absolute glob and the pattern below it. */
export function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split("/");
  const firstGlob = parts.findIndex(isGlob);
  return { base: parts.slice(0, firstGlob).join("/") || "/", rest: parts.slice(firstGlob).join("/") };
}

export class GlobBudget {
  private used = 0;
  take(pattern: string): void {
    if (++this.used > GLOB_MATCH_LIMIT) {
      throw new CordonError(
        `the deny globs match more than ${GLOB_MATCH_LIMIT} paths (at ${pattern}); ` +
          `refusing rather than protecting only some`,
        {
          hint: "narrow the pattern, or deny the directory that contains the matches",
        },
      );
    }
  }
}

/** Expands one glob below `base`, without following symlinks. */
export function expandGlob(base: string, pattern: string, budget: GlobBudget): string[] {
  if (!lstatOrUndefined(base)?.isDirectory()) return [];
  const matches: string[] = [];
  const glob = new Bun.Glob(pattern);
  for (const match of glob.scanSync({
    cwd: base,
    dot: true,
    onlyFiles: false,
    followSymlinks: false,
    throwErrorOnBrokenSymlink: false,
  })) {
    budget.take(pattern);
    matches.push(join(base, match));
  }
  return matches.sort();
}
