// The policy model, defined once. Types, validation, defaults, the generated
// reference (docs/policy.md) and error messages all come from these schemas.
import { CACHE_TOOLS, type CacheTool } from "./caches.ts";
import { LIMITS_DESCRIPTION, LimitsSchema, NO_LIMITS, type Limits } from "./limits.ts";
import * as v from "valibot";

export const MODES = ["auto", "bwrap", "landlock"] as const;
const NETWORK = ["none", "all"] as const;
/** Where /tmp comes from in bwrap mode: a private tmpfs, or the host's (read-only outside the write roots). */
export const TMP_KINDS = ["private", "host"] as const;
export type TmpKind = (typeof TMP_KINDS)[number];

import { DEGRADATION_NAMES, type DegradationName } from "./degradations.ts";

/** Secure defaults: credential stores and host control sockets hidden unless revealed by name. */
export const SECRET_NAMES = [
  "ssh",
  "gnupg",
  "aws",
  "gcloud",
  "azure",
  "kube",
  "docker-config",
  "containers-auth",
  "netrc",
  "git-credentials",
  "gitconfig",
  "git-checkout-token",
  "gh",
  "npmrc",
  "pypirc",
  "cargo",
  "vault",
  "terraform",
  "rclone",
  "pgpass",
  "claude",
  "codex",
  "copilot",
  "glab",
  "gem",
  "composer",
  "maven",
  "gradle",
  "yarnrc",
  "shell-history",
  "docker-socket",
  "containerd-socket",
  "podman-socket",
  "session-bus",
  "ssh-agent",
  "gpg-agent",
] as const;

const noNul = (text: string) => !text.includes("\0");

export const PathSchema = v.pipe(
  v.string("must be a path string"),
  v.minLength(1, "must not be empty"),
  v.check(noNul, "must not contain a NUL byte"),
);

/** Host-executed project files that `workspace` and `ci` protect at the top of each write root. */
export const PROJECT_FILES = [".vscode", ".idea", ".mcp.json", ".claude", ".envrc"] as const;

const ProjectFileName = v.pipe(
  v.string("must be a file name"),
  v.regex(/^[^/\0]+$/, "must be a single name, without '/' or NUL"),
  v.check((name) => name !== "." && name !== "..", "must not be . or .."),
);

/** A variable name: no '=', no whitespace or control characters (npm's `//host/:_authToken` style is fine). */
export const ENV_NAME = /^[^=\s\x00-\x1f\x7f]+$/;

const EnvName = v.pipe(
  v.string("must be a variable name"),
  v.regex(ENV_NAME, "must be a non-empty name without '=', spaces or control characters"),
);

const EnvValue = v.pipe(v.string("must be a string"), v.check(noNul, "must not contain a NUL byte"));

const EnvSchema = v.strictObject({
  /** Start from an empty environment instead of the caller's. */
  clear: v.optional(v.boolean("must be true or false")),
  /** Keep only the CI allow-list of the caller's variables (the `ci` profile). */
  allowList: v.optional(v.boolean("must be true or false")),
  /** Variables to set (after clear/unset). */
  set: v.optional(v.record(EnvName, EnvValue, "must map names to string values")),
  /** Variables to remove. */
  unset: v.optional(v.array(EnvName, "must be a list of names")),
});

const described = <const S extends v.GenericSchema>(schema: S, text: string) =>
  v.optional(v.pipe(schema, v.description(text)));

/** The fields a policy file, a profile and the flags all share. */
const POLICY_FIELDS = {
  write: described(
    v.array(PathSchema, "must be a list of paths"),
    "Directories the command may write (`-w`). Everything else is read-only.",
  ),
  denyWrite: described(
    v.array(PathSchema, "must be a list of paths"),
    "Paths that stay read-only even inside a write root, e.g. `.git` " +
      "(`--deny-write`). Globs allowed; a relative glob matches under each write root. " +
      "A path that does not exist yet cannot be created.",
  ),
  denyRead: described(
    v.array(PathSchema, "must be a list of paths"),
    "Paths that are hidden (`--deny-read`): a directory shows up empty, a file " +
      "reads as empty, neither can be written. Globs allowed.",
  ),
  network: described(
    v.picklist(NETWORK, 'must be "none" or "all"'),
    "`none` (default): only AF_UNIX sockets. `all`: the host network (`--net`): IP in the host's network " +
      "namespace. Host unix socket files stay out of reach; abstract unix names are shared, so the command can " +
      "bind one that a host program connects to later.",
  ),
  allowConnect: described(
    v.array(
      v.pipe(
        v.number("must be a port number"),
        v.integer("must be a whole number"),
        v.minValue(1, "must be 1-65535"),
        v.maxValue(65535, "must be 1-65535"),
      ),
    ),
    "With network `none`: TCP ports the command may connect to (`--allow-connect`), " +
      "enforced by Landlock (ABI 4+). UDP and other protocols stay closed.",
  ),
  allowBind: described(
    v.array(
      v.pipe(
        v.number("must be a port number"),
        v.integer("must be a whole number"),
        v.minValue(0, "must be 0-65535"),
        v.maxValue(65535, "must be 0-65535"),
      ),
    ),
    "With network `none`: TCP ports the command may bind (`--allow-bind`), enforced by Landlock (ABI 4+). " +
      "Where a port rule shares the host's network namespace, see `network`.",
  ),
  tmp: described(
    v.picklist(TMP_KINDS, 'must be "private" or "host"'),
    "`private` (default): in bwrap mode the command gets its own empty `/tmp`, dropped after the run. `host`: " +
      "`/tmp` is the host's, read-only outside the write roots, and `TMPDIR` is a private directory cordon " +
      "creates and removes, as landlock-only mode always does. runok policies with a write root in `/tmp` get " +
      "`host`, as runok does: a write elsewhere in `/tmp` then fails instead of vanishing with a private `/tmp`.",
  ),
  allowSockets: described(
    v.array(PathSchema, "must be a list of paths"),
    "Host unix socket files the command may connect to (`--allow-socket`). Every other host socket " +
      "outside the write roots is out of reach in bwrap mode, and in landlock-only mode from Landlock ABI 9.",
  ),
  env: described(
    EnvSchema,
    "Changes to the command's environment: `clear` (bool), `allowList` (bool: keep only the CI allow-list " +
      "of the caller's variables, as `ci` does), `set` (name to value), `unset` (names). Secret-shaped " +
      "variables are removed in every profile unless set here (`--env NAME` passes the caller's value).",
  ),
  mode: described(
    v.picklist(MODES, `must be one of ${MODES.join(", ")}`),
    "`auto` (default), `bwrap` or `landlock` (`--mode`).",
  ),
  allowDegraded: described(
    v.array(v.picklist(DEGRADATION_NAMES, `must be one of ${DEGRADATION_NAMES.join(", ")}`)),
    "Weaker guarantees accepted by name, under --strict or where cordon refuses them by default " +
      `(\`metadata\` as root in landlock-only mode, \`cordon-writable\`): ` +
      `${DEGRADATION_NAMES.map((name) => `\`${name}\``).join(", ")}. \`shm\` also makes the host's /dev/shm ` +
      "writable in landlock-only mode (Python multiprocessing), sharing it with the user's other processes.",
  ),
  protectGit: described(
    v.boolean("must be true or false"),
    "Protect what git executes or trusts in every repository in the write roots (`workspace` and `ci` set it): " +
      "hooks, config, info/, commondir, gitdir: pointers, submodules' hooks and config, the core.hooksPath " +
      "directory and included config files stay read-only (bwrap mode) or are restored after the run " +
      "(landlock-only mode), while commits, branches, stashes and worktrees keep working. After the run, a " +
      "repository that appeared during it and could make git run a program is neutralised. See the README's " +
      "Git section.",
  ),
  protectFiles: described(
    v.array(ProjectFileName, "must be a list of names"),
    "Names kept write-protected at the top of each write root, and not creatable there, because programs on " +
      "the host run or trust them (editors, agents, direnv). `workspace` and `ci` protect " +
      `${PROJECT_FILES.map((name) => `\`${name}\``).join(", ")}. ` +
      "bwrap mode prevents changes (a read-only mount, or a placeholder where the name does not exist); " +
      "landlock-only mode restores them after the run.",
  ),
  releaseFiles: described(
    v.array(ProjectFileName, "must be a list of names"),
    "Names from `protectFiles` (the profile's included) that stay writable after all.",
  ),
  caches: described(
    v.array(v.picklist(CACHE_TOOLS, `must be one of ${CACHE_TOOLS.join(", ")}`)),
    "Package managers given a cache of their own in the write root that holds the working directory " +
      "(`--cache TOOL`): `<root>/.cache/<tool>`, through npm_config_cache, PIP_CACHE_DIR, UV_CACHE_DIR, " +
      "GOMODCACHE and GOCACHE, or CARGO_HOME (which also moves cargo's config and installed binaries). The " +
      "host's own caches stay read-only and unshared.",
  ),
  limits: described(LimitsSchema, LIMITS_DESCRIPTION),
  reveal: described(
    v.array(v.picklist(SECRET_NAMES, `must be one of ${SECRET_NAMES.join(", ")}`)),
    `Secure defaults not to hide (\`--reveal\`): ${SECRET_NAMES.map((name) => `\`${name}\``).join(", ")}.`,
  ),
};

export const ProfileSchema = v.strictObject(POLICY_FIELDS);

export const PolicyFileSchema = v.strictObject({
  ...POLICY_FIELDS,
  profile: described(
    v.pipe(v.string("must be a profile name"), v.minLength(1, "must not be empty")),
    "The profile this policy starts from (built-in or under `profiles`); `--profile` overrides it.",
  ),
  profiles: described(
    v.record(
      v.pipe(v.string(), v.regex(/^[\w.-]+$/, "profile names use letters, digits, '.', '_', '-'")),
      ProfileSchema,
    ),
    "Named profiles with the same fields as above, selectable with `--profile NAME`.",
  ),
});

export type PolicyLayer = v.InferOutput<typeof ProfileSchema>;
export type PolicyFile = v.InferOutput<typeof PolicyFileSchema>;

/** Changes to the command's environment, applied to the caller's. */
export interface EnvChanges {
  clear: boolean;
  /** Keep only the CI allow-list of the caller's variables (policy/environment.ts). */
  allowList: boolean;
  set: Record<string, string>;
  unset: string[];
}

/** The complete policy of one run, after profiles, files and flags are combined. */
export interface Policy {
  write: string[];
  denyWrite: string[];
  denyRead: string[];
  network: (typeof NETWORK)[number];
  tmp: TmpKind;
  allowConnect: number[];
  allowBind: number[];
  allowSockets: string[];
  env: EnvChanges;
  mode: (typeof MODES)[number];
  allowDegraded: DegradationName[];
  reveal: (typeof SECRET_NAMES)[number][];
  /** Protect what git executes or trusts in every repository of the write roots (policy/git.ts). */
  protectGit: boolean;
  /** Names protected at the top of each write root, before `releaseFiles` is taken out. */
  protectFiles: string[];
  releaseFiles: string[];
  /** Package managers pointed at a cache inside the write root (policy/caches.ts). */
  caches: CacheTool[];
  /** Resource limits and the timeout (policy/limits.ts). */
  limits: Limits;
}

export const EMPTY_POLICY: Policy = {
  write: [],
  denyWrite: [],
  denyRead: [],
  network: "none",
  tmp: "private",
  allowConnect: [],
  allowBind: [],
  allowSockets: [],
  env: { clear: false, allowList: false, set: {}, unset: [] },
  mode: "auto",
  allowDegraded: [],
  reveal: [],
  protectGit: false,
  protectFiles: [],
  releaseFiles: [],
  caches: [],
  limits: NO_LIMITS,
};
