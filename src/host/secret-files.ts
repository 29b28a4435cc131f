// The text of each file the plan presents as a redacted copy, read once with
// the host facts so that the redaction itself (plan/redact.ts) stays pure.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { constants } from "node:fs";
import type { RedactedFile } from "../policy/resolve.ts";

/** Configuration files are small; a larger one is copied as empty rather than read in part. */
const LIMIT = 1 << 20;

function readText(path: string): string | undefined {
  let fd: number | undefined;
  try {
    // The path was resolved canonical; a symlink put there since is not followed.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > LIMIT) return undefined;
    const buffer = Buffer.alloc(LIMIT + 1);
    let length = 0;
    for (let got = -1; got !== 0 && length <= LIMIT; length += got) {
      got = readSync(fd, buffer, length, LIMIT + 1 - length, null);
    }
    return length > LIMIT ? undefined : buffer.subarray(0, length).toString("utf8");
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Each file's text, or undefined when cordon cannot read it whole (the copy is then empty). */
export function readRedactedFiles(files: readonly RedactedFile[]): Map<string, string | undefined> {
  return new Map(files.map((file) => [file.path, readText(file.path)]));
}
