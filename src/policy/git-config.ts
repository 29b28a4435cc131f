// git's config syntax, read the way git reads it, for the two places that
// must agree with git: the redactor (plan/redact.ts), which must see every
// key git sees, and the resolver (policy/resolve.ts), which must follow every
// include git follows. Pure.

export interface GitSection {
  /** Lowercased section name: `http`, `credential`, `url`, `include`, `includeif`. */
  name: string;
  /** The subsection as written: a URL, a condition. */
  sub: string;
}

/** One logical line: a header, a key (its value continued over several lines), or anything else. */
export interface GitConfigEntry {
  /** The physical lines as written; a value ending in an unescaped backslash continues on the next. */
  lines: string[];
  /** The section in force at this line (the header's own, on a header line). */
  section: GitSection;
  /** A header line: the header itself, without a key that follows it on the same line. */
  header?: string;
  /** The key, as written. */
  key?: string;
  /** The raw value, its continuations joined (backslash-newline removed); undefined for `key` alone. */
  value?: string;
}

/** `[section "sub"]`, `[section.sub]`, or `[section]`; git allows a key after the header on the same line. */
const HEADER = /^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/;
/** `key = value`, `key` alone (a boolean true), either followed by a comment. */
const KEY = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*)|[;#].*)?$/;

function sectionOf(header: RegExpExecArray): GitSection {
  const [, name = "", quoted] = header;
  const dot = name.indexOf(".");
  if (quoted !== undefined) return { name: name.toLowerCase(), sub: quoted };
  return dot < 0
    ? { name: name.toLowerCase(), sub: "" }
    : { name: name.slice(0, dot).toLowerCase(), sub: name.slice(dot + 1) };
}

/**
 * Whether a value's text continues on the next line, and whether it ends
 * inside quotes. As git: a backslash escapes the next character, so only an
 * odd run of trailing backslashes continues; a `;` or `#` outside quotes
 * starts a comment, which never continues.
 */
function scanValue(text: string, quoted: boolean): { continues: boolean; quoted: boolean } {
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === "\\") {
      if (at === text.length - 1) return { continues: true, quoted };
      at++;
    } else if (char === '"') {
      quoted = !quoted;
    } else if ((char === ";" || char === "#") && !quoted) {
      return { continues: false, quoted };
    }
  }
  return { continues: false, quoted };
}

/** Splits lines as git reads them: LF, CRLF, and a lone CR alike. */
export function parseGitConfig(text: string): GitConfigEntry[] {
  const lines = text.split(/\r\n?|\n/);
  const entries: GitConfigEntry[] = [];
  let section: GitSection = { name: "", sub: "" };
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at]!;
    const header = HEADER.exec(line);
    if (header) section = sectionOf(header);
    const body = header ? header[3]! : line;
    const match = KEY.exec(body);
    const entry: GitConfigEntry = { lines: [line], section };
    if (header) entry.header = line.slice(0, line.length - body.length);
    if (match) {
      entry.key = match[1]!;
      let value = match[2];
      let scan = value === undefined ? { continues: false, quoted: false } : scanValue(value, false);
      while (scan.continues && at + 1 < lines.length) {
        const next = lines[++at]!;
        entry.lines.push(next);
        value = `${value!.slice(0, -1)}${next}`;
        scan = scanValue(next, scan.quoted);
      }
      entry.value = value;
    }
    entries.push(entry);
  }
  return entries;
}

/** A value as git hands it out: surrounding blanks and comments gone, quotes removed, escapes decoded. */
export function unquoteGitValue(raw: string): string {
  let out = "";
  let quoted = false;
  for (let at = 0; at < raw.length; at++) {
    const char = raw[at]!;
    if (char === "\\" && at + 1 < raw.length) {
      const next = raw[++at]!;
      out += next === "n" ? "\n" : next === "t" ? "\t" : next === "b" ? "\b" : next;
    } else if (char === '"') {
      quoted = !quoted;
    } else if ((char === ";" || char === "#") && !quoted) {
      break;
    } else {
      out += char;
    }
  }
  return out.trim();
}

/** Whether a key of this section names a file git reads as more config. */
export function isIncludePath(section: GitSection, key: string): boolean {
  return (section.name === "include" || section.name === "includeif") && key.toLowerCase() === "path";
}

/** The paths a config file includes (`include.path`, `includeIf.<condition>.path`), as written. */
export function gitIncludePaths(text: string): string[] {
  return parseGitConfig(text)
    .filter((entry) => entry.key !== undefined && entry.value !== undefined && isIncludePath(entry.section, entry.key))
    .map((entry) => unquoteGitValue(entry.value!))
    .filter(Boolean);
}
