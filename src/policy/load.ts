// Reading a policy: a file in JSON, YAML or TOML (Bun's own parsers), or
// inline JSON; or a runok config's sandbox presets. runok's shapes are
// translated by runok.ts.
import { readFileSync, statSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { firstInvalidByte, utf8OrUndefined } from "../bytes.ts";
import { CordonError } from "../errors.ts";
import { duplicateJsonKey } from "./json-keys.ts";
import { fromPreset, fromRunokConfig, fromSandboxPolicy, SANDBOX_POLICY_KEYS } from "./runok.ts";
import { PolicyFileSchema, type PolicyFile } from "./schema.ts";
import { validate } from "./validate.ts";

type PolicyFormat = "json" | "yaml" | "toml";

export interface LoadedPolicy {
  policy: PolicyFile;
  /** Where it came from, for messages: a file path or "inline policy". */
  source: string;
  /** The file's path, when it came from a file. */
  path?: string;
  /** "runok" when translated from runok's formats, whose network default is "allowed". */
  dialect: "cordon" | "runok";
}

/** What the runok translations need to know of the run: its working directory (`--cwd`, else this process's). */
export interface LoadContext {
  cwd: string;
}

function formatOf(path: string, text: string): PolicyFormat {
  const extension = extname(path).toLowerCase();
  if (extension === ".json") return "json";
  if (extension === ".yaml" || extension === ".yml") return "yaml";
  if (extension === ".toml") return "toml";
  return text.trimStart().startsWith("{") ? "json" : "yaml";
}

function parseAs(text: string, format: PolicyFormat, source: string): unknown {
  try {
    switch (format) {
      case "json": {
        const value: unknown = JSON.parse(text);
        const duplicate = duplicateJsonKey(text);
        if (duplicate !== undefined) throw new DuplicateKey(duplicate);
        return value;
      }
      case "yaml":
        return Bun.YAML.parse(text);
      case "toml":
        return Bun.TOML.parse(text);
    }
  } catch (error) {
    if (error instanceof DuplicateKey) {
      throw new CordonError(`${source}: the key ${JSON.stringify(error.key)} appears twice in one object`, {
        hint: "JSON keeps only the last, which would silently replace the first; runok refuses it too",
      });
    }
    throw new CordonError(`${source}: not valid ${format.toUpperCase()}: ${(error as Error).message}`);
  }
}

class DuplicateKey extends Error {
  constructor(readonly key: string) {
    super(`duplicate key ${key}`);
  }
}

/**
 * Refuses a string holding a lone surrogate (JSON's "\udcff"): it is no
 * character, and as a path it would reach the kernel as U+FFFD, naming a
 * different file.
 */
function checkWellFormed(value: unknown, source: string): void {
  if (typeof value === "string") {
    if (!value.isWellFormed()) {
      throw new CordonError(
        `${source}: the string ${JSON.stringify(value)} holds a lone surrogate, which is no character`,
        {
          hint: "policy text must be Unicode: a \\uD800-\\uDFFF escape only as half of a pair",
        },
      );
    }
  } else if (Array.isArray(value)) {
    for (const item of value) checkWellFormed(item, source);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      checkWellFormed(key, source);
      checkWellFormed(item, source);
    }
  }
}

export function parseText(text: string, format: PolicyFormat, source: string): unknown {
  if (text.includes("\0")) throw new CordonError(`${source}: contains a NUL byte`);
  const value = parseAs(text, format, source);
  checkWellFormed(value, source);
  return value;
}

/** A policy file's text; its bytes must be UTF-8, since a decoder would put U+FFFD in place of the others. */
function decodePolicyFile(bytes: Uint8Array, path: string): string {
  const text = utf8OrUndefined(bytes);
  if (text !== undefined) return text;
  const at = firstInvalidByte(bytes) ?? 0;
  const line = bytes.subarray(0, at).filter((byte) => byte === 0x0a).length + 1;
  const byte = bytes[at]?.toString(16).padStart(2, "0");
  throw new CordonError(`policy file ${path} is not valid UTF-8: byte ${at} (line ${line}) is 0x${byte}`, {
    hint: "save it as UTF-8; a path that is not UTF-8 cannot be written in a policy",
  });
}

export function interpretPolicy(
  value: unknown,
  source: string,
  context: LoadContext = { cwd: process.cwd() },
): { policy: PolicyFile; dialect: "cordon" | "runok" } {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CordonError(
      `${source}: a policy must be an object (got ` +
        `${Array.isArray(value) ? "a list" : (JSON.stringify(value) ?? "nothing")})`,
    );
  }
  const record = value as Record<string, unknown>;
  // `network` is both dialects' word; every other field belongs to one.
  const runokKeys = [...SANDBOX_POLICY_KEYS, "fs"].filter((key) => key in record);
  const ownKeys = Object.keys(record).filter((key) => key in PolicyFileSchema.entries && key !== "network");
  if (runokKeys.length > 0 && ownKeys.length > 0) {
    // One dialect or the other: runok's ignores fields it does not know, so cordon's would vanish silently.
    throw new CordonError(
      `${source}: mixes runok's fields (${runokKeys.join(", ")}) with cordon's (${ownKeys.join(", ")})`,
      { hint: "write the policy in one of the two forms: runok's SandboxPolicy or preset, or cordon's" },
    );
  }
  if (SANDBOX_POLICY_KEYS.some((key) => key in record)) {
    return { policy: fromSandboxPolicy(record, source, context), dialect: "runok" };
  }
  if ("fs" in record) return { policy: fromPreset(record, source, context), dialect: "runok" };
  return { policy: validate(PolicyFileSchema, record, source), dialect: "cordon" };
}

/** `--policy` takes a file, or inline JSON when the value starts with "{" (runok's drop-in form). */
export function loadPolicy(argument: string, context?: LoadContext): LoadedPolicy {
  if (argument.trimStart().startsWith("{")) {
    return {
      ...interpretPolicy(parseText(argument, "json", "inline policy"), "inline policy", context),
      source: "inline policy",
    };
  }
  const { text, regular } = readPolicyFile(argument, "policy file");
  const parsed = parseText(text, formatOf(argument, text), argument);
  // Only a file on disk has a place a sandboxed run could have rewritten (checked against the write roots).
  return {
    ...interpretPolicy(parsed ?? {}, argument, context),
    source: argument,
    ...(regular ? { path: argument } : {}),
  };
}

/**
 * `--runok-config FILE --runok-preset NAME...`: the named sandbox presets of a
 * runok config (runok.yml), merged as runok merges them.
 */
export function loadRunokConfig(path: string, presets: readonly string[], context: LoadContext): LoadedPolicy {
  const { text, regular } = readPolicyFile(path, "runok config");
  const parsed = parseText(text, formatOf(path, text), path);
  // runok resolves a config's relative paths against its directory. One read through /dev/stdin, /dev/fd/N
  // or /proc (a pipe, or a file the caller opened) has none but the working directory.
  const dir = regular && !/^\/(dev|proc)\//.test(resolve(path)) ? dirname(resolve(path)) : context.cwd;
  const policy = fromRunokConfig(parsed, presets, { source: path, dir }, context);
  return { policy, dialect: "runok", source: path, ...(regular ? { path } : {}) };
}

/** A policy or config file's text; a pipe or FIFO is read to its end, a directory refused. */
function readPolicyFile(argument: string, what: string): { text: string; regular: boolean } {
  let bytes: Uint8Array;
  let regular: boolean;
  try {
    // A pipe or a FIFO is read to its end (`-p /dev/stdin`, `-p <(...)`); a directory is no policy.
    const stat = statSync(argument);
    if (stat.isDirectory()) throw new CordonError(`${what} ${argument} is a directory`);
    regular = stat.isFile();
    bytes = readFileSync(argument);
  } catch (error) {
    if (error instanceof CordonError) throw error;
    throw new CordonError(
      `${what} ${argument} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return { text: decodePolicyFile(bytes, argument), regular };
}
