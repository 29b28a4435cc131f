// Reading a repository's config as far as cordon must: which keys make git
// run a program (an "executing key"), where core.hooksPath and include.path
// point, and a config rebuilt from its harmless entries. Pure: text in,
// data out. The parser follows git's syntax closely enough to find every
// key git would; `looksExecuting` adds a deliberately coarse check on the
// raw text, so that a spelling this parser reads differently from git still
// counts as executing (fail closed).

export interface ConfigEntry {
  /** section, lower case */
  section: string;
  /** subsection as written (case-sensitive), or undefined */
  subsection?: string;
  /** key, lower case */
  key: string;
  /** undefined: a key without `=` (boolean true) */
  value?: string;
}

/** `section.subsection.key`, as `git config --list` names it. */
export function entryName(entry: ConfigEntry): string {
  return entry.subsection === undefined
    ? `${entry.section}.${entry.key}`
    : `${entry.section}.${entry.subsection}.${entry.key}`;
}

interface Cursor {
  text: string;
  at: number;
}

const peek = (cursor: Cursor) => cursor.text[cursor.at];

function skipBlanks(cursor: Cursor): void {
  while (peek(cursor) === " " || peek(cursor) === "\t") cursor.at++;
}

function skipLine(cursor: Cursor): void {
  while (cursor.at < cursor.text.length && peek(cursor) !== "\n") cursor.at++;
}

/** `[section]`, `[section "sub"]` or the old `[section.sub]`; the cursor stands on `[`. */
function parseHeader(cursor: Cursor): { section: string; subsection?: string } | undefined {
  cursor.at++;
  let name = "";
  while (cursor.at < cursor.text.length && /[\w.-]/.test(peek(cursor)!)) name += cursor.text[cursor.at++];
  skipBlanks(cursor);
  if (peek(cursor) === "]") {
    cursor.at++;
    const dot = name.indexOf(".");
    // The old spelling [section.sub] lower-cases the subsection too.
    return dot === -1
      ? { section: name.toLowerCase() }
      : { section: name.slice(0, dot).toLowerCase(), subsection: name.slice(dot + 1).toLowerCase() };
  }
  if (peek(cursor) !== '"') return undefined;
  cursor.at++;
  let subsection = "";
  while (cursor.at < cursor.text.length && peek(cursor) !== '"' && peek(cursor) !== "\n") {
    if (peek(cursor) === "\\") cursor.at++;
    subsection += cursor.text[cursor.at++] ?? "";
  }
  cursor.at++;
  if (peek(cursor) !== "]") return undefined;
  cursor.at++;
  return { section: name.toLowerCase(), subsection };
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", b: "\b", '"': '"', "\\": "\\" };

/** A value up to the end of its (possibly continued) line, quotes and escapes resolved as git does. */
function parseValue(cursor: Cursor): string {
  let value = "";
  let quoted = false;
  let pendingSpace = "";
  for (; cursor.at < cursor.text.length; cursor.at++) {
    const char = cursor.text[cursor.at]!;
    if (char === "\n") break;
    if (!quoted && (char === "#" || char === ";")) {
      skipLine(cursor);
      break;
    }
    if (!quoted && (char === " " || char === "\t")) {
      if (value !== "") pendingSpace += char;
      continue;
    }
    value += pendingSpace;
    pendingSpace = "";
    if (char === '"') quoted = !quoted;
    else if (char === "\\") {
      const next = cursor.text[++cursor.at];
      if (next === "\n") continue;
      if (next === "\r" && cursor.text[cursor.at + 1] === "\n") {
        cursor.at++;
        continue;
      }
      value += ESCAPES[next ?? ""] ?? next ?? "";
    } else value += char;
  }
  return value;
}

/** Every entry of a config file's text, in order. Lines git would reject are skipped. */
export function parseGitConfig(text: string): ConfigEntry[] {
  const cursor: Cursor = { text: text.replace(/^\uFEFF/, ""), at: 0 };
  const entries: ConfigEntry[] = [];
  let section: { section: string; subsection?: string } | undefined;
  while (cursor.at < cursor.text.length) {
    skipBlanks(cursor);
    const char = peek(cursor);
    if (char === "\n" || char === "\r") {
      cursor.at++;
      continue;
    }
    if (char === "#" || char === ";") {
      skipLine(cursor);
      continue;
    }
    if (char === "[") {
      section = parseHeader(cursor);
      if (!section) skipLine(cursor);
      // git allows a key on the header's line: `[core] editor = vi`.
      continue;
    }
    let key = "";
    while (cursor.at < cursor.text.length && /[\w-]/.test(peek(cursor)!)) key += cursor.text[cursor.at++];
    skipBlanks(cursor);
    if (key === "" || !section) {
      skipLine(cursor);
      continue;
    }
    const base = { ...section, key: key.toLowerCase() };
    if (peek(cursor) === "=") {
      cursor.at++;
      skipBlanks(cursor);
      entries.push({ ...base, value: parseValue(cursor) });
    } else {
      entries.push(base);
      skipLine(cursor);
    }
  }
  return entries;
}

/** Why an entry makes git run a program, or undefined. */
export function executingReason(entry: ConfigEntry): string | undefined {
  const { section, subsection, key } = entry;
  const name = entryName(entry);
  if (section === "core" && subsection === undefined) {
    if (["fsmonitor", "hookspath", "sshcommand", "editor", "pager", "askpass", "gitproxy"].includes(key)) return name;
  }
  if (section === "credential" && key === "helper") return name;
  if (section === "filter" && subsection !== undefined && ["clean", "smudge", "process"].includes(key)) return name;
  if (
    section === "diff" &&
    (key === "external" || (subsection !== undefined && (key === "textconv" || key === "command")))
  )
    return name;
  if (section === "merge" && subsection !== undefined && key === "driver") return name;
  if (section === "alias" && entry.value?.trimStart().startsWith("!")) return name;
  if (section === "include" || section === "includeif") return name;
  if (section === "sequence" && key === "editor") return name;
  if (section === "gpg" && key === "program") return name;
  if (section === "gpg" && subsection !== undefined && key === "program") return name;
  if (section === "pager" || (section === "uploadpack" && key === "packobjectshook")) return name;
  if (section === "submodule" && subsection !== undefined && key === "update" && entry.value?.startsWith("!"))
    return name;
  if (section === "remote" && subsection !== undefined && ["uploadpack", "receivepack", "vcs"].includes(key))
    return name;
  return undefined;
}

/**
 * Words whose presence anywhere in a config, spaces, quotes and line
 * continuations removed, marks it as possibly executing even where the
 * parser above reads nothing of the kind: a safety net, not the rule.
 */
const EXECUTING_WORDS = new RegExp(
  [
    ...["fsmonitor", "hookspath", "sshcommand", "editor", "pager", "askpass", "gitproxy", "helper", "textconv"],
    ...["external", "driver", "clean", "smudge", "process", "include", "program", "packobjectshook"],
    ...["uploadpack", "receivepack", "=!"],
  ].join("|"),
);

export function looksExecuting(text: string): boolean {
  const squeezed = text
    .toLowerCase()
    .replace(/\\\r?\n/g, "")
    .replace(/["\t ]/g, "");
  return EXECUTING_WORDS.test(squeezed);
}

/** The executing entries of a config text, named; a text that only looks executing yields "unparsed". */
export function executingKeys(text: string): string[] {
  const keys = [...new Set(parseGitConfig(text).flatMap((entry) => executingReason(entry) ?? []))];
  if (keys.length === 0 && looksExecuting(text)) return ["(a spelling cordon does not parse)"];
  return keys;
}

/** core.hooksPath as the config sets it (the last one wins, as in git). */
export function hooksPathOf(entries: readonly ConfigEntry[]): string | undefined {
  return entries.findLast((entry) => entry.section === "core" && !entry.subsection && entry.key === "hookspath")?.value;
}

/** Files an include.path or includeIf.*.path names (as written: relative to the config's directory). */
export function includePathsOf(entries: readonly ConfigEntry[]): string[] {
  return entries
    .filter((entry) => (entry.section === "include" || entry.section === "includeif") && entry.key === "path")
    .flatMap((entry) => (entry.value ? [entry.value] : []));
}

/**
 * What a neutralised config keeps: an allow-list of entries that git reads
 * as data (the repository's format, its remotes and branches, identity).
 * Everything else goes, executing or not: a short list that is surely
 * harmless beats a long one that is probably complete.
 */
function kept(entry: ConfigEntry): boolean {
  const { section, subsection, key } = entry;
  if (section === "core" && !subsection)
    return ["repositoryformatversion", "filemode", "bare", "logallrefupdates", "ignorecase", "symlinks"].includes(key);
  if (section === "extensions" && !subsection) return true;
  if (section === "remote" && subsection) return ["url", "pushurl", "fetch", "tagopt", "prune"].includes(key);
  if (section === "branch" && subsection) return ["remote", "merge", "rebase"].includes(key);
  if (section === "submodule" && subsection) return ["url", "active", "branch"].includes(key);
  if (section === "user" && !subsection) return ["name", "email"].includes(key);
  return false;
}

const SAFE_NAME = /^[A-Za-z][\w-]*$/;

function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

/** A config text of the harmless entries of `text`, and the names of the entries left out. */
export function neutralisedConfig(text: string): { text: string; dropped: string[] } {
  const entries = parseGitConfig(text);
  const lines: string[] = ["# Rewritten by cordon after a sandboxed run; the original is config.cordon-disabled"];
  const dropped: string[] = [];
  let header = "";
  for (const entry of entries) {
    const safe =
      kept(entry) &&
      SAFE_NAME.test(entry.section) &&
      SAFE_NAME.test(entry.key) &&
      !/["\\\n\0]/.test(entry.subsection ?? "");
    if (!safe) {
      dropped.push(entryName(entry));
      continue;
    }
    const next = entry.subsection === undefined ? `[${entry.section}]` : `[${entry.section} "${entry.subsection}"]`;
    if (next !== header) lines.push((header = next));
    lines.push(entry.value === undefined ? `\t${entry.key}` : `\t${entry.key} = ${quote(entry.value)}`);
  }
  return { text: `${lines.join("\n")}\n`, dropped: [...new Set(dropped)] };
}
