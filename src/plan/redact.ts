// Redacted copies: the text of a configuration file with its secrets taken
// out and everything else kept, so that the command keeps the user's
// registries, aliases and identity but not the credentials. Pure: each
// function maps text to text, plus the names (never the values) of what it
// removed.
import { containsCredentialUrl, isCredentialValue } from "../policy/environment.ts";
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

/** An .npmrc key whose value is a secret: `_auth`, `_authToken`, `//host/:_password`, `token`. */
const NPM_SECRET_KEY = /(?:^|[._:-])_?(?:auth|authtoken|password|passwd|token|secret|apikey)$/i;
/** Not a secret, though it ends like one. */
const NPM_NOT_SECRET = new Set(["always-auth"]);
/** A git key whose value is a secret: `sendemail.smtpPass`, `*.token`, `*.password`. */
const GIT_SECRET_KEY = /(?:pass|password|passwd|token|secret)$/i;
/** Ends like one, but names a program that asks for a password: not a secret. */
const GIT_NOT_SECRET = new Set(["askpass"]);

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
    const [, key, value] = match as unknown as [string, string, string];
    const secret = (NPM_SECRET_KEY.test(key) && !NPM_NOT_SECRET.has(key.toLowerCase())) || isCredentialValue(value);
    if (!secret) return true;
    removed.push(key);
    return false;
  });
  return { text: lines.join("\n"), removed, pointers: [] };
}

interface GitSection {
  /** Lowercased section name: `http`, `credential`, `url`, `include`, `includeif`. */
  name: string;
  /** The subsection as written: a URL, a condition. */
  sub: string;
}

/** `[section "sub"]`, `[section.sub]`, or `[section]`; git allows a key after the header on the same line. */
const GIT_HEADER = /^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/;

function sectionOf(header: RegExpExecArray): GitSection {
  const [, name = "", quoted] = header;
  const dot = name.indexOf(".");
  if (quoted !== undefined) return { name: name.toLowerCase(), sub: quoted };
  return dot < 0
    ? { name: name.toLowerCase(), sub: "" }
    : { name: name.slice(0, dot).toLowerCase(), sub: name.slice(dot + 1) };
}

/** The file actions/checkout writes the token into (newer versions), which .git/config includes. */
const CHECKOUT_CREDENTIALS_FILE = /(^|\/)git-credentials-[^/]*\.config$/;

/** Why a git config key is secret, as the name to report it by; undefined when it is not. */
function secretGitKey(section: GitSection, key: string, value: string): string | undefined {
  const name = key.toLowerCase();
  const full = `${section.name}${section.sub ? `.${section.sub}` : ""}.${name}`;
  // An Authorization header: actions/checkout's `http.https://github.com/.extraheader`.
  if (name === "extraheader") return full;
  // A helper hands out stored passwords, from a file, a daemon or a keyring.
  if (section.name === "credential" && name === "helper") return full;
  if ((section.name === "include" || section.name === "includeif") && name === "path") {
    return CHECKOUT_CREDENTIALS_FILE.test(value.trim().replace(/^"|"$/g, ""))
      ? `${full} (a checkout token)`
      : undefined;
  }
  if ((GIT_SECRET_KEY.test(name) && !GIT_NOT_SECRET.has(name)) || isCredentialValue(value)) return full;
  return undefined;
}

/**
 * A git config file (.gitconfig, .git/config): drops extra headers,
 * credential helpers, `url.<with a password>` sections, keys that hold
 * passwords or tokens, values with a password in a URL, and includes of a
 * checkout-token file. Continuation lines go with their key.
 */
export function redactGitConfig(text: string): Redaction {
  const removed: string[] = [];
  const pointers: string[] = [];
  const out: string[] = [];
  let section: GitSection = { name: "", sub: "" };
  let dropSection = false;
  let continuing: "keep" | "drop" | undefined;
  // git reads CRLF files: a line's CR must not hide its key from the patterns.
  for (const line of text.split(/\r\n?|\n/)) {
    if (continuing) {
      if (continuing === "keep") out.push(line);
      continuing = line.endsWith("\\") ? continuing : undefined;
      continue;
    }
    const header = GIT_HEADER.exec(line);
    let body = line;
    if (header) {
      section = sectionOf(header);
      dropSection = section.name === "url" && containsCredentialUrl(section.sub);
      if (dropSection) {
        removed.push("url.<a URL with a password>");
        continue;
      }
      out.push(line.slice(0, line.length - header[3]!.length));
      body = header[3]!;
      if (body.trim() === "") continue;
    }
    if (dropSection) continue;
    const match = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(body);
    const secret = match ? secretGitKey(section, match[1]!, match[2] ?? "") : undefined;
    if (secret) removed.push(secret);
    if (secret && section.name === "credential" && match![1]!.toLowerCase() === "helper") pointers.push(secret);
    if (!secret && body !== line) out[out.length - 1] += body;
    else if (!secret) out.push(line);
    if (line.endsWith("\\")) continuing = secret ? "drop" : "keep";
  }
  return { text: out.join("\n"), removed, pointers };
}

/** Fields of an `auths` entry that carry a credential. */
const DOCKER_AUTH_FIELDS = ["auth", "identitytoken", "registrytoken", "password"];

/**
 * Docker's config.json: every registry keeps its entry without its
 * credential fields, and `credsStore`/`credHelpers` go (they fetch
 * credentials from a keyring); proxies, contexts and other settings stay.
 * Text that is not a JSON object is replaced by `{}`.
 */
export function redactDockerConfig(text: string): Redaction {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return { text: "{}\n", removed: ["everything (not valid JSON)"], pointers: [] };
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    return { text: "{}\n", removed: ["everything (not a JSON object)"], pointers: [] };
  }
  const copy = { ...(config as Record<string, unknown>) };
  const removed: string[] = [];
  const pointers: string[] = [];
  for (const key of ["credsStore", "credHelpers"]) {
    if (key in copy) {
      delete copy[key];
      removed.push(key);
      pointers.push(key);
    }
  }
  const auths = copy.auths;
  if (typeof auths === "object" && auths !== null) {
    copy.auths = Object.fromEntries(
      Object.entries(auths as Record<string, unknown>).map(([registry, entry]) => {
        if (typeof entry !== "object" || entry === null) return [registry, {}];
        const kept = Object.entries(entry as Record<string, unknown>).filter(([field]) => {
          const secret = DOCKER_AUTH_FIELDS.includes(field.toLowerCase());
          if (secret) removed.push(`auths.${registry}.${field}`);
          return !secret;
        });
        return [registry, Object.fromEntries(kept)];
      }),
    );
  }
  if (removed.length === 0) return { text, removed, pointers };
  return { text: `${JSON.stringify(copy, null, 2)}\n`, removed, pointers };
}

const REDACTORS: Record<RedactFormat, (text: string) => Redaction> = {
  npmrc: redactNpmrc,
  "git-config": redactGitConfig,
  "docker-config": redactDockerConfig,
};

/** The copy of a file cordon could not read (or one too large to read whole): empty, never the original. */
export const UNREADABLE: Redaction = { text: "", removed: ["everything (cordon could not read it)"], pointers: [] };

export function redact(format: RedactFormat, text: string | undefined): Redaction {
  return text === undefined ? UNREADABLE : REDACTORS[format](text);
}
