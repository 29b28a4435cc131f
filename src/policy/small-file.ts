// Reading the small files cordon looks into (git configs and pointers, the
// credential files it redacts), many of them in a write root the command
// controls: a FIFO planted there must not hang cordon, and a file that grows
// past the limit is not read in part.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** Configs and pointers are small; a larger file is treated as unreadable rather than read in part. */
export const SMALL_FILE_LIMIT = 1 << 20;

/**
 * The bytes of `path` when it is a regular file of at most `limit` bytes,
 * else undefined. O_NONBLOCK and fstat on what was opened: a FIFO or device
 * put there is refused without blocking. `followSymlinks: false` refuses a
 * symlink at the last component (a canonical path that became one).
 */
export function readSmallFile(
  path: string,
  { limit = SMALL_FILE_LIMIT, followSymlinks = true }: { limit?: number; followSymlinks?: boolean } = {},
): Buffer | undefined {
  let fd: number | undefined;
  try {
    const flags = constants.O_RDONLY | constants.O_NONBLOCK | (followSymlinks ? 0 : constants.O_NOFOLLOW);
    fd = openSync(path, flags);
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > limit) return undefined;
    // Read one byte past the limit: a file that grew since fstat is refused, not cut.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let got = -1; got !== 0 && length <= limit; length += got) {
      got = readSync(fd, buffer, length, limit + 1 - length, null);
    }
    return length > limit ? undefined : buffer.subarray(0, length);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
