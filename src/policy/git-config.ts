// git's config syntax, read the way git reads it, for every place that must
// agree with git: the redactor (plan/redact.ts), which must see every key git
// sees; the resolver (policy/resolve.ts, policy/git.ts), which must follow
// every include and find core.hooksPath; and the host-side guard
// (stage1/git-guard.ts), which must tell whether a new repository makes git
// run a program. One parser, two views of it: physical lines (so that a
// redacted copy keeps everything else as written) and entries (names
// normalised as `git config --list` prints them). Pure: text in, data out.

export interface GitSection {
  /** Lowercased section name: `http`, `credential`, `url`, `include`, `includeif`. */
  name: string;
  /** The subsection: as written when quoted (a URL, a condition), lowercased in the old `[section.sub]` form. */
  sub: string;
}

/** One logical line: a header, a key (its value continued over several lines), or anything else. */
export interface GitConfigLine {
  /** The physical lines as written; a value ending in an unescaped backslash continues on the next. */
  lines: string[];
  /** The section in force at this line (the header's own, on a header line); undefined before any header. */
  section?: GitSection;
  /** A header line: the header itself, without a key that follows it on the same line. */
  header?: string;
  /** The key, as written. */
  key?: string;
  /** The raw value, its continuations joined (backslash-newline removed); undefined for `key` alone. */
  value?: string;
  /** Neither blank, a comment, a header nor a key: git would read something here that cordon does not. */
  unparsed?: true;
}

/** `[section "sub"]`, `[section.sub]`, or `[section]`; git allows a key after the header on the same line. */
const HEADER = /^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/s;
/** `key = value`, `key` alone (a boolean true), either followed by a comment. */
const KEY = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*)|[;#].*)?$/s;
/** A line git skips: blank (a lone CR is blank to git) or a comment. */
const BLANK = /^\s*(?:[;#].*)?$/s;

function sectionOf(header: RegExpExecArray): GitSection {
  const [, name = "", quoted] = header;
  if (quoted !== undefined) return { name: name.toLowerCase(), sub: quoted.replace(/\\(.)/g, "$1") };
  const dot = name.indexOf(".");
  // git lowercases the old spelling's subsection along with the section.
  return dot < 0
    ? { name: name.toLowerCase(), sub: "" }
    : { name: name.slice(0, dot).toLowerCase(), sub: name.slice(dot + 1).toLowerCase() };
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

/**
 * The logical lines of a config text. Lines end where git ends them, at LF
 * or CRLF; a lone CR is blank space to git, and to the patterns above.
 */
export function parseGitConfig(text: string): GitConfigLine[] {
  // A BOM as decoded text, or as bytes read as latin1 (the host-side guard reads configs so).
  const lines = text.replace(/^(?:\uFEFF|\xEF\xBB\xBF)/, "").split(/\r?\n/);
  const entries: GitConfigLine[] = [];
  let section: GitSection | undefined;
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at]!;
    // git reads a stream of characters: `[a][b "c"] key = v` is two headers, then a key.
    let body = line;
    let header: RegExpExecArray | null;
    while ((header = HEADER.exec(body))) {
      section = sectionOf(header);
      body = header[3]!;
    }
    const match = KEY.exec(body);
    const entry: GitConfigLine = { lines: [line], ...(section ? { section } : {}) };
    if (body !== line) entry.header = line.slice(0, line.length - body.length);
    if (!match && !BLANK.test(body)) entry.unparsed = true;
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

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", b: "\b" };

/**
 * A value as git hands it out: leading and trailing blanks outside quotes
 * gone, each blank between words one space, quotes removed, escapes decoded,
 * a comment cut.
 */
export function unquoteGitValue(raw: string): string {
  let out = "";
  let quoted = false;
  let pendingSpaces = 0;
  for (let at = 0; at < raw.length; at++) {
    const char = raw[at]!;
    if (!quoted && /\s/.test(char)) {
      if (out !== "") pendingSpaces++;
      continue;
    }
    if (!quoted && (char === ";" || char === "#")) break;
    out += " ".repeat(pendingSpaces);
    pendingSpaces = 0;
    if (char === '"') quoted = !quoted;
    else if (char === "\\" && at + 1 < raw.length) {
      const next = raw[++at]!;
      out += ESCAPES[next] ?? next;
    } else out += char;
  }
  return out;
}

/** Whether a key of this section names a file git reads as more config. */
export function isIncludePath(section: GitSection | undefined, key: string): boolean {
  return (section?.name === "include" || section?.name === "includeif") && key.toLowerCase() === "path";
}

/** One config entry as `git config --list` sees it. */
export interface ConfigEntry {
  /** Section, lower case. */
  section: string;
  /** Subsection (see GitSection.sub), or undefined. */
  subsection?: string;
  /** Key, lower case. */
  key: string;
  /** The decoded value; undefined for a key without `=` (a boolean true). */
  value?: string;
}

/** Every entry of a config text, in order; a key before any section header is skipped, as git rejects it. */
export function configEntries(text: string): ConfigEntry[] {
  return parseGitConfig(text).flatMap(({ section, key, value }) => {
    if (!section || key === undefined) return [];
    const entry: ConfigEntry = { section: section.name, key: key.toLowerCase() };
    if (section.sub !== "") entry.subsection = section.sub;
    if (value !== undefined) entry.value = unquoteGitValue(value);
    return [entry];
  });
}

/** `section.subsection.key`, as `git config --list` names it. */
export function entryName(entry: ConfigEntry): string {
  return entry.subsection === undefined
    ? `${entry.section}.${entry.key}`
    : `${entry.section}.${entry.subsection}.${entry.key}`;
}

/** The paths a config file includes (`include.path`, `includeIf.<condition>.path`), as written. */
export function gitIncludePaths(text: string): string[] {
  return includePathsOf(configEntries(text));
}

/** Files an include.path or includeIf.*.path names (as written: relative to the config's directory). */
export function includePathsOf(entries: readonly ConfigEntry[]): string[] {
  return entries
    .filter((entry) => (entry.section === "include" || entry.section === "includeif") && entry.key === "path")
    .flatMap((entry) => (entry.value ? [entry.value] : []));
}

/** Every core.hooksPath a config sets (git uses the last one it reads). */
export function hooksPathsOf(entries: readonly ConfigEntry[]): string[] {
  return entries.flatMap((entry) =>
    entry.section === "core" && !entry.subsection && entry.key === "hookspath" && entry.value ? [entry.value] : [],
  );
}

/**
 * What a repository config may hold and still be left alone after a run:
 * an allow-list of entries git reads as data (the repository's format, its
 * remotes and branches, identity). Everything else counts as possibly
 * executing, whether or not cordon knows how: git has more keys that run a
 * program (gpg.ssh.defaultKeyCommand, protocol.ext.allow with an ext::
 * remote, interactive.diffFilter, mergetool.*.cmd, ...) than any list keeps
 * up with, and a short list that is surely harmless beats a long one that
 * is probably complete.
 */
function harmless(entry: ConfigEntry): boolean {
  const { section, subsection, key, value } = entry;
  if (section === "core" && !subsection)
    return ["repositoryformatversion", "filemode", "bare", "logallrefupdates", "ignorecase", "symlinks"].includes(key);
  // worktreeConfig makes git read config.worktree, which the guard does not clean.
  if (section === "extensions" && !subsection) return key !== "worktreeconfig";
  if (section === "remote" && subsection) {
    if (["fetch", "tagopt", "prune"].includes(key)) return true;
    // ext:: runs a program, and fd:: reads from one; only a URL git fetches over a transport is data.
    return (key === "url" || key === "pushurl") && !/^\s*(ext|fd)::/i.test(value ?? "");
  }
  if (section === "branch" && subsection) return ["remote", "merge", "rebase"].includes(key);
  if (section === "submodule" && subsection) return ["url", "active", "branch"].includes(key);
  if (section === "user" && !subsection) return ["name", "email"].includes(key);
  return false;
}

/**
 * Words whose presence anywhere in a config, blanks, quotes and line
 * continuations removed, mark it as possibly executing even where the
 * parser reads no entry outside the allow-list: a safety net for a
 * spelling read differently from git, not the rule.
 */
const EXECUTING_WORDS = new RegExp(
  [
    ...["fsmonitor", "hookspath", "sshcommand", "editor", "pager", "askpass", "gitproxy", "helper", "textconv"],
    ...["external", "driver", "clean", "smudge", "process", "include", "program", "packobjectshook", "command"],
    ...["uploadpack", "receivepack", "=!", "cmd", "filter", "allow", "ext::", "fd::", "path", "viewer", "tool"],
    ...["tunnel", "smtpserver", "browser"],
  ].join("|"),
);

export function looksExecuting(text: string): boolean {
  const squeezed = text
    .toLowerCase()
    .replace(/\\\r?\n/g, "")
    .replace(/["\s]/g, "");
  return EXECUTING_WORDS.test(squeezed);
}

/**
 * The entries of a config text that could make git run a program: every
 * entry outside the allow-list, named. A text that only looks executing
 * yields one placeholder name, so that it still counts.
 */
export function executingKeys(text: string): string[] {
  const lines = parseGitConfig(text);
  // A key before any header is an error to git, and a line cordon cannot read may be one git can.
  if (lines.some((line) => line.unparsed || (line.key !== undefined && !line.section))) {
    return ["(a line cordon does not parse)"];
  }
  const keys = [...new Set(configEntries(text).flatMap((entry) => (harmless(entry) ? [] : [entryName(entry)])))];
  if (keys.length === 0 && looksExecuting(text)) return ["(a spelling cordon does not parse)"];
  return keys;
}

const SAFE_NAME = /^[A-Za-z][\w-]*$/;

function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

/** A config text of the harmless entries of `text`, and the names of the entries left out. */
export function neutralisedConfig(text: string): { text: string; dropped: string[] } {
  const lines: string[] = ["# Rewritten by cordon after a sandboxed run; the original is config.cordon-disabled"];
  const dropped: string[] = [];
  let header = "";
  for (const entry of configEntries(text)) {
    const safe =
      harmless(entry) &&
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
