// Which of the caller's environment variables reach the command: the one
// source of truth for the secret-shaped names removed in every profile and
// for the allow-list the `ci` profile starts from. Pure: the names and values
// come from the host facts, and only names ever leave this module.

/** Why a variable of the caller's was kept from the command. */
export type RemovalReason = "secret" | "credential-value" | "not-allowed";

export interface RemovedVariable {
  name: string;
  why: RemovalReason;
}

export interface HostVariable {
  name: string;
  value: string;
}

/**
 * Secret names no pattern below catches: tokens and the endpoints that only
 * work with them, handed out by CI systems, clouds and package registries.
 */
export const SECRET_VARIABLES = [
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_CACHE_URL",
  "ACTIONS_RESULTS_URL",
  "ACTIONS_RUNTIME_URL",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "BW_SESSION",
  "CI_JOB_JWT",
  "CI_JOB_JWT_V2",
  "DOCKER_AUTH_CONFIG",
  "GOOGLE_CREDENTIALS",
  "NPM_CONFIG__AUTH",
  "PGPASSWORD",
  "SENTRY_DSN",
  "SSHPASS",
] as const;

/**
 * Words that make a variable secret-shaped wherever they stand in its name
 * (split at `_` and other non-alphanumerics, case-insensitive):
 * `GITHUB_TOKEN`, `AWS_SECRET_ACCESS_KEY`, `TWINE_PASSWORD`,
 * `GOOGLE_APPLICATION_CREDENTIALS`. Whole words only, so that
 * `TOKENIZERS_PARALLELISM`, `SSH_ASKPASS` and `SSH_AUTH_SOCK` (a socket's
 * path; the socket itself is the `ssh-agent` secure default) stay. Some
 * harmless names are removed too (`PASSWORD_STORE_DIR`, `GPG_KEY`):
 * `--env NAME` passes one on purpose.
 */
export const SECRET_WORDS = [
  "TOKEN",
  "TOKENS",
  "AUTHTOKEN",
  "SECRET",
  "SECRETS",
  "PASSWORD",
  "PASSWD",
  "PASSPHRASE",
  "CREDENTIAL",
  "CREDENTIALS",
  "APIKEY",
  "JWT",
  "COOKIE",
  "WEBHOOK",
  "ACCESSTOKEN",
  "CLIENTSECRET",
  "CONNECTIONSTRING",
] as const;

/**
 * Two words in a row that name a key (`OPENAI_API_KEY`, `AWS_ACCESS_KEY_ID`,
 * `DEPLOY_PRIVATE_KEY`); a name that ends in `KEY`, `KEYS` or `AUTH`, or in
 * `PAT` (a personal access token), is secret-shaped too.
 */
export const SECRET_WORD_PAIRS = [
  ["API", "KEY"],
  ["ACCESS", "KEY"],
  ["PRIVATE", "KEY"],
  ["SECRET", "KEY"],
  ["SIGNING", "KEY"],
  ["ENCRYPTION", "KEY"],
  ["MASTER", "KEY"],
  ["SESSION", "KEY"],
  ["CONNECTION", "STRING"],
] as const;
/** Last words: `MYSQL_PWD` and `SMTP_PASS` are passwords; `PWD` alone is the working directory and stays. */
export const SECRET_LAST_WORDS = ["KEY", "KEYS", "AUTH", "PAT", "PWD", "PASS"] as const;
/** 1Password's session variables carry the account in their names. */
export const SECRET_PREFIXES = ["OP_SESSION_"] as const;

/**
 * What `--profile ci` keeps of the caller's environment (secret-shaped names
 * are removed even from these): the basics every tool expects, the runner's
 * own non-secret description of the job, and toolchain locations that setup
 * actions export. `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_OUTPUT`, `GITHUB_STATE`
 * and `GITHUB_STEP_SUMMARY` are left out on purpose: they name files that
 * shape the job's later, unsandboxed steps.
 */
export const CI_ALLOWED_VARIABLES = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "HOSTNAME",
  "LANG",
  "LANGUAGE",
  "TERM",
  "COLORTERM",
  "NO_COLOR",
  "FORCE_COLOR",
  "TZ",
  "CI",
  "DEBIAN_FRONTEND",
  "XDG_CONFIG_HOME",
  "XDG_CACHE_HOME",
  "XDG_DATA_HOME",
  "XDG_STATE_HOME",
  "XDG_RUNTIME_DIR",
  "GITHUB_ACTIONS",
  "GITHUB_ACTION",
  "GITHUB_ACTOR",
  "GITHUB_ACTOR_ID",
  "GITHUB_API_URL",
  "GITHUB_BASE_REF",
  "GITHUB_EVENT_NAME",
  "GITHUB_EVENT_PATH",
  "GITHUB_GRAPHQL_URL",
  "GITHUB_HEAD_REF",
  "GITHUB_JOB",
  "GITHUB_REF",
  "GITHUB_REF_NAME",
  "GITHUB_REF_PROTECTED",
  "GITHUB_REF_TYPE",
  "GITHUB_REPOSITORY",
  "GITHUB_REPOSITORY_ID",
  "GITHUB_REPOSITORY_OWNER",
  "GITHUB_REPOSITORY_OWNER_ID",
  "GITHUB_RETENTION_DAYS",
  "GITHUB_RUN_ATTEMPT",
  "GITHUB_RUN_ID",
  "GITHUB_RUN_NUMBER",
  "GITHUB_SERVER_URL",
  "GITHUB_SHA",
  "GITHUB_TRIGGERING_ACTOR",
  "GITHUB_WORKFLOW",
  "GITHUB_WORKFLOW_REF",
  "GITHUB_WORKFLOW_SHA",
  "GITHUB_WORKSPACE",
  "RUNNER_ARCH",
  "RUNNER_DEBUG",
  "RUNNER_ENVIRONMENT",
  "RUNNER_NAME",
  "RUNNER_OS",
  "RUNNER_TEMP",
  "RUNNER_TOOL_CACHE",
  "RUNNER_WORKSPACE",
  "ImageOS",
  "ImageVersion",
  "AGENT_TOOLSDIRECTORY",
  "GITLAB_CI",
  "JAVA_HOME",
  "GOROOT",
  "GOPATH",
  "GOMODCACHE",
  "GOCACHE",
  "CARGO_HOME",
  "RUSTUP_HOME",
  "NVM_DIR",
  "PNPM_HOME",
  "VIRTUAL_ENV",
  "pythonLocation",
  "PKG_CONFIG_PATH",
  "LD_LIBRARY_PATH",
  "ANDROID_HOME",
  "ANDROID_SDK_ROOT",
  "DOTNET_ROOT",
] as const;

/**
 * Families of names `ci` keeps: locales (`LC_ALL`, `LC_CTYPE`...), GitLab's
 * predefined `CI_*` variables (its tokens and passwords are secret-shaped and
 * removed all the same), setup-java's `JAVA_HOME_17_X64` and setup-python's
 * `Python3_ROOT_DIR`.
 */
export const CI_ALLOWED_PREFIXES = ["LC_", "CI_", "JAVA_HOME_", "Python"] as const;

const EXACT = new Set<string>(SECRET_VARIABLES);
const WORDS = new Set<string>(SECRET_WORDS);
const LAST_WORDS = new Set<string>(SECRET_LAST_WORDS);
const ALLOWED = new Set<string>(CI_ALLOWED_VARIABLES);

function wordsOf(name: string): string[] {
  return name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter(Boolean);
}

/** Whether a variable's name alone marks it as a secret. */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (EXACT.has(upper) || SECRET_PREFIXES.some((prefix) => upper.startsWith(prefix))) return true;
  const words = wordsOf(name);
  if (words.some((word) => WORDS.has(word))) return true;
  if (words.length > 1 && LAST_WORDS.has(words[words.length - 1]!)) return true;
  return words.some((word, at) => SECRET_WORD_PAIRS.some(([a, b]) => word === a && words[at + 1] === b));
}

/**
 * `postgres://app:hunter2@db/app`: a URL that carries a password, anywhere in
 * the value, since lists hold several (`PIP_EXTRA_INDEX_URL`'s second URL,
 * uv's `name=https://u:pw@…`, `GOPROXY=direct,https://u:pw@…`).
 */
const URL_WITH_PASSWORD = /(?:^|[^a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;

export function containsCredentialUrl(value: string): boolean {
  return URL_WITH_PASSWORD.test(value);
}

/**
 * An HTTP header that carries a credential, wherever it sits in a value: git
 * takes `http.extraheader` from `GIT_CONFIG_PARAMETERS` or
 * `GIT_CONFIG_VALUE_<n>`, whose names say nothing secret. Authorization with
 * its schemes, and the token headers of GitLab (`PRIVATE-TOKEN`,
 * `JOB-TOKEN`), API gateways (`X-API-Key`) and others.
 */
const CREDENTIAL_HEADER = new RegExp(
  [
    String.raw`(?:proxy-)?authorization:\s*(?:basic|bearer|token|digest|negotiate|ntlm)\s+\S`,
    String.raw`\b(?:private-token|job-token|deploy-token|x-api-key|api-key|x-auth-token|x-access-token):\s*\S`,
    String.raw`\b(?:x-goog-api-key|cookie):\s*\S`,
  ].join("|"),
  "i",
);

/** A PEM private key (`-----BEGIN RSA PRIVATE KEY-----`, `-----BEGIN PGP PRIVATE KEY BLOCK-----`...). */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/i;

/** A value that is a credential whatever its variable (or its config key) is called. */
export function isCredentialValue(value: string): boolean {
  return containsCredentialUrl(value) || CREDENTIAL_HEADER.test(value) || PEM_PRIVATE_KEY.test(value);
}

export function isAllowedInCi(name: string): boolean {
  return ALLOWED.has(name) || CI_ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The policy's say over the caller's environment. */
interface EnvironmentPolicy {
  /** Start from nothing: nothing of the caller's is inherited, so nothing is removed. */
  clear: boolean;
  /** The `ci` profile: start from the allow-list. */
  allowList: boolean;
  /** Set explicitly (`--env NAME` passes the caller's value this way): never removed. */
  set: Readonly<Record<string, string>>;
}

function removalOf(variable: HostVariable, policy: EnvironmentPolicy): RemovalReason | undefined {
  if (isSecretName(variable.name)) return "secret";
  if (isCredentialValue(variable.value)) return "credential-value";
  if (policy.allowList && !isAllowedInCi(variable.name)) return "not-allowed";
  return undefined;
}

/**
 * The caller's variables the command does not get, by name, with why. A
 * variable the policy sets (or passes on purpose with `--env NAME`) is the
 * policy's own choice and is never listed.
 */
export function environmentRemovals(variables: readonly HostVariable[], policy: EnvironmentPolicy): RemovedVariable[] {
  if (policy.clear) return [];
  const removed = new Map<string, RemovalReason>();
  for (const variable of variables) {
    if (Object.hasOwn(policy.set, variable.name)) continue;
    const why = removalOf(variable, policy);
    if (why) removed.set(variable.name, why);
  }
  return [...removed].map(([name, why]) => ({ name, why }));
}
