// Byte-level helpers shared by both stages: reading a whole descriptor, and
// NUL-separated lists (argv, environ, /proc/self/cmdline). Paths, arguments
// and environment entries stay bytes: they need not be UTF-8.
import { fstatSync, readSync } from "node:fs";

/** Every byte of a regular file or memfd behind `fd`, read from offset 0. */
export function readAll(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const bytes = Buffer.alloc(size);
  let offset = 0;
  while (offset < size) {
    const n = readSync(fd, bytes, offset, size - offset, offset);
    if (n === 0) break;
    offset += n;
  }
  return bytes.subarray(0, offset);
}

/** Each NUL-terminated item; a trailing item without its NUL is dropped, as the kernel's lists never have one. */
export function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** The items, each followed by a NUL. */
export function joinNul(items: readonly Uint8Array[]): Uint8Array {
  const total = items.reduce((sum, item) => sum + item.length + 1, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const item of items) {
    out.set(item, offset);
    offset += item.length + 1;
  }
  return out;
}

/** A numeric or hex field of a /proc/<pid>/status text ("Seccomp:", "CapEff:", ...). */
export function statusField(status: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1];
}
