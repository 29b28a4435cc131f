// Redacted copies: the text of a configuration file with its secrets taken
// out and everything else kept, so that the command keeps the user's
// registries, aliases and identity but not the credentials. Pure: each
// function maps text to text, plus the names (never the values) of what it
// removed.
import { containsCredentialUrl, isCredentialValue } from "../policy/environment.ts";
import { isIncludePath, parseGitConfig, unquoteGitValue, type GitSection } from "../policy/git-config.ts";
import type { RedactFormat } from "../policy/secrets.ts";

export interface Redaction {
  text: string;
  /** What was taken out, by key or section: `//registry.npmjs.org/:_authToken`, `credential.helper`. */
  removed: string[];
  /**
   * Those of `removed` that only name where credentials are kept (a credential
   * helper, Docker's credsStore): no secret is in the file itself.
   */
  pointers: string[];
}

/**
 * An .npmrc key whose value is a secret: `_auth`, `_authToken`,
 * `//host/:_password`, `token`, and `key` / `//host/:key`, a TLS client's
 * private key given inline.
 */
const NPM_SECRET_KEY = /(?:^|[._:-])_?(?:auth|authtoken|password|passwd|token|secret|apikey)$|(?:^|:)key$/i;
/** Not a secret, though it ends like one. */
const NPM_NOT_SECRET = new Set(["always-auth"]);
/** A git key whose value is a secret: `sendemail.smtpPass`, `*.token`, `*.password`. */
const GIT_SECRET_KEY = /(?:pass|password|passwd|token|secret)$/i;
/** Ends like one, but names a program that asks for a password: not a secret. */
const GIT_NOT_SECRET = new Set(["askpass"]);

/**
 * A key as npm's ini parser reads it: `"//registry/:_authToken"` and
 * `'…'` lose their quotes (a double-quoted one is JSON), so the redactor
 * must test the key npm sees.
 */
function unquoteIniKey(key: string): string {
  if (key.length < 2 || key[0] !== key.at(-1) || (key[0] !== '"' && key[0] !== "'")) return key;
  if (key[0] === "'") return key.slice(1, -1);
  try {
    const parsed: unknown = JSON.parse(key);
    return typeof parsed === "string" ? parsed : key.slice(1, -1);
  } catch {
    return key.slice(1, -1);
  }
}

/**
 * .npmrc: ini lines `key = value`. Drops every auth line (`_auth`,
 * `_authToken`, `_password`, scoped `//host/:_authToken`), and any
 * credential value (a URL with a password, a token header, a PEM private
 * key); registries, scopes and other settings stay.
 */
export function redactNpmrc(text: string): Redaction {
  const removed: string[] = [];
  // npm's ini parser splits on CR and LF alike: so must the redactor, or a CRLF file keeps every line.
  const lines = text.split(/\r\n?|\n/).filter((line) => {
    const match = /^\s*([^=;#\s][^=]*?)\s*=(.*)$/.exec(line);
    if (!match) return true;
    const [, written, value] = match as unknown as [string, string, string];
    const key = unquoteIniKey(written);
    const secret = (NPM_SECRET_KEY.test(key) && !NPM_NOT_SECRET.has(key.toLowerCase())) || isCredentialValue(value);
    if (!secret) return true;
    removed.push(key);
    return false;
  });
  return { text: lines.join("\n"), removed, pointers: [] };
}

/** The file actions/checkout writes the token into (newer versions), which .git/config includes. */
const CHECKOUT_CREDENTIALS_FILE = /(^|\/)git-credentials-[^/]*\.config$/;

/**
 * A credential helper that names a program (`store`, `cache`, `manager`,
 * `/usr/bin/helper --flag`) only points to where credentials are kept. An
 * inline shell helper (`!f() { echo password=…; }; f`) can hold the secret
 * itself: it is no pointer.
 */
function isHelperPointer(value: string): boolean {
  const helper = unquoteGitValue(value);
  return helper !== "" && !helper.startsWith("!");
}

/** Why a git config key is secret, as the name to report it by; undefined when it is not. */
function secretGitKey(section: GitSection, key: string, value: string): string | undefined {
  const name = key.toLowerCase();
  const full = `${section.name}${section.sub ? `.${section.sub}` : ""}.${name}`;
  // An Authorization header: actions/checkout's `http.https://github.com/.extraheader`.
  if (name === "extraheader") return full;
  // A helper hands out stored passwords, from a file, a daemon or a keyring.
  if (section.name === "credential" && name === "helper") return full;
  if (isIncludePath(section, key)) {
    return CHECKOUT_CREDENTIALS_FILE.test(unquoteGitValue(value)) ? `${full} (a checkout token)` : undefined;
  }
  if ((GIT_SECRET_KEY.test(name) && !GIT_NOT_SECRET.has(name)) || isCredentialValue(value)) return full;
  return undefined;
}

/**
 * What an include of the copy becomes: the path to write instead (a copy of
 * the included file, an absolute path where the copy moves elsewhere), or
 * undefined to drop the include (a file cordon did not cover).
 */
export type IncludeRewrite = (path: string) => string | undefined;

/** A git value that reads back as `text`: quoted, with `"` and `\` escaped. */
function quoteGitValue(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/**
 * A git config file (.gitconfig, .git/config): drops extra headers,
 * credential helpers, `url.<with a password>` sections, keys that hold
 * passwords or tokens, credential values, and includes of a checkout-token
 * file. Lines are read as git reads them (policy/git-config.ts), so a
 * continued value goes whole and a comment never swallows the next line.
 * With `includes`, every other include's path is rewritten (or dropped).
 */
export function redactGitConfig(text: string, includes?: IncludeRewrite): Redaction {
  const removed: string[] = [];
  const pointers: string[] = [];
  const out: string[] = [];
  let dropSection = false;
  for (const entry of parseGitConfig(text)) {
    // A key before any header is an error to git; it is kept as written, as a key of no section.
    const section = entry.section ?? { name: "", sub: "" };
    if (entry.header !== undefined) {
      dropSection = section.name === "url" && containsCredentialUrl(section.sub);
      if (dropSection) {
        removed.push("url.<a URL with a password>");
        continue;
      }
      out.push(entry.header);
      if (entry.key === undefined) continue;
    }
    if (dropSection) continue;
    if (entry.key === undefined) {
      out.push(...entry.lines);
      continue;
    }
    // A key after its header on the same line stands alone on the next: git reads both the same.
    const lines =
      entry.header === undefined ? entry.lines : [entry.lines[0]!.slice(entry.header.length), ...entry.lines.slice(1)];
    const value = entry.value ?? "";
    const secret = secretGitKey(section, entry.key, value);
    if (secret) {
      removed.push(secret);
      if (section.name === "credential" && entry.key.toLowerCase() === "helper" && isHelperPointer(value)) {
        pointers.push(secret);
      }
      continue;
    }
    if (includes && isIncludePath(section, entry.key)) {
      const target = includes(unquoteGitValue(value));
      if (target === undefined)
        removed.push(`${section.name}${section.sub ? `.${section.sub}` : ""}.path (not covered)`);
      else out.push(`\t${entry.key} = ${quoteGitValue(target)}`);
      continue;
    }
    out.push(...lines);
  }
  return { text: out.join("\n"), removed, pointers };
}

/** Fields of an `auths` entry that carry a credential. */
const DOCKER_AUTH_FIELDS = ["auth", "identitytoken", "registrytoken", "password"];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Top-level keys that fetch credentials from a keyring: pointers, not secrets. */
const DOCKER_POINTERS = new Set(["credsstore", "credhelpers"]);
/** An HttpHeaders header that carries a credential: Authorization, X-Api-Key, PRIVATE-TOKEN, Cookie... */
const SECRET_HEADER = /auth|token|key|secret|passw|cookie|session/i;

/**
 * Drops, anywhere in a JSON value, every string that is a credential value
 * (a proxy URL with a password, an Authorization header); returns the copy.
 */
function scrubJson(value: unknown, path: string, removed: string[]): unknown {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.filter((item) => !secretString(item, `${path}[]`, removed));
  if (!isObject(value)) return value;
  const kept = Object.entries(value).filter(([key, item]) => !secretString(item, `${path}.${key}`, removed));
  return Object.fromEntries(kept.map(([key, item]) => [key, scrubJson(item, `${path}.${key}`, removed)]));
}

function secretString(value: unknown, path: string, removed: string[]): boolean {
  const secret = typeof value === "string" && isCredentialValue(value);
  if (secret) removed.push(path.replace(/^\./, ""));
  return secret;
}

/** A registry entry of `auths` without its credential fields. */
function authEntry(registry: string, entry: unknown, removed: string[]): Json {
  if (!isObject(entry)) return {};
  return Object.fromEntries(
    Object.entries(entry).filter(([field]) => {
      const secret = DOCKER_AUTH_FIELDS.includes(field.toLowerCase());
      if (secret) removed.push(`auths.${registry}.${field}`);
      return !secret;
    }),
  );
}

/**
 * Docker's config.json, read as Docker reads it: Go's JSON decoder matches
 * keys case-insensitively, so `AUTHS` is `auths`. Every registry keeps its
 * entry without its credential fields; `credsStore`/`credHelpers` go (they
 * fetch credentials from a keyring); HttpHeaders lose their credential
 * headers; any other string that is a credential (a proxy URL with a
 * password) goes. Text that is not a JSON object is replaced by `{}`.
 */
export function redactDockerConfig(text: string): Redaction {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return { text: "{}\n", removed: ["everything (not valid JSON)"], pointers: [] };
  }
  if (!isObject(config)) return { text: "{}\n", removed: ["everything (not a JSON object)"], pointers: [] };
  const removed: string[] = [];
  const pointers: string[] = [];
  const copy: Json = {};
  for (const [key, value] of Object.entries(config)) {
    const name = key.toLowerCase();
    if (DOCKER_POINTERS.has(name)) {
      removed.push(key);
      pointers.push(key);
    } else if (name === "auths" && isObject(value)) {
      copy[key] = Object.fromEntries(
        Object.entries(value).map(([registry, entry]) => [registry, authEntry(registry, entry, removed)]),
      );
    } else if (name === "httpheaders" && isObject(value)) {
      const headers = Object.entries(value).filter(([header]) => {
        if (SECRET_HEADER.test(header)) removed.push(`${key}.${header}`);
        return !SECRET_HEADER.test(header);
      });
      copy[key] = scrubJson(Object.fromEntries(headers), key, removed);
    } else if (!secretString(value, key, removed)) {
      copy[key] = scrubJson(value, key, removed);
    }
  }
  if (removed.length === 0) return { text, removed, pointers };
  return { text: `${JSON.stringify(copy, null, 2)}\n`, removed, pointers };
}

/**
 * A properties or YAML key whose value is a secret (`signing.password`,
 * `mavenCentralPassword`, `npmAuthToken`, `npmAuthIdent`, `apiKey`,
 * `signingKey`), in any of the names' spellings (dots, dashes, camelCase);
 * `npmAlwaysAuth` and `bypass` are settings.
 */
const SETTINGS_SECRET_KEY = new RegExp(
  [
    "(?:password|passwd|passphrase|(?:^|[._-])pass|token|secret|credentials?)$",
    "(?:auth(?:token|ident)|(?:^|[._-])auth|api[._-]?key|(?:signing|secret|private)[._-]?key)$",
  ].join("|"),
  "i",
);

/** Drops the key lines a line-based settings file (Java properties, simple YAML) holds secrets in. */
function redactKeyLines(text: string, key: RegExp, continues: (line: string) => boolean): Redaction {
  const removed: string[] = [];
  const out: string[] = [];
  const lines = text.split(/\r\n?|\n/);
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at]!;
    const match = key.exec(line);
    const name = match?.[1];
    if (!name || !(SETTINGS_SECRET_KEY.test(name) || isCredentialValue(line))) {
      out.push(line);
      continue;
    }
    removed.push(name);
    // A continued value goes whole.
    while (continues(lines[at]!) && at + 1 < lines.length) at++;
  }
  return { text: out.join("\n"), removed, pointers: [] };
}

/** An odd run of trailing backslashes continues a Java properties value, as in git. */
const continuesProperty = (line: string) => /(?:^|[^\\])(?:\\\\)*\\$/.test(line);

/**
 * gradle.properties (Java properties): `key=value`, `key: value` or
 * `key value`; password, token, secret and key lines go, as do credential
 * values; the rest (JVM arguments, versions) stays.
 */
export function redactProperties(text: string): Redaction {
  return redactKeyLines(text, /^\s*([^\s#!=:][^\s=:]*)\s*[=:\s]/, continuesProperty);
}

/**
 * ~/.yarnrc.yml: Yarn keeps tokens in `npmAuthToken` and `npmAuthIdent`,
 * at the top or under `npmScopes` / `npmRegistries`; those lines go, as do
 * credential values. A block value (`key: |`) goes with its indented lines.
 */
const YARN_TOKEN_KEY = /npmAuth(?:Token|Ident)/i;

export function redactYarnrc(text: string): Redaction {
  const lines = text.split(/\r\n?|\n/);
  const removed: string[] = [];
  const out: string[] = [];
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at]!;
    const match = /^(\s*)["']?([A-Za-z0-9_.-]+)["']?\s*:(.*)$/.exec(line);
    const [, indent = "", name, value = ""] = match ?? [];
    // A flow mapping (`npmScopes: {me: {npmAuthToken: …}}`) holds the key inside the line: it goes whole.
    const inline = YARN_TOKEN_KEY.test(value);
    if (!name || !(SETTINGS_SECRET_KEY.test(name) || inline || isCredentialValue(value))) {
      out.push(line);
      continue;
    }
    removed.push(inline ? `${name} (a token inside)` : name);
    // Deeper-indented lines (a block scalar, a nested map) belong to the dropped key.
    while (at + 1 < lines.length && indentOf(lines[at + 1]!) > indent.length) at++;
  }
  return { text: out.join("\n"), removed, pointers: [] };
}

function indentOf(line: string): number {
  return line.trim() === "" ? Number.POSITIVE_INFINITY : line.length - line.trimStart().length;
}

/**
 * Maven's settings.xml: `<password>`, `<passphrase>` and `<privateKey>`
 * (servers, proxies) lose their content; an HTTP header a server sends
 * (`<property><name>Authorization</name><value>…</value>`) loses its value;
 * mirrors, profiles and repositories stay.
 */
export function redactMavenSettings(text: string): Redaction {
  const removed: string[] = [];
  let out = text.replace(/<(password|passphrase|privateKey)>[\s\S]*?<\/\1\s*>/g, (_whole, name: string) => {
    removed.push(name);
    return `<${name}></${name}>`;
  });
  out = out.replace(
    /(<name>\s*([^<]*?)\s*<\/name>\s*<value>)[\s\S]*?(<\/value>)/g,
    (whole, open: string, name: string, close: string) => {
      if (!SECRET_HEADER.test(name) && !isCredentialValue(whole)) return whole;
      removed.push(`property ${name}`);
      return `${open}${close}`;
    },
  );
  return { text: removed.length > 0 ? out : text, removed, pointers: [] };
}

const REDACTORS: Record<RedactFormat, (text: string, includes?: IncludeRewrite) => Redaction> = {
  npmrc: redactNpmrc,
  "git-config": redactGitConfig,
  "docker-config": redactDockerConfig,
  properties: redactProperties,
  yarnrc: redactYarnrc,
  "maven-settings": redactMavenSettings,
};

/** The copy of a file cordon could not read (or one too large to read whole): empty, never the original. */
export const UNREADABLE: Redaction = { text: "", removed: ["everything (cordon could not read it)"], pointers: [] };

/** `includes` rewrites a git config's includes (see redactGitConfig); other formats have none. */
export function redact(format: RedactFormat, text: string | undefined, includes?: IncludeRewrite): Redaction {
  return text === undefined ? UNREADABLE : REDACTORS[format](text, includes);
}
