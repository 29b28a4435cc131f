// JSON.parse keeps the last of two equal keys in an object; runok's parser
// (serde) refuses such a document, and a policy whose second
// `read_deny_paths` silently replaced the first would deny less than it
// reads. This scanner finds the first duplicate key, by JSON's grammar. Pure.

interface Frame {
  keys?: Set<string>;
  /** In an object: the next string is a key (after `{` or `,`). */
  expectingKey: boolean;
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let at = start + 1; at < text.length; at++) {
    if (text[at] === "\\") at++;
    else if (text[at] === '"') return at;
  }
  return text.length - 1;
}

/** The first key that appears twice in one object of `text` (valid JSON), or undefined. */
export function duplicateJsonKey(text: string): string | undefined {
  const frames: Frame[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    const frame = frames[frames.length - 1];
    if (char === "{") frames.push({ keys: new Set(), expectingKey: true });
    else if (char === "[") frames.push({ expectingKey: false });
    else if (char === "}" || char === "]") frames.pop();
    else if (char === "," && frame?.keys) frame.expectingKey = true;
    else if (char === '"') {
      const end = stringEnd(text, at);
      if (frame?.keys && frame.expectingKey) {
        const key = JSON.parse(text.slice(at, end + 1)) as string;
        if (frame.keys.has(key)) return key;
        frame.keys.add(key);
        frame.expectingKey = false;
      }
      at = end;
    }
  }
  return undefined;
}
