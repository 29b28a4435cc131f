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

// ignoreBOM: a leading U+FEFF is part of the text (a name, a file), not a mark to drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text `bytes` encode, or undefined when they are not valid UTF-8 (a lossy decoder would put U+FFFD there). */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The length of the valid UTF-8 character at `at` (1 to 4), or 0 when none starts there. */
function characterLength(bytes: Uint8Array, at: number): number {
  for (let length = 1; length <= 4 && at + length <= bytes.length; length++) {
    if (utf8OrUndefined(bytes.subarray(at, at + length)) !== undefined) return length;
  }
  return 0;
}

/** The offset of the first byte that is not part of a valid UTF-8 character, or undefined when there is none. */
export function firstInvalidByte(bytes: Uint8Array): number | undefined {
  for (let at = 0; at < bytes.length;) {
    const length = characterLength(bytes, at);
    if (length === 0) return at;
    at += length;
  }
  return undefined;
}

/**
 * `bytes` for a message: valid UTF-8 as text; a byte that is not part of a
 * character, and a control character, as \xNN; a backslash doubled, so that
 * a name spelled "\xff" cannot pass for the byte. Names come from untrusted
 * trees: raw control characters would reach the user's terminal.
 */
export function escapeBytes(bytes: Uint8Array): string {
  let out = "";
  for (let at = 0; at < bytes.length;) {
    const length = characterLength(bytes, at);
    const byte = bytes[at]!;
    if (length === 0 || byte < 0x20 || byte === 0x7f) {
      out += `\\x${byte.toString(16).padStart(2, "0")}`;
      at += 1;
      continue;
    }
    const text = strictUtf8.decode(bytes.subarray(at, at + length));
    out += text === "\\" ? "\\\\" : text;
    at += length;
  }
  return out;
}

/** `text` with every control character (newline and ESC included) written as \xNN. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  const controls = /[\x00-\x1f\x7f]/g;
  return text.replace(controls, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
