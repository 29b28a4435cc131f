// runok's sandbox formats, read as runok reads them (github.com/fohte/runok):
// - the SandboxPolicy JSON its Linux sandbox receives (`runok-linux-sandbox
//   --policy` before runok PR #121; `runok __sandbox-exec --policy` since);
// - a sandbox preset (`{fs, network}`), alone in a policy file;
// - a runok config's named presets (`definitions.sandbox.<name>`), with
//   `<path:name>` references and the deprecated `fs.writable`/`fs.deny`.
// Each becomes a cordon PolicyFile; runok's parsing rules are kept, and where
// runok leaves a gap cordon takes the stricter reading.
import { isAbsolute, resolve } from "node:path";
import * as v from "valibot";
import { CordonError } from "../errors.ts";
import { expandPath, isGlob, isWithin } from "./paths.ts";
import { PathSchema, type PolicyFile } from "./schema.ts";
import { validate } from "./validate.ts";

const Paths = v.array(PathSchema, "must be a list of paths");

/**
 * runok's `SandboxPolicy` (src/exec/command_executor.rs). serde requires the
 * three fields without a default and ignores unknown ones (no
 * deny_unknown_fields), so a newer runok's additions do not break it;
 * `read_deny_paths` has `#[serde(default)]` (runok v0.2.1 and later).
 */
const SandboxPolicySchema = v.object({
  writable_roots: Paths,
  read_only_subpaths: Paths,
  read_deny_paths: v.optional(Paths),
  network_allowed: v.boolean("must be true or false"),
});

const REQUIRED_FIELDS = ["writable_roots", "read_only_subpaths", "network_allowed"] as const;

/** The fields that mark a value as runok's SandboxPolicy. */
export const SANDBOX_POLICY_KEYS = [...REQUIRED_FIELDS, "read_deny_paths"];

/** Where a policy's relative paths start: the run's working directory (resolved later) or a config's directory. */
interface RunokContext {
  /** The working directory, for the /tmp decision only; relative paths stay relative for resolve.ts. */
  cwd: string;
}

/** runok lets a write root in /tmp (or one holding /tmp) leave /tmp as the host's: no private tmpfs there. */
function tmpOf(writeRoots: readonly string[], cwd: string): Pick<PolicyFile, "tmp"> {
  const overlaps = writeRoots.some((root) => {
    const path = expandPath(root, cwd);
    return isWithin(path, "/tmp") || isWithin("/tmp", path);
  });
  return overlaps ? { tmp: "host" } : {};
}

function isRelativeLiteral(entry: string): boolean {
  return !isAbsolute(entry) && entry !== "~" && !entry.startsWith("~/") && !isGlob(entry);
}

/**
 * A relative deny entry as runok's bwrap stage reads it: under each writable
 * root. runok denies nothing for it when there is no root, and cordon also
 * keeps its own reading (against the working directory): denying more is the
 * safe side. A relative glob already matches under each write root (resolve.ts).
 */
function underEachRoot(entries: readonly string[], writeRoots: readonly string[]): string[] {
  return entries.flatMap((entry) =>
    isRelativeLiteral(entry) ? [entry, ...writeRoots.map((root) => `${root.replace(/\/+$/, "")}/${entry}`)] : [entry],
  );
}

export function fromSandboxPolicy(value: Record<string, unknown>, source: string, context: RunokContext): PolicyFile {
  const missing = REQUIRED_FIELDS.filter((field) => !(field in value));
  if (missing.length > 0) {
    throw new CordonError(
      `${source}: runok's SandboxPolicy needs ${missing.map((field) => JSON.stringify(field)).join(", ")}, ` +
        `as runok parses it (serde has no default for ${missing.length === 1 ? "it" : "them"})`,
      {
        hint:
          'runok always sends all three; written by hand, say "network_allowed": false (or true), ' +
          "and list writable_roots and read_only_subpaths, [] when empty",
      },
    );
  }
  const policy = validate(SandboxPolicySchema, value, source);
  const roots = policy.writable_roots;
  return {
    write: roots,
    denyWrite: underEachRoot(policy.read_only_subpaths, roots),
    denyRead: underEachRoot(policy.read_deny_paths ?? [], roots),
    network: policy.network_allowed ? "all" : "none",
    ...tmpOf(roots, context.cwd),
  };
}

// ---- Presets

/** FsAccessPolicy: serde ignores unknown fields here. */
const AccessSchema = v.object({ allow: v.optional(Paths), deny: v.optional(Paths) });
/** FsPolicy's two spellings, each with deny_unknown_fields. */
const FsSchema = v.strictObject({ read: v.optional(AccessSchema), write: v.optional(AccessSchema) });
const LegacyFsSchema = v.strictObject({ writable: v.optional(Paths), deny: v.optional(Paths) });
/** SandboxPreset and NetworkPolicy: unknown fields ignored. */
const PresetSchema = v.object({
  fs: v.optional(v.unknown()),
  network: v.optional(v.object({ allow: v.optional(v.boolean("must be true or false")) })),
});

/** One preset in runok's terms, before paths are resolved. */
interface Preset {
  writeAllow?: string[];
  writeDeny: string[];
  readDeny: string[];
  /** undefined: runok's default, allowed. */
  network?: boolean;
}

function parseFs(fs: unknown, source: string): Pick<Preset, "writeAllow" | "writeDeny" | "readDeny"> {
  if (fs === undefined || fs === null) return { writeDeny: [], readDeny: [] };
  const record = typeof fs === "object" && !Array.isArray(fs) ? (fs as Record<string, unknown>) : {};
  const legacy = "writable" in record || "deny" in record;
  if (legacy && ("read" in record || "write" in record)) {
    throw new CordonError(
      `${source}: fs mixes read/write with the deprecated writable/deny; runok accepts one or other`,
    );
  }
  if (legacy) {
    const old = validate(LegacyFsSchema, fs, `${source}: fs`);
    return { ...(old.writable ? { writeAllow: old.writable } : {}), writeDeny: old.deny ?? [], readDeny: [] };
  }
  const parsed = validate(FsSchema, fs, `${source}: fs`);
  if (parsed.read?.allow !== undefined) {
    throw new CordonError(`${source}: fs.read.allow is not supported (runok refuses it too)`, {
      hint: "reads are allowed by default; use fs.read.deny to restrict them",
    });
  }
  return {
    ...(parsed.write?.allow ? { writeAllow: parsed.write.allow } : {}),
    writeDeny: parsed.write?.deny ?? [],
    readDeny: parsed.read?.deny ?? [],
  };
}

function parsePreset(value: unknown, source: string): Preset {
  const preset = validate(PresetSchema, value, source);
  const allow = preset.network?.allow;
  return { ...parseFs(preset.fs, source), ...(allow === undefined ? {} : { network: allow }) };
}

/**
 * runok's merge of several presets ("strictest wins", SandboxPreset::merge_strictest):
 * write.allow is the intersection of the presets that set it, the deny lists the union,
 * and the network is allowed only when no preset denies it (a preset without `network` allows it).
 */
function mergeStrictest(presets: readonly Preset[]): Preset {
  let writeAllow: string[] | undefined;
  for (const preset of presets) {
    if (preset.writeAllow === undefined) continue;
    const own = new Set(preset.writeAllow);
    writeAllow = writeAllow === undefined ? [...own] : writeAllow.filter((path) => own.has(path));
  }
  return {
    writeAllow: writeAllow ?? [],
    writeDeny: [...new Set(presets.flatMap((preset) => preset.writeDeny))],
    readDeny: [...new Set(presets.flatMap((preset) => preset.readDeny))],
    network: presets.every((preset) => preset.network !== false),
  };
}

function presetToPolicy(preset: Preset, context: RunokContext): PolicyFile {
  const write = preset.writeAllow ?? [];
  return {
    write,
    denyWrite: preset.writeDeny,
    denyRead: preset.readDeny,
    network: preset.network === false ? "none" : "all",
    ...tmpOf(write, context.cwd),
  };
}

/** A preset alone in a policy file (`--policy preset.yml`): relative paths resolve against the working directory. */
export function fromPreset(value: Record<string, unknown>, source: string, context: RunokContext): PolicyFile {
  return presetToPolicy(parsePreset(value, source), context);
}

// ---- A runok config's presets

const PathListsSchema = v.record(v.string(), Paths, "must map names to lists of paths");

function isPathReference(entry: string): boolean {
  return entry.startsWith("<path:") && entry.endsWith(">");
}

/** runok's resolve_path: `~` stays for cordon (both read $HOME), the rest resolves against the config's directory. */
function resolveConfigPath(path: string, base: string): string {
  if (path === "~" || path.startsWith("~/")) return path;
  return resolve(base, path);
}

function objectAt(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) throw new CordonError(`${where} must be a mapping`);
  return value as Record<string, unknown>;
}

/**
 * The presets `names` of a runok config, merged as runok merges them, as a
 * cordon PolicyFile. Paths resolve against the config file's directory, as
 * runok resolves them; `<path:name>` entries of the deny lists expand from
 * `definitions.paths`. Rules, defaults and everything else in the config are
 * runok's own business and ignored; `extends` is not followed.
 */
export function fromRunokConfig(
  config: unknown,
  names: readonly string[],
  file: { source: string; dir: string },
  context: RunokContext,
): PolicyFile {
  const { source, dir } = file;
  const top = objectAt(config, source) ?? {};
  const definitions = objectAt(top.definitions, `${source}: definitions`);
  const sandbox = objectAt(definitions?.sandbox, `${source}: definitions.sandbox`) ?? {};
  const paths = validate(v.optional(PathListsSchema), definitions?.paths, `${source}: definitions.paths`) ?? {};
  const extendsNote = top.extends === undefined ? "" : " (cordon does not follow `extends`)";
  for (const [name, list] of Object.entries(paths)) {
    const nested = list.find(isPathReference);
    if (nested) throw new CordonError(`${source}: definitions.paths.${name}: ${nested} may not refer to another list`);
  }
  const expand = (entries: readonly string[], where: string): string[] =>
    entries.flatMap((entry) => {
      if (!isPathReference(entry)) return [resolveConfigPath(entry, dir)];
      const name = entry.slice("<path:".length, -1);
      const list = Object.hasOwn(paths, name) ? paths[name] : undefined;
      if (!list) {
        throw new CordonError(
          `${source}: ${where} refers to ${entry}, but definitions.paths has no ${JSON.stringify(name)}${extendsNote}`,
        );
      }
      return list.map((path) => resolveConfigPath(path, dir));
    });
  const presets = names.map((name): Preset => {
    if (!Object.hasOwn(sandbox, name)) {
      const known = Object.keys(sandbox);
      throw new CordonError(
        `${source}: no sandbox preset ${JSON.stringify(name)} in definitions.sandbox${extendsNote}`,
        {
          hint: known.length > 0 ? `its presets: ${known.join(", ")}` : "the config defines no sandbox presets",
        },
      );
    }
    const where = `${source}: definitions.sandbox.${name}`;
    const preset = parsePreset(sandbox[name] ?? {}, where);
    const reference = preset.writeAllow?.find(isPathReference);
    if (reference) throw new CordonError(`${where}: ${reference}: runok expands <path:name> only in deny lists`);
    return {
      ...preset,
      ...(preset.writeAllow ? { writeAllow: preset.writeAllow.map((path) => resolveConfigPath(path, dir)) } : {}),
      writeDeny: expand(preset.writeDeny, `${name}: fs.write.deny`),
      readDeny: expand(preset.readDeny, `${name}: fs.read.deny`),
    };
  });
  return presetToPolicy(mergeStrictest(presets), context);
}
