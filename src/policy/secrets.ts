// Secure defaults: credential stores and host control sockets every profile
// hides unless a policy reveals them by name. Only paths that exist are
// hidden. Where hiding a whole file would cost the user working settings
// (~/.npmrc, ~/.gitconfig, Docker's config.json) or break git (a checkout's
// .git/config), the command sees a copy with the secret lines removed
// instead (plan/redact.ts). Locations follow the variables the tools
// themselves read ($XDG_CONFIG_HOME, $DOCKER_CONFIG, $CARGO_HOME...), taken
// from the caller's environment.
import { resolve as resolvePath } from "node:path";
import { GIT_SEARCH } from "./git-dirs.ts";
import type { SECRET_NAMES } from "./schema.ts";

export type SecretName = (typeof SECRET_NAMES)[number];

export interface SecretContext {
  home: string;
  env: Record<string, string | undefined>;
  /**
   * The git directories of the working directory's and the write roots'
   * repositories, of every repository below the write roots within
   * GIT_SEARCH, and of their submodules (policy/git-dirs.ts).
   */
  gitDirs: readonly string[];
}

/** How a redacted copy is made: which lines or fields are secret. */
export type RedactFormat = "npmrc" | "git-config" | "docker-config" | "properties" | "yarnrc" | "maven-settings";

/**
 * Landlock-only mode cannot put a copy over a file: either the file is
 * hidden and the tool is pointed at the copy by these variables (a
 * directory variable gets the copy's directory), or, where no variable
 * names the file alone, it is hidden whole ("hide": its settings are lost
 * for the run) or the run is refused ("refuse": hiding would break the tool).
 */
export type LandlockRedaction = { env: readonly string[]; directory?: boolean } | "hide" | "refuse";

interface SecretDefault {
  what: string;
  /** Hidden whole. The last component may be a glob. */
  hide?: (context: SecretContext) => string[];
  /** Presented as a copy with the secret lines removed. */
  redact?: { format: RedactFormat; paths: (context: SecretContext) => string[]; landlock: LandlockRedaction };
}

const home = (rest: string) => (context: SecretContext) => [`${context.home}/${rest}`];
const set = (value: string | undefined): string[] => (value ? [value] : []);

function runtimeDir(context: SecretContext): string[] {
  return set(context.env.XDG_RUNTIME_DIR);
}

/** $XDG_CONFIG_HOME, or ~/.config when it is unset (XDG Base Directory specification). */
function configHome(context: SecretContext): string {
  return context.env.XDG_CONFIG_HOME || `${context.home}/.config`;
}

/**
 * $XDG_CONFIG_HOME and ~/.config both: a tool run without the variable (a
 * child that clears it, a script that sets HOME) reads the default, so a
 * secret there is covered whatever the variable says.
 */
function configHomes(context: SecretContext): string[] {
  return [...new Set([configHome(context), `${context.home}/.config`])];
}

/**
 * A tool's default file, when its variable points elsewhere: the tool does
 * not read it then, so it is hidden whole (a copy would keep nothing used),
 * but it still holds the secret.
 */
function unusedDefault(chosen: string, fallback: string): string[] {
  return resolvePath(chosen) === resolvePath(fallback) ? [] : [fallback];
}

function dataHome(context: SecretContext): string {
  return context.env.XDG_DATA_HOME || `${context.home}/.local/share`;
}

function dockerConfig(context: SecretContext): string {
  return `${context.env.DOCKER_CONFIG || `${context.home}/.docker`}/config.json`;
}

function npmrc(context: SecretContext): string {
  return context.env.NPM_CONFIG_USERCONFIG || context.env.npm_config_userconfig || `${context.home}/.npmrc`;
}

function sessionBusPath(context: SecretContext): string[] {
  const address = context.env.DBUS_SESSION_BUS_ADDRESS ?? "";
  const match = /unix:path=([^,;]+)/.exec(address);
  return [...(match ? [match[1]!] : []), ...runtimeDir(context).map((dir) => `${dir}/bus`)];
}

/** Shell and REPL histories: typed passwords and tokens end up there. */
function histories(context: SecretContext): string[] {
  const names = [
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".sh_history",
    ".python_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".node_repl_history",
    ".rediscli_history",
    ".irb_history",
    ".lesshst",
  ];
  return [
    ...names.map((name) => `${context.home}/${name}`),
    `${dataHome(context)}/fish/fish_history`,
    ...set(context.env.HISTFILE),
  ];
}

export const SECRETS: Record<SecretName, SecretDefault> = {
  ssh: { what: "SSH keys (~/.ssh)", hide: home(".ssh") },
  gnupg: { what: "GnuPG keys (~/.gnupg)", hide: home(".gnupg") },
  aws: {
    what: "AWS credentials (~/.aws, $AWS_SHARED_CREDENTIALS_FILE, $AWS_CONFIG_FILE)",
    hide: (c) => [`${c.home}/.aws`, ...set(c.env.AWS_SHARED_CREDENTIALS_FILE), ...set(c.env.AWS_CONFIG_FILE)],
  },
  gcloud: {
    what: "Google Cloud credentials ($XDG_CONFIG_HOME/gcloud, $CLOUDSDK_CONFIG, $GOOGLE_APPLICATION_CREDENTIALS)",
    hide: (c) => [
      ...configHomes(c).map((dir) => `${dir}/gcloud`),
      ...set(c.env.CLOUDSDK_CONFIG),
      ...set(c.env.GOOGLE_APPLICATION_CREDENTIALS),
    ],
  },
  azure: {
    what: "Azure CLI credentials (~/.azure, $AZURE_CONFIG_DIR)",
    hide: (c) => [...new Set([c.env.AZURE_CONFIG_DIR || `${c.home}/.azure`, `${c.home}/.azure`])],
  },
  kube: {
    what: "Kubernetes config (~/.kube, every file of $KUBECONFIG)",
    hide: (c) => [`${c.home}/.kube`, ...(c.env.KUBECONFIG ?? "").split(":").filter(Boolean)],
  },
  "docker-config": {
    what:
      "Docker registry credentials in $DOCKER_CONFIG/config.json (~/.docker/config.json): a copy without them; " +
      "~/.docker/config.json hidden when $DOCKER_CONFIG points elsewhere",
    hide: (c) => unusedDefault(dockerConfig(c), `${c.home}/.docker/config.json`),
    redact: {
      format: "docker-config",
      paths: (c) => [dockerConfig(c)],
      landlock: { env: ["DOCKER_CONFIG"], directory: true },
    },
  },
  "containers-auth": {
    what:
      "Podman/Buildah/Skopeo registry credentials ($XDG_CONFIG_HOME/containers/auth.json, " +
      "$XDG_RUNTIME_DIR/containers/auth.json, $REGISTRY_AUTH_FILE)",
    hide: (c) => [
      ...configHomes(c).map((dir) => `${dir}/containers/auth.json`),
      ...runtimeDir(c).map((dir) => `${dir}/containers/auth.json`),
      ...set(c.env.REGISTRY_AUTH_FILE),
    ],
  },
  netrc: { what: "~/.netrc, $NETRC", hide: (c) => [`${c.home}/.netrc`, ...set(c.env.NETRC)] },
  "git-credentials": {
    what: "git's credential store (~/.git-credentials, $XDG_CONFIG_HOME/git/credentials)",
    hide: (c) => [`${c.home}/.git-credentials`, ...configHomes(c).map((dir) => `${dir}/git/credentials`)],
  },
  gitconfig: {
    what:
      "credentials in git's global config (~/.gitconfig, $XDG_CONFIG_HOME/git/config, $GIT_CONFIG_GLOBAL, " +
      "and the files they include): a copy without credential helpers, extra headers, URLs with passwords, " +
      "password and token keys; ~/.config/git/config hidden when $XDG_CONFIG_HOME points elsewhere",
    hide: (c) => unusedDefault(`${configHome(c)}/git/config`, `${c.home}/.config/git/config`),
    redact: {
      format: "git-config",
      paths: (c) => [`${configHome(c)}/git/config`, `${c.home}/.gitconfig`, ...set(c.env.GIT_CONFIG_GLOBAL)],
      landlock: { env: ["GIT_CONFIG_GLOBAL"] },
    },
  },
  "git-checkout-token": {
    what:
      "a CI checkout token: the extra header or credentials include actions/checkout writes to the config " +
      "of every repository and submodule in the write roots (.git/config, .git/modules/**/config; a copy " +
      "without it), and $RUNNER_TEMP/git-credentials-*.config",
    hide: (c) => (c.env.RUNNER_TEMP ? [`${c.env.RUNNER_TEMP}/git-credentials-*.config`] : []),
    redact: {
      format: "git-config",
      // config.worktree too: git reads it with extensions.worktreeConfig, and it takes the same keys.
      paths: (c) => c.gitDirs.flatMap((dir) => [`${dir}/config`, `${dir}/config.worktree`]),
      landlock: "refuse",
    },
  },
  gh: {
    what: "GitHub CLI tokens ($GH_CONFIG_DIR/hosts.yml, $XDG_CONFIG_HOME/gh/hosts.yml, ~/.config/gh/hosts.yml)",
    hide: (c) => [
      ...new Set([
        `${c.env.GH_CONFIG_DIR || `${configHome(c)}/gh`}/hosts.yml`,
        ...configHomes(c).map((dir) => `${dir}/gh/hosts.yml`),
      ]),
    ],
  },
  npmrc: {
    what:
      "npm tokens in $NPM_CONFIG_USERCONFIG (~/.npmrc): a copy without _auth, _authToken, _password and key " +
      "lines; ~/.npmrc hidden when $NPM_CONFIG_USERCONFIG points elsewhere",
    hide: (c) => unusedDefault(npmrc(c), `${c.home}/.npmrc`),
    redact: {
      format: "npmrc",
      paths: (c) => [npmrc(c)],
      landlock: { env: ["NPM_CONFIG_USERCONFIG", "npm_config_userconfig"] },
    },
  },
  pypirc: { what: "PyPI tokens (~/.pypirc)", hide: home(".pypirc") },
  cargo: {
    what: "Cargo registry tokens ($CARGO_HOME/credentials.toml, $CARGO_HOME/credentials; ~/.cargo too)",
    hide: (c) =>
      [...new Set([c.env.CARGO_HOME || `${c.home}/.cargo`, `${c.home}/.cargo`])].flatMap((dir) => [
        `${dir}/credentials.toml`,
        `${dir}/credentials`,
      ]),
  },
  vault: { what: "the HashiCorp Vault token (~/.vault-token)", hide: home(".vault-token") },
  terraform: {
    what: "Terraform credentials (~/.terraform.d/credentials.tfrc.json, ~/.terraformrc, $TF_CLI_CONFIG_FILE)",
    hide: (c) => [
      `${c.home}/.terraform.d/credentials.tfrc.json`,
      `${c.home}/.terraformrc`,
      ...set(c.env.TF_CLI_CONFIG_FILE),
    ],
  },
  rclone: {
    what: "rclone remotes ($XDG_CONFIG_HOME/rclone/rclone.conf, ~/.rclone.conf, $RCLONE_CONFIG)",
    hide: (c) => [
      ...configHomes(c).map((dir) => `${dir}/rclone/rclone.conf`),
      `${c.home}/.rclone.conf`,
      ...set(c.env.RCLONE_CONFIG),
    ],
  },
  pgpass: {
    what: "PostgreSQL passwords (~/.pgpass, $PGPASSFILE)",
    hide: (c) => [`${c.home}/.pgpass`, ...set(c.env.PGPASSFILE)],
  },
  claude: {
    what: "Claude Code's login (~/.claude/.credentials.json, $CLAUDE_CONFIG_DIR/.credentials.json)",
    hide: (c) =>
      [...new Set([c.env.CLAUDE_CONFIG_DIR || `${c.home}/.claude`, `${c.home}/.claude`])].map(
        (dir) => `${dir}/.credentials.json`,
      ),
  },
  codex: {
    what: "Codex CLI's login (~/.codex/auth.json, $CODEX_HOME/auth.json)",
    hide: (c) =>
      [...new Set([c.env.CODEX_HOME || `${c.home}/.codex`, `${c.home}/.codex`])].map((d) => `${d}/auth.json`),
  },
  copilot: {
    what: "GitHub Copilot's tokens ($XDG_CONFIG_HOME/github-copilot/apps.json and hosts.json)",
    hide: (c) =>
      configHomes(c).flatMap((dir) => [`${dir}/github-copilot/apps.json`, `${dir}/github-copilot/hosts.json`]),
  },
  glab: {
    what: "GitLab CLI tokens ($XDG_CONFIG_HOME/glab-cli/config.yml, $GLAB_CONFIG_DIR/config.yml)",
    hide: (c) =>
      [...new Set([...configHomes(c).map((dir) => `${dir}/glab-cli`), ...set(c.env.GLAB_CONFIG_DIR)])].map(
        (dir) => `${dir}/config.yml`,
      ),
  },
  gem: {
    what: "RubyGems API keys (~/.gem/credentials, $XDG_CONFIG_HOME/gem/credentials)",
    hide: (c) => [`${c.home}/.gem/credentials`, ...configHomes(c).map((dir) => `${dir}/gem/credentials`)],
  },
  composer: {
    what: "Composer's auth.json ($COMPOSER_HOME/auth.json, $XDG_CONFIG_HOME/composer/auth.json, ~/.composer)",
    hide: (c) =>
      [
        ...new Set([
          ...set(c.env.COMPOSER_HOME),
          ...configHomes(c).map((dir) => `${dir}/composer`),
          `${c.home}/.composer`,
        ]),
      ].map((dir) => `${dir}/auth.json`),
  },
  maven: {
    what:
      "Maven servers' and proxies' passwords in ~/.m2/settings.xml (a copy without them; hidden whole in " +
      "landlock-only mode), and ~/.m2/settings-security.xml (its master password)",
    hide: home(".m2/settings-security.xml"),
    redact: { format: "maven-settings", paths: home(".m2/settings.xml"), landlock: "hide" },
  },
  gradle: {
    what:
      "Gradle's password, token, secret and key properties in $GRADLE_USER_HOME/gradle.properties " +
      "(~/.gradle/gradle.properties): a copy without them; hidden whole in landlock-only mode",
    redact: {
      format: "properties",
      paths: (c) =>
        [...new Set([c.env.GRADLE_USER_HOME || `${c.home}/.gradle`, `${c.home}/.gradle`])].map(
          (dir) => `${dir}/gradle.properties`,
        ),
      landlock: "hide",
    },
  },
  yarnrc: {
    what:
      "Yarn's npmAuthToken and npmAuthIdent in ~/.yarnrc.yml: a copy without them; hidden whole in " +
      "landlock-only mode",
    redact: { format: "yarnrc", paths: home(".yarnrc.yml"), landlock: "hide" },
  },
  "shell-history": {
    what:
      "shell and REPL histories (bash, zsh, fish, sh, python, psql, mysql, sqlite, node, redis, irb, less; " +
      "$HISTFILE)",
    hide: histories,
  },
  "docker-socket": {
    what: "the Docker daemon socket",
    hide: (context) => [
      "/var/run/docker.sock",
      "/run/docker.sock",
      ...runtimeDir(context).map((dir) => `${dir}/docker.sock`),
    ],
  },
  "containerd-socket": { what: "the containerd socket", hide: () => ["/run/containerd/containerd.sock"] },
  "podman-socket": {
    what: "the Podman socket",
    hide: (context) => ["/run/podman/podman.sock", ...runtimeDir(context).map((dir) => `${dir}/podman/podman.sock`)],
  },
  "session-bus": { what: "the D-Bus session bus (desktop keyrings answer there)", hide: sessionBusPath },
  "ssh-agent": { what: "the SSH agent socket ($SSH_AUTH_SOCK)", hide: ({ env }) => set(env.SSH_AUTH_SOCK) },
  "gpg-agent": {
    what: "the GnuPG agent sockets",
    hide: (context) => runtimeDir(context).map((dir) => `${dir}/gnupg`),
  },
};

/**
 * What the secure defaults do not cover, said in `explain` and the README
 * (a test keeps the two the same): a credential cordon does not know by
 * name is readable like any other file.
 */
export const NOT_HIDDEN = [
  "files in the working directory and the write roots (.env files, keys committed to the project): " +
    "--deny-read them",
  `the config of a repository more than ${GIT_SEARCH.depth} directories below a write root, inside ` +
    `${GIT_SEARCH.skip.join(", ")}, or beyond the first ${GIT_SEARCH.directories} directories searched ` +
    "(its checkout token is not masked): keep such checkouts out of the write roots, or --deny-read them",
  "credential files of tools not listed above, anywhere the user can read them (browser profiles, " +
    "other ~/.config directories): --deny-read them",
  "environment variables whose names do not look secret and whose values hold no URL with a password, " +
    "no credential header and no PEM private key " +
    "(--unset-env them, or --profile ci / --clear-env to start from an allow-list)",
  "the command's own arguments, and whatever the policy sets with --env",
  "in landlock-only mode, host unix sockets, the listed ones included: Landlock before ABI 9 cannot stop " +
    "connect(2) to an agent or keyring daemon (auto mode does not fall back to it while such sockets exist)",
] as const;

/** Every candidate path of each secret hidden whole that is not revealed. */
export function hiddenSecrets(
  reveal: readonly SecretName[],
  context: SecretContext,
): { name: SecretName; path: string }[] {
  return (Object.keys(SECRETS) as SecretName[])
    .filter((name) => !reveal.includes(name))
    .flatMap((name) => (SECRETS[name].hide?.(context) ?? []).map((path) => ({ name, path })));
}

/** Every candidate file of each secret presented as a redacted copy that is not revealed. */
export function redactedSecrets(
  reveal: readonly SecretName[],
  context: SecretContext,
): { name: SecretName; path: string; format: RedactFormat }[] {
  return (Object.keys(SECRETS) as SecretName[])
    .filter((name) => !reveal.includes(name))
    .flatMap((name) => {
      const redact = SECRETS[name].redact;
      return redact ? redact.paths(context).map((path) => ({ name, path, format: redact.format })) : [];
    });
}
