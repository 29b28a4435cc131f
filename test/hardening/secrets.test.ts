// Secrets out of reach by default (issue 15): every listed environment
// variable and credential file is first shown readable without cordon, then
// absent from the command's view under cordon, in both modes, as root and as
// nobody. The actions/checkout layout of .git/config, with its include file,
// is masked in bwrap mode and refused in landlock-only mode.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { LEAKED_SECRETS } from "../policy/environment.test.ts";
import { cordon, modeArgs, NOBODY, run, systemTool, type RunOptions, nobodyUnavailable } from "../helpers/cordon.ts";

const MODES = systemTool("bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

const USERS = nobodyUnavailable() ? (["caller"] as const) : (["caller", "nobody"] as const);

/** Files hidden whole, relative to the fake home; the environment below points the tools there. */
const HIDDEN_FILES = [
  "xdg/gh/hosts.yml",
  "xdg/git/credentials",
  ".git-credentials",
  "xdg/containers/auth.json",
  "registry-auth.json",
  ".vault-token",
  "cargo/credentials.toml",
  "cargo/credentials",
  ".pgpass",
  ".bash_history",
  ".zsh_history",
  ".python_history",
  ".psql_history",
  ".mysql_history",
  ".node_repl_history",
  ".local/share/fish/fish_history",
  ".terraform.d/credentials.tfrc.json",
  "xdg/rclone/rclone.conf",
  ".azure/msal_token_cache.json",
  ".netrc",
  ".pypirc",
  ".ssh/id_ed25519",
  ".aws/credentials",
  ".kube/config",
  "runner-temp/git-credentials-4f1c.config",
  ".claude/.credentials.json",
  ".codex/auth.json",
  "xdg/github-copilot/apps.json",
  "xdg/glab-cli/config.yml",
  ".gem/credentials",
  "xdg/composer/auth.json",
  ".m2/settings-security.xml",
];

/**
 * Build tools' settings with a secret: copies in bwrap mode; hidden whole in
 * landlock-only mode, which has no variable to point these tools at a copy.
 */
const BUILD_TOOL_FILES: [string, string, string][] = [
  [".m2/settings.xml", "<settings><servers><server><id>kept-id</id><password>SECRET-m2</password></server>", "kept-id"],
  [".gradle/gradle.properties", "org.gradle.caching=true\nsigning.password=SECRET-gradle\n", "org.gradle.caching"],
  [".yarnrc.yml", 'npmRegistryServer: "https://kept.example"\nnpmAuthToken: SECRET-yarn\n', "kept.example"],
];

/** Files presented as a copy without the secret: [path, content with SECRET, a setting that must survive]. */
const REDACTED_FILES: [string, string, string][] = [
  [".npmrc", "@me:registry=https://npm.example/\n//npm.example/:_authToken=SECRET-npmrc\n", "@me:registry"],
  [".gitconfig", "[user]\n\tname = Tester\n[credential]\n\thelper = store --file=/SECRET-gitconfig\n", "Tester"],
  ["xdg/git/config", "[alias]\n\tst = status\n[sendemail]\n\tsmtpPass = SECRET-xdg-git\n", "st = status"],
  [
    "docker/config.json",
    '{"auths":{"ghcr.io":{"auth":"SECRET-docker"}},"credsStore":"SECRET-store","detachKeys":"ctrl-e"}',
    "detachKeys",
  ],
];

interface Home {
  dir: string;
  env: Record<string, string | undefined>;
}

function makeHome(owner?: number): Home {
  // Not under /tmp: bwrap mode gives the command a private /tmp.
  const dir = mkdtempSync("/var/tmp/cordon-secrets-");
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text, { mode: 0o600 });
  };
  for (const path of HIDDEN_FILES) write(path, `SECRET-${path}\n`);
  for (const [path, text] of [...REDACTED_FILES, ...BUILD_TOOL_FILES]) write(path, text);
  if (owner !== undefined) run(["chown", "-R", `${owner}:${owner}`, dir]);
  const env = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, "xdg"),
    XDG_DATA_HOME: undefined,
    DOCKER_CONFIG: join(dir, "docker"),
    CARGO_HOME: join(dir, "cargo"),
    REGISTRY_AUTH_FILE: join(dir, "registry-auth.json"),
    RUNNER_TEMP: join(dir, "runner-temp"),
    TF_CLI_CONFIG_FILE: undefined,
    GIT_CONFIG_GLOBAL: undefined,
    NPM_CONFIG_USERCONFIG: undefined,
    npm_config_userconfig: undefined,
  };
  return { dir, env };
}

const catAll = (dir: string, paths: readonly string[]) =>
  `for f in ${paths.map((path) => `'${join(dir, path)}'`).join(" ")}; do cat "$f"; echo; done 2>/dev/null; true`;

describe.each(USERS)("as %s", (user) => {
  const asNobody = user === "nobody";
  let home: Home;
  beforeAll(() => {
    home = makeHome(asNobody ? NOBODY : undefined);
  });
  afterAll(() => rmSync(home.dir, { recursive: true, force: true }));
  const options = (env: Record<string, string | undefined> = {}): RunOptions => ({
    cwd: home.dir,
    asNobody,
    env: { ...home.env, ...env },
  });

  test("without cordon, every listed file and secret is readable", () => {
    const all = [...HIDDEN_FILES, ...[...REDACTED_FILES, ...BUILD_TOOL_FILES].map(([path]) => path)];
    const out = run(["sh", "-c", catAll(home.dir, all)], options()).stdout;
    for (const path of HIDDEN_FILES) expect(out).toContain(`SECRET-${path}`);
    const secrets = ["SECRET-npmrc", "SECRET-gitconfig", "SECRET-xdg-git", "SECRET-docker", "SECRET-m2", "SECRET-yarn"];
    for (const secret of [...secrets, "SECRET-gradle"]) {
      expect(out).toContain(secret);
    }
  });

  describe.each(MODES)("in %s mode", (mode) => {
    const sandboxed = (args: string[], env: Record<string, string | undefined> = {}) =>
      cordon([...modeArgs(mode), ...args], options(env));

    test("every listed credential file is hidden; the redacted copies keep their settings", () => {
      const copies = [...REDACTED_FILES, ...BUILD_TOOL_FILES];
      const all = [...HIDDEN_FILES, ...copies.map(([path]) => path)];
      const result = sandboxed(["--", "sh", "-c", catAll(home.dir, all)]);
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).not.toContain("SECRET");
      if (mode === "bwrap") {
        for (const [, , kept] of copies) expect(result.stdout).toContain(kept);
      }
    });

    test("landlock-only mode points each tool at its redacted copy; bwrap mode binds the copy over the file", () => {
      const script = 'cat "${NPM_CONFIG_USERCONFIG:-$HOME/.npmrc}" "${DOCKER_CONFIG}/config.json"; git config --list';
      const result = sandboxed(["--", "sh", "-c", script]);
      expect(result.stdout).not.toContain("SECRET");
      for (const [, , kept] of REDACTED_FILES) expect(result.stdout).toContain(kept.replace(" = ", "="));
    });

    test("--reveal lifts one secure default by name", () => {
      const out = sandboxed(["--reveal", "vault", "--", "cat", join(home.dir, ".vault-token")]).stdout;
      expect(out).toContain("SECRET-.vault-token");
    });

    test("every listed environment variable is removed, -v names it (never its value), --env passes one", () => {
      const secrets = Object.fromEntries(LEAKED_SECRETS.map((name) => [name, `value-of-${name}`]));
      const env = { ...secrets, DATABASE_URL: "postgres://app:pw-in-url@db/app", PLAIN_SETTING: "kept" };
      expect(run(["env"], options(env)).stdout).toContain("value-of-OPENAI_API_KEY");
      const result = sandboxed(["-v", "--env", "HF_TOKEN", "--", "env"], env);
      expect(result.exitCode).toBe(0);
      for (const name of LEAKED_SECRETS.filter((name) => name !== "HF_TOKEN")) {
        expect(result.stdout).not.toContain(`${name}=`);
      }
      expect(result.stdout).not.toContain("pw-in-url");
      expect(result.stdout).toContain("HF_TOKEN=value-of-HF_TOKEN");
      expect(result.stdout).toContain("PLAIN_SETTING=kept");
      for (const name of ["OPENAI_API_KEY", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"]) {
        expect(result.stderr).toContain(name);
      }
      expect(result.stderr).not.toContain("value-of-");
      expect(result.stderr).not.toContain("pw-in-url");
    });

    test("--profile ci keeps only the allow-list; explain names what is removed", () => {
      const env = {
        GITHUB_TOKEN: "ghs_SECRET",
        GITHUB_SHA: "abc123",
        RUNNER_OS: "Linux",
        LC_ALL: "C.UTF-8",
        CI: "true",
        MY_APP_SETTING: "x",
        GITHUB_ENV: "/tmp/env-file",
      };
      const result = sandboxed(["--profile", "ci", "--", "env"], env);
      expect(result.exitCode).toBe(0);
      for (const kept of ["GITHUB_SHA=abc123", "RUNNER_OS=Linux", "LC_ALL=C.UTF-8", "CI=true", `HOME=${home.dir}`]) {
        expect(result.stdout).toContain(kept);
      }
      for (const gone of ["GITHUB_TOKEN", "MY_APP_SETTING", "GITHUB_ENV"]) expect(result.stdout).not.toContain(gone);
      const report = JSON.parse(
        cordon(["explain", ...modeArgs(mode), "--profile", "ci", "--json"], options(env)).stdout,
      ) as { environment: { removed: { name: string; why: string }[] } };
      expect(report.environment.removed).toContainEqual({ name: "GITHUB_TOKEN", why: "secret" });
      expect(report.environment.removed).toContainEqual({ name: "MY_APP_SETTING", why: "not-allowed" });
      expect(JSON.stringify(report)).not.toContain("ghs_SECRET");
    });

    test("--report names the removed variables, never their values", () => {
      const file = join(home.dir, `report-${mode}.json`);
      sandboxed(["--report", file, "--", "true"], { VAULT_TOKEN: "hvs-SECRET" });
      const text = readFileSync(file, "utf8");
      const report = JSON.parse(text) as {
        environmentRemoved: unknown[];
        redactedCopies: { path: string; secret: string; removed: string[] }[];
      };
      expect(report.environmentRemoved).toContainEqual({ name: "VAULT_TOKEN", why: "secret" });
      expect(report.redactedCopies).toContainEqual({
        path: join(home.dir, ".npmrc"),
        secret: "npmrc",
        removed: ["//npm.example/:_authToken"],
      });
      expect(text).not.toContain("SECRET");
    });

    test("explain says which file is hidden, which is a redacted copy, and what is not hidden", () => {
      const text = cordon(["explain", ...modeArgs(mode)], options()).stdout;
      expect(text).toContain(`hidden ${join(home.dir, ".vault-token")} (vault)`);
      const how = mode === "bwrap" ? "a redacted copy, bound read-only over it" : "hidden; the tool reads a redacted";
      expect(text).toContain(`${join(home.dir, ".npmrc")} (npmrc): ${how}`);
      expect(text).toContain("NOT hidden: files in the working directory");
      expect(text).not.toContain("SECRET");
    });

    // Review: a planted `.git/config -> ~/.npmrc` must not give the npm file git's redaction (which keeps its token).
    test("a .git/config symlink planted in a write root does not redirect another secret's redaction", () => {
      const ws = join(home.dir, `planted-${mode}`);
      mkdirSync(join(ws, ".git"), { recursive: true });
      symlinkSync(join(home.dir, ".npmrc"), join(ws, ".git/config"));
      if (asNobody) run(["chown", "-hR", `${NOBODY}:${NOBODY}`, ws]);
      expect(run(["cat", join(ws, ".git/config")], options()).stdout).toContain("SECRET-npmrc");
      const result = cordon([...modeArgs(mode), "-w", ".", "--", "sh", "-c", "cat .git/config; true"], {
        ...options(),
        cwd: ws,
      });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).not.toContain("SECRET");
    });

    describe("actions/checkout's credentials in .git/config", () => {
      let repo: string;
      beforeAll(() => {
        repo = join(home.dir, `repo-${mode}`);
        const git = (...args: string[]) => run(["git", "-C", repo, ...args], { asNobody, env: home.env });
        mkdirSync(repo);
        if (asNobody) chownSync(repo, NOBODY, NOBODY);
        git("init", "-q");
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "first");
        // Older actions/checkout: the header itself; newer: an include of a file under $RUNNER_TEMP.
        git("config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic SECRET-extraheader");
        const include = join(home.dir, `runner-temp/git-credentials-${mode}.config`);
        writeFileSync(include, '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic SECRET-include\n');
        if (asNobody) chownSync(include, NOBODY, NOBODY);
        git("config", `includeIf.gitdir:${repo}/.git.path`, include);
      });
      // The home is the other tests' write root: a token left below it would (rightly) refuse their ci runs.
      afterAll(() => rmSync(repo, { recursive: true, force: true }));

      test("without cordon, git shows the token", () => {
        const out = run(["git", "-C", repo, "config", "--list"], { asNobody, env: home.env }).stdout;
        expect(out).toContain("SECRET-extraheader");
        expect(out).toContain("SECRET-include");
      });

      test(
        mode === "bwrap"
          ? "bwrap mode masks it in a copy of .git/config and hides the include; git works"
          : "landlock-only mode refuses (125), naming persist-credentials: false",
        () => {
          const script = "cat .git/config; git config --list; git log --oneline; echo status=$?";
          const result = cordon([...modeArgs(mode), "--profile", "ci", "--", "sh", "-c", script], {
            ...options(),
            cwd: repo,
          });
          if (mode === "bwrap") {
            expect(result.exitCode).toBe(0);
            expect(result.stdout).not.toContain("SECRET");
            expect(result.stdout).not.toContain("extraheader");
            expect(result.stdout).toContain("first");
            expect(result.stdout).toContain("status=0");
          } else {
            expect(result.exitCode).toBe(125);
            expect(result.stdout).toBe("");
            expect(result.stderr).toContain("persist-credentials: false");
            expect(result.stderr).not.toContain("SECRET");
          }
        },
      );
    });
  });
});
