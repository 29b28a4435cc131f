// The text of each file the plan presents as a redacted copy, read once with
// the host facts so that the redaction itself (plan/redact.ts) stays pure.
import { readSmallFile } from "../policy/small-file.ts";
import type { RedactedFile } from "../policy/resolve.ts";

/** The path was resolved canonical; a symlink put there since is not followed. */
function readText(path: string): string | undefined {
  return readSmallFile(path, { followSymlinks: false })?.toString("utf8");
}

/** Each file's text, or undefined when cordon cannot read it whole (the copy is then empty). */
export function readRedactedFiles(files: readonly RedactedFile[]): Map<string, string | undefined> {
  return new Map(files.map((file) => [file.path, readText(file.path)]));
}
