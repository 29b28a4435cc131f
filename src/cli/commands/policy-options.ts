// Options that shape the policy, shared by `run` and `explain`, and the
// function that turns them (plus any --policy and --profile) into a policy.
import * as v from "valibot";
import { LimitsSchema } from "../../policy/limits.ts";
import { resolve } from "node:path";
import { CACHE_TOOLS } from "../../policy/caches.ts";
import type { OptionDefs, ParsedOptions } from "../args.ts";
import { checkHostPathsAreUtf8 } from "../utf8.ts";
import { CordonError } from "../../errors.ts";
import { composePolicy } from "../../policy/compose.ts";
import { loadPolicy, loadRunokConfig, type LoadContext, type LoadedPolicy } from "../../policy/load.ts";
import { isWithin, realpathUtf8 } from "../../policy/paths.ts";
import { resolvePolicy, type ResolvedPolicy } from "../../policy/resolve.ts";
import { DEGRADATION_NAMES } from "../../policy/degradations.ts";
import { ENV_NAME, MODES, ProfileSchema, SECRET_NAMES, type PolicyLayer } from "../../policy/schema.ts";
import { validate } from "../../policy/validate.ts";

export const POLICY_OPTIONS = {
  policy: {
    type: "string",
    alias: "p",
    valueHint: "FILE",
    description: "Read the policy from FILE (JSON, YAML or TOML), or inline JSON starting with {",
  },
  "runok-config": {
    type: "string",
    valueHint: "FILE",
    description:
      "Take the policy from a runok config (runok.yml): the presets named by --runok-preset, merged as runok " +
      "merges them; relative paths resolve against FILE's directory, as in runok",
  },
  "runok-preset": {
    type: "string",
    valueHint: "NAME",
    repeatable: true,
    description: "A sandbox preset of --runok-config (definitions.sandbox.NAME); several merge, strictest wins",
  },
  profile: {
    type: "string",
    valueHint: "NAME",
    description: "Start from a profile: readonly (default), workspace, ci, or one the policy file defines",
  },
  write: {
    type: "string",
    alias: "w",
    valueHint: "PATH",
    repeatable: true,
    description: "Make the directory PATH writable",
  },
  "deny-write": {
    type: "string",
    valueHint: "PATH",
    repeatable: true,
    description: "Keep PATH read-only even inside a write root (e.g. .git); globs allowed",
  },
  "deny-read": {
    type: "string",
    valueHint: "PATH",
    repeatable: true,
    description: "Hide PATH: a directory shows up empty, a file reads as empty; globs allowed",
  },
  net: {
    type: "boolean",
    description:
      "Allow IP networking in the host's network namespace (default: none; only AF_UNIX sockets). Host unix " +
      "socket files stay out of reach, but abstract unix names are shared: the command can bind one that a host " +
      "program connects to later",
  },
  "allow-connect": {
    type: "string",
    valueHint: "PORT",
    repeatable: true,
    description:
      "Without --net, still allow TCP connections to PORT (Landlock ABI 4+). Shares the host's network " +
      "namespace: the command can bind an abstract unix name that a host program connects to later",
  },
  "allow-bind": {
    type: "string",
    valueHint: "PORT",
    repeatable: true,
    description:
      "Without --net, still allow binding TCP PORT (Landlock ABI 4+). Shares the host's network namespace, " +
      "with the same abstract unix name caveat as --allow-connect",
  },
  "allow-socket": {
    type: "string",
    valueHint: "PATH",
    repeatable: true,
    description:
      "Let the command connect to the host unix socket PATH; every other host socket outside the write " +
      "roots is out of reach (bwrap mode; landlock-only mode from Landlock ABI 9)",
  },
  "preserve-fds": {
    type: "string",
    valueHint: "N",
    description: "Pass descriptors 3..3+N-1 on to the command (default 0: every descriptor above 2 is closed)",
  },
  cwd: {
    type: "string",
    alias: "C",
    valueHint: "DIR",
    description: "Run the command in DIR; relative policy paths resolve against it",
  },
  env: {
    type: "string",
    valueHint: "NAME[=VALUE]",
    repeatable: true,
    description:
      "Set NAME for the command (NAME alone passes the caller's value, even with --clear-env, --profile ci " +
      "or a secret-shaped name)",
  },
  "unset-env": {
    type: "string",
    valueHint: "NAME",
    repeatable: true,
    description: "Remove NAME from the command's environment",
  },
  "clear-env": { type: "boolean", description: "Start the command with an empty environment (plus --env and TMPDIR)" },
  cache: {
    type: "string",
    valueHint: "TOOL",
    repeatable: true,
    description: `Give ${CACHE_TOOLS.join(", ")} a cache of its own in the project: <root>/.cache/TOOL`,
  },
  reveal: {
    type: "string",
    valueHint: "NAME",
    repeatable: true,
    description: `Do not hide this secure default: ${SECRET_NAMES.join(", ")}`,
  },
  mode: {
    type: "enum",
    options: [...MODES],
    valueHint: "MODE",
    description: "auto (default: bwrap where it works, else landlock-only if that loses nothing), bwrap or landlock",
  },
  "allow-degraded": {
    type: "string",
    valueHint: "NAME",
    repeatable: true,
    description: `Accept a weaker guarantee by name: ${DEGRADATION_NAMES.join(", ")}`,
  },
  timeout: {
    type: "string",
    valueHint: "DURATION",
    description:
      "Stop the command after DURATION (90s, 10m, 1h30m) of wall clock: SIGTERM to every process of the " +
      "sandbox, SIGKILL after --kill-after; exit status 124",
  },
  "kill-after": {
    type: "string",
    valueHint: "DURATION",
    description: "After --timeout's SIGTERM, wait DURATION before SIGKILL (default 10s)",
  },
  memory: {
    type: "string",
    valueHint: "SIZE",
    description:
      "The most memory the sandbox may use (512M, 2G), its tmpfs included; past it, it is killed (137). " +
      "Needs a cgroup of the sandbox's own: cordon doctor says whether this host gives one",
  },
  pids: {
    type: "string",
    valueHint: "N",
    description: "The most processes and threads alive at once in the sandbox, at least 8 (a cgroup, as --memory)",
  },
  "cpu-time": {
    type: "string",
    valueHint: "DURATION",
    description: "CPU time each process may use (RLIMIT_CPU): SIGXCPU at DURATION, SIGKILL a second later",
  },
  "file-size": {
    type: "string",
    valueHint: "SIZE",
    description: "The largest file the command may write (RLIMIT_FSIZE): a write past it gets SIGXFSZ",
  },
  "open-files": { type: "string", valueHint: "N", description: "The most descriptors each process may have open" },
  "tmp-size": {
    type: "string",
    valueHint: "SIZE",
    description: "The size of bwrap mode's private /tmp and of its /dev/shm, each (default 1G); past it, ENOSPC",
  },
  strict: {
    type: "boolean",
    description: "Refuse (exit 125) when any requested restriction would be weaker than asked",
  },
  bwrap: {
    type: "string",
    valueHint: "PATH",
    description: "Use this bubblewrap binary (default: /usr/bin/bwrap, /usr/local/bin/bwrap, /bin/bwrap; never PATH)",
  },
} satisfies OptionDefs;

interface PolicyChoice {
  policy: ResolvedPolicy;
  loaded?: LoadedPolicy;
  /** Warnings about the policy itself (e.g. a policy file the sandbox could rewrite). */
  warnings: string[];
}

/** A port as the schema sees it: a number, or the text itself so the schema names it in its message. */
function portNumber(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function flagLayer(options: ParsedOptions): PolicyLayer {
  const list = (name: string) => (options[name] as string[] | undefined) ?? [];
  const set: Record<string, string> = {};
  for (const entry of list("env")) {
    const at = entry.indexOf("=");
    if (at === 0) throw new CordonError(`--env ${entry}: the name is empty`);
    const name = at > 0 ? entry.slice(0, at) : entry;
    if (!ENV_NAME.test(name)) {
      throw new CordonError(
        `--env ${entry}: ${JSON.stringify(name)} is no variable name (it has a space or a control character)`,
      );
    }
    if (at > 0) set[entry.slice(0, at)] = entry.slice(at + 1);
    else if (process.env[entry] !== undefined) set[entry] = process.env[entry]!;
  }
  const layer = {
    write: list("write"),
    denyWrite: list("deny-write"),
    denyRead: list("deny-read"),
    network: options.net ? "all" : undefined,
    allowConnect: list("allow-connect").map(portNumber),
    allowBind: list("allow-bind").map(portNumber),
    allowSockets: list("allow-socket"),
    env: { clear: options["clear-env"] === true, set, unset: list("unset-env") },
    mode: options.mode,
    allowDegraded: list("allow-degraded"),
    reveal: list("reveal"),
    caches: list("cache"),
    limits: {
      timeout: options.timeout,
      killAfter: options["kill-after"],
      memory: options.memory,
      pids: options.pids,
      cpuTime: options["cpu-time"],
      fileSize: options["file-size"],
      openFiles: options["open-files"],
      tmpSize: options["tmp-size"],
    },
  };
  checkLimitFlags(options);
  // Flags go through the same schema as files: same checks, same messages.
  return validate(ProfileSchema, JSON.parse(JSON.stringify(layer)), "command line");
}

/** Each limit flag and its field in a policy's `limits`. */
const LIMIT_FLAGS = {
  timeout: "timeout",
  "kill-after": "killAfter",
  memory: "memory",
  pids: "pids",
  "cpu-time": "cpuTime",
  "file-size": "fileSize",
  "open-files": "openFiles",
  "tmp-size": "tmpSize",
} as const;

/** A limit flag's value checked on its own, so that the message names the flag as typed. */
function checkLimitFlags(options: ParsedOptions): void {
  for (const [flag, field] of Object.entries(LIMIT_FLAGS)) {
    const value = options[flag];
    if (value === undefined) continue;
    const result = v.safeParse(LimitsSchema.entries[field], value);
    if (!result.success) throw new CordonError(`--${flag} ${JSON.stringify(value)}: ${result.issues[0].message}`);
  }
}

/** The policy file, the runok config's presets, or neither. */
function loadFileLayer(options: ParsedOptions): LoadedPolicy | undefined {
  const context: LoadContext = { cwd: resolve((options.cwd as string | undefined) ?? ".") };
  const config = options["runok-config"] as string | undefined;
  const presets = (options["runok-preset"] as string[] | undefined) ?? [];
  if (config === undefined) {
    if (presets.length > 0)
      throw new CordonError("--runok-preset needs --runok-config FILE: the config that defines it");
    return typeof options.policy === "string" ? loadPolicy(options.policy, context) : undefined;
  }
  if (typeof options.policy === "string") {
    throw new CordonError("--policy and --runok-config both give the policy; use one", {
      hint: "add to a runok preset with flags (-w, --deny-read, ...) instead",
    });
  }
  if (presets.length === 0) {
    throw new CordonError(`--runok-config ${config} needs --runok-preset NAME: which of its sandbox presets to apply`);
  }
  return loadRunokConfig(config, presets, context);
}

export function choosePolicy(options: ParsedOptions): PolicyChoice {
  checkHostPathsAreUtf8(options.cwd as string | undefined);
  const loaded = loadFileLayer(options);
  const composed = composePolicy({
    profile: options.profile as string | undefined,
    file: loaded?.policy,
    flags: flagLayer(options),
  });
  const policy = resolvePolicy(composed, { cwd: options.cwd as string | undefined });
  const warnings: string[] = [];
  const real = loaded?.path === undefined ? undefined : pathOnDisk(loaded.path);
  if (real) {
    const root = policy.writeRoots.find((writable) => isWithin(real, writable));
    if (root) {
      const message =
        `the ${options["runok-config"] === undefined ? "policy file" : "runok config"} ${real} lies inside the ` +
        `write root ${root}: an earlier ` +
        `sandboxed run could have rewritten it`;
      if (options.strict)
        throw new CordonError(message, { hint: "keep the policy outside every write root; the command was not run" });
      warnings.push(message);
    }
  }
  return { policy, loaded, warnings };
}

/**
 * Where a policy file really is; undefined when it has no name on disk (a
 * memfd or deleted file behind /dev/stdin): then no write root can hold it.
 */
function pathOnDisk(path: string): string | undefined {
  try {
    return realpathUtf8(path);
  } catch (error) {
    if (error instanceof CordonError) throw error;
    return undefined;
  }
}

const LISTED_SKIPPED_DIRS = 5;

/** What the deny globs could not see, for run -v and explain; undefined when they saw everything. */
export function skippedGlobDirsNote(policy: ResolvedPolicy): string | undefined {
  const dirs = policy.unreadableGlobDirs;
  if (dirs.length === 0) return undefined;
  const more = dirs.length > LISTED_SKIPPED_DIRS ? ` and ${dirs.length - LISTED_SKIPPED_DIRS} more` : "";
  return (
    `the deny globs did not look inside ${dirs.length === 1 ? "a directory" : `${dirs.length} directories`} ` +
    `you may not list, so nothing in them is denied: ${dirs.slice(0, LISTED_SKIPPED_DIRS).join(", ")}${more}`
  );
}

const MAX_PRESERVED_FDS = 1000;

/** --preserve-fds N as a number; whether those descriptors are open is the preparation's check. */
export function preserveFdsOption(options: ParsedOptions): number {
  const text = options["preserve-fds"];
  if (text === undefined) return 0;
  if (typeof text !== "string" || !/^\d+$/.test(text) || Number(text) > MAX_PRESERVED_FDS) {
    throw new CordonError(
      `--preserve-fds ${String(text)}: expected a number of descriptors from 0 to ${MAX_PRESERVED_FDS}`,
    );
  }
  return Number(text);
}
