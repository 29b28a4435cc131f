// Adversarial review of issue 15's secrets half (secret-shaped variables
// removed, credential files hidden or presented as redacted copies, the CI
// checkout token masked or refused). Each test shows the attack working
// without cordon first, then asserts what cordon does; all thirteen holes are
// closed (a hole found later runs as a holeTest, test.failing, naming it).
//
// Every fixture lives in a fresh home under /var/tmp (bwrap mode gives the
// command a private /tmp), removed afterwards.
import { afterAll, beforeAll, describe, expect } from "bun:test";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { attackTest, hostDir, removeDir } from "../helpers/attacks.ts";
import { cordon, missingTool, modeArgs, run, systemTool, type RunResult } from "../helpers/cordon.ts";

const MODES = systemTool("bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);
const gitMissing = missingTool("git");

const scratch = hostDir("cordon-rv-secrets-");
afterAll(() => removeDir(scratch));

let homes = 0;
/** A fresh home with `files` (relative path → text), and the environment that points every tool there. */
function makeHome(files: Record<string, string> = {}): { dir: string; env: Record<string, string | undefined> } {
  const dir = join(scratch, `home-${++homes}`);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text, { mode: 0o600 });
  }
  const env: Record<string, string | undefined> = { HOME: dir };
  for (const name of [
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DOCKER_CONFIG",
    "CARGO_HOME",
    "GH_CONFIG_DIR",
    "GIT_CONFIG_GLOBAL",
    "NPM_CONFIG_USERCONFIG",
    "npm_config_userconfig",
    "RUNNER_TEMP",
    "GIT_DIR",
  ]) {
    env[name] = undefined;
  }
  return { dir, env };
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
};

function git(cwd: string, env: Record<string, string | undefined>, ...args: string[]): RunResult {
  const result = run(["git", ...args], { cwd, env: { ...env, ...GIT_IDENTITY } });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
  return result;
}

/** The same script without cordon and under cordon in `mode`. */
function both(
  mode: string,
  script: string,
  options: { cwd: string; env: Record<string, string | undefined>; extra?: string[] },
): { host: RunResult; sandboxed: RunResult } {
  const host = run(["sh", "-c", script], options);
  const sandboxed = cordon([...modeArgs(mode), "-q", ...(options.extra ?? []), "--", "sh", "-c", script], options);
  return { host, sandboxed };
}

describe.each(MODES)("in %s mode", (mode) => {
  // --- the CI checkout token -------------------------------------------------------------------

  attackTest(
    "--profile ci: the checkout token in a submodule's config and in a second checkout's .git/config is masked " +
      "(refused in landlock-only mode)",
    [gitMissing],
    () => {
      const { dir, env } = makeHome();
      const sub = join(dir, "sub");
      const ws = join(dir, "ws");
      mkdirSync(sub);
      mkdirSync(ws);
      git(sub, env, "init", "-q");
      git(sub, env, "commit", "-q", "--allow-empty", "-m", "s");
      git(ws, env, "init", "-q");
      git(ws, env, "commit", "-q", "--allow-empty", "-m", "first");
      git(ws, env, "-c", "protocol.file.allow=always", "submodule", "add", "-q", "../sub", "lib");
      git(ws, env, "commit", "-q", "-m", "submodule");
      const header = "http.https://github.com/.extraheader";
      git(join(ws, "lib"), env, "config", "--local", header, "AUTHORIZATION: basic SECRET-submodule");
      mkdirSync(join(ws, "tools"));
      git(join(ws, "tools"), env, "init", "-q");
      git(join(ws, "tools"), env, "config", "--local", header, "AUTHORIZATION: basic SECRET-second-checkout");
      const script = "cat .git/modules/lib/config tools/.git/config; git -C lib config --get-regexp extraheader; true";
      const { host, sandboxed } = both(mode, script, { cwd: ws, env, extra: ["--profile", "ci"] });
      expect(host.stdout).toContain("SECRET-submodule");
      expect(host.stdout).toContain("SECRET-second-checkout");
      expect(sandboxed.stdout).not.toContain("SECRET");
      if (mode === "landlock") {
        expect(sandboxed.exitCode).toBe(125);
        expect(sandboxed.stderr).toContain("persist-credentials: false");
      } else {
        expect(sandboxed.exitCode).toBe(0);
        expect(sandboxed.stdout).toContain("[core]");
      }
    },
  );

  attackTest(
    "--profile ci: a .git/config with CRLF line endings has its extraheader masked (refused in landlock-only mode)",
    [gitMissing],
    () => {
      const { dir, env } = makeHome();
      const ws = join(dir, "ws");
      mkdirSync(ws);
      git(ws, env, "init", "-q");
      git(ws, env, "commit", "-q", "--allow-empty", "-m", "first");
      const config = join(ws, ".git/config");
      const text = run(["cat", config]).stdout;
      writeFileSync(
        config,
        `${text}[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic SECRET-crlf\n`.replace(
          /\n/g,
          "\r\n",
        ),
      );
      const script = "git config --get-regexp extraheader; true";
      const { host, sandboxed } = both(mode, script, { cwd: ws, env, extra: ["--profile", "ci"] });
      expect(host.stdout).toContain("SECRET-crlf");
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  // --- redacted copies that keep the secret ----------------------------------------------------

  attackTest("a ~/.npmrc and ~/.gitconfig with CRLF line endings are redacted like any other", [gitMissing], () => {
    const { dir, env } = makeHome({
      ".npmrc": "registry=https://registry.npmjs.org/\r\n//registry.npmjs.org/:_authToken=SECRET-npm\r\n",
      ".gitconfig":
        '[user]\r\n\tname = Kept\r\n[http "https://github.com/"]\r\n\textraheader = AUTHORIZATION: basic ' +
        'SECRET-git\r\n[url "https://u:SECRET-url@github.com/"]\r\n\tinsteadOf = https://github.com/\r\n',
    });
    const script = 'cat "${NPM_CONFIG_USERCONFIG:-$HOME/.npmrc}"; git config --global --list; true';
    const { host, sandboxed } = both(mode, script, { cwd: dir, env });
    for (const secret of ["SECRET-npm", "SECRET-git", "SECRET-url"]) expect(host.stdout).toContain(secret);
    expect(sandboxed.stdout).not.toContain("SECRET");
  });

  attackTest(
    "~/.gitconfig's include.path serves a redacted copy of the included file, its settings kept",
    [gitMissing],
    () => {
      const { dir, env } = makeHome({
        ".gitconfig":
          "[user]\n\tname = Kept\n[include]\n\tpath = ~/.gitconfig-secret\n[credential]\n\thelper = store\n",
        ".gitconfig-secret":
          '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: bearer SECRET-included\n' +
          "[alias]\n\tks = kept-alias\n[include]\n\tpath = conf/nested.inc\n",
        "conf/nested.inc": '[url "https://u:SECRET-nested@github.com/"]\n\tinsteadOf = x\n[user]\n\temail = k@nested\n',
      });
      const script = "git config --list; cat ~/.gitconfig-secret ~/conf/nested.inc; true";
      const { host, sandboxed } = both(mode, script, { cwd: dir, env });
      expect(host.stdout).toContain("SECRET-included");
      expect(host.stdout).toContain("SECRET-nested");
      expect(sandboxed.stdout).toContain("user.name=Kept");
      expect(sandboxed.stdout).toContain("alias.ks=kept-alias");
      expect(sandboxed.stdout).toContain("user.email=k@nested");
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  attackTest(
    "git config continuation: the line after an escaped backslash, or after a comment ending in one, is redacted",
    [gitMissing],
    () => {
      const { dir, env } = makeHome({
        ".gitconfig":
          '[alias]\n\tw = !echo C:\\\\\n[url "https://u:SECRET-url@github.com/"]\n\tinsteadOf = https://github.com/\n' +
          "[http]\n# see the wiki \\\n\textraheader = AUTHORIZATION: basic SECRET-comment\n",
      });
      const script = "git config --global --list; true";
      const { host, sandboxed } = both(mode, script, { cwd: dir, env });
      expect(host.stdout).toContain("SECRET-url");
      expect(host.stdout).toContain("SECRET-comment");
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  attackTest("a ~/.npmrc's quoted auth key and npm's inline client key (`key=` PEM) are redacted", [], () => {
    const { dir, env } = makeHome({
      ".npmrc":
        '"//registry.npmjs.org/:_authToken" = SECRET-quoted\n' +
        'key = "-----BEGIN PRIVATE KEY-----\\nSECRET-pem\\n-----END PRIVATE KEY-----"\nregistry=https://r.example/\n',
    });
    const script = 'cat "${NPM_CONFIG_USERCONFIG:-$HOME/.npmrc}"; true';
    const { host, sandboxed } = both(mode, script, { cwd: dir, env });
    expect(host.stdout).toContain("SECRET-quoted");
    expect(sandboxed.stdout).toContain("registry=https://r.example/");
    expect(sandboxed.stdout).not.toContain("SECRET");
  });

  attackTest(
    "Docker's config.json: upper-case AUTHS, a proxy URL with a password and an Authorization HttpHeader go",
    [],
    () => {
      const config = {
        AUTHS: { "ghcr.io": { auth: "SECRET-auths-upper" } },
        proxies: { default: { httpsProxy: "http://u:SECRET-proxy@proxy.example:3128" } },
        HttpHeaders: { Authorization: "Bearer SECRET-header" },
      };
      const { dir, env } = makeHome({ "docker/config.json": JSON.stringify(config) });
      const script = 'cat "$DOCKER_CONFIG/config.json"; true';
      const { host, sandboxed } = both(mode, script, { cwd: dir, env: { ...env, DOCKER_CONFIG: join(dir, "docker") } });
      expect(host.stdout).toContain("SECRET-auths-upper");
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  // --- credential files at the place the variable does not name --------------------------------

  attackTest("the default location stays covered when the tool's variable points elsewhere", [], () => {
    const { dir, env } = makeHome({
      ".cargo/credentials.toml": "SECRET-cargo\n",
      ".docker/config.json": '{"auths":{"x":{"auth":"SECRET-docker"}}}',
      ".config/gh/hosts.yml": "SECRET-gh\n",
      ".npmrc": "//r/:_authToken=SECRET-npmrc\n",
    });
    const alt = join(dir, "alt");
    mkdirSync(alt);
    const vars = {
      ...env,
      CARGO_HOME: alt,
      DOCKER_CONFIG: alt,
      XDG_CONFIG_HOME: alt,
      NPM_CONFIG_USERCONFIG: join(alt, "npmrc"),
    };
    const files = [".cargo/credentials.toml", ".docker/config.json", ".config/gh/hosts.yml", ".npmrc"];
    const script = `cd "$HOME" && cat ${files.join(" ")} 2>/dev/null; true`;
    const { host, sandboxed } = both(mode, script, { cwd: dir, env: vars });
    for (const secret of ["SECRET-cargo", "SECRET-docker", "SECRET-gh", "SECRET-npmrc"]) {
      expect(host.stdout).toContain(secret);
    }
    expect(sandboxed.stdout).not.toContain("SECRET");
  });

  attackTest(
    "credential files of agent harnesses and build tools are hidden, or copies keep only their settings",
    [],
    () => {
      const hidden = [
        ".claude/.credentials.json",
        ".codex/auth.json",
        ".config/github-copilot/apps.json",
        ".config/github-copilot/hosts.json",
        ".config/glab-cli/config.yml",
        ".gem/credentials",
        ".config/composer/auth.json",
        ".m2/settings-security.xml",
      ];
      const copies: Record<string, string> = {
        ".m2/settings.xml":
          "<settings><servers><server><id>kept-server</id>" +
          "<password>SECRET-maven</password></server></servers></settings>",
        ".gradle/gradle.properties": "org.gradle.caching=true\nsigning.password=SECRET-gradle\n",
        ".yarnrc.yml": 'npmRegistryServer: "https://kept.example"\nnpmAuthToken: SECRET-yarn\n',
      };
      const { dir, env } = makeHome({
        ...Object.fromEntries(hidden.map((file) => [file, `SECRET-${file}\n`])),
        ...copies,
      });
      const files = [...hidden, ...Object.keys(copies)];
      const script = `cd "$HOME" && for f in ${files.join(" ")}; do cat "$f" 2>/dev/null; echo; done; true`;
      const { host, sandboxed } = both(mode, script, { cwd: dir, env });
      for (const file of hidden) expect(host.stdout).toContain(`SECRET-${file}`);
      for (const tool of ["maven", "gradle", "yarn"]) expect(host.stdout).toContain(`SECRET-${tool}`);
      expect(sandboxed.exitCode).toBe(0);
      expect(sandboxed.stdout).not.toContain("SECRET");
      // bwrap mode keeps the settings; landlock-only mode has no variable to point these tools at a copy.
      if (mode === "bwrap") {
        for (const kept of ["kept-server", "org.gradle.caching=true", "https://kept.example"]) {
          expect(sandboxed.stdout).toContain(kept);
        }
      }
    },
  );

  // --- the environment -------------------------------------------------------------------------

  attackTest(
    "secret variables with glued or abbreviated names (PGPASSWORD, MYSQL_PWD, SSHPASS, SYSTEM_ACCESSTOKEN...)",
    [],
    () => {
      const secrets = {
        PGPASSWORD: "SECRET-pg",
        MYSQL_PWD: "SECRET-mysql",
        SSHPASS: "SECRET-sshpass",
        SYSTEM_ACCESSTOKEN: "SECRET-azure-pipelines",
        BW_CLIENTSECRET: "SECRET-bitwarden",
        DB_PASS: "SECRET-db-pass",
        AZURE_STORAGE_CONNECTION_STRING: "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRET-key==;",
      };
      const { dir, env } = makeHome();
      const { host, sandboxed } = both(mode, "env", { cwd: dir, env: { ...env, ...secrets } });
      for (const value of Object.values(secrets)) expect(host.stdout).toContain(value);
      expect(sandboxed.exitCode).toBe(0);
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  attackTest(
    "credential values are removed wherever they sit (a URL with a password not first, token headers, PEM keys)",
    [],
    () => {
      const secrets = {
        PIP_EXTRA_INDEX_URL: "https://pypi.org/simple https://u:SECRET-pip@pypi.example/simple",
        UV_INDEX: "private=https://u:SECRET-uv@pypi.example/simple",
        GOPROXY: "direct,https://u:SECRET-goproxy@proxy.example",
        GIT_CONFIG_PARAMETERS: "'http.extraheader'='PRIVATE-TOKEN: SECRET-gitlab'",
        GOOGLE_CLOUD_KEYFILE_JSON: '{"private_key":"-----BEGIN PRIVATE KEY-----\\nSECRET-pem\\n"}',
      };
      const { dir, env } = makeHome();
      const { host, sandboxed } = both(mode, "env", { cwd: dir, env: { ...env, ...secrets } });
      for (const value of Object.values(secrets)) expect(host.stdout).toContain(value);
      expect(sandboxed.exitCode).toBe(0);
      expect(sandboxed.stdout).not.toContain("SECRET");
    },
  );

  attackTest(
    "no ancestor of the command (stage 1, bwrap) shows cordon's own environment in /proc/PID/environ",
    [],
    () => {
      const { dir, env } = makeHome();
      // Every ancestor up to pid 1 (landlock-only mode: stage 1 is a host process of the same user).
      const script =
        'p=$$; while [ "$p" -gt 1 ]; do p=$(sed "s/.*) //" /proc/$p/stat | cut -d" " -f2); ' +
        'echo "pid $p"; cat /proc/$p/environ 2>/dev/null; echo; done | tr "\\0" "\\n"';
      const vars = { ...env, MY_SECRET_TOKEN: "MARK-ppid-environ" };
      // Without cordon: the command reads its parent shell's environment.
      expect(run(["sh", "-c", `sh -c '${script}'`], { env: vars }).stdout).toContain("MARK-ppid");
      const result = cordon([...modeArgs(mode), "-q", "--", "sh", "-c", script], { cwd: dir, env: vars });
      expect(result.stdout).toContain("pid ");
      expect(result.stdout).not.toContain("MARK");
    },
  );

  // --- working settings and bad input ----------------------------------------------------------

  if (mode === "landlock") {
    attackTest(
      "landlock-only mode: a .git/config credential helper with the token inline refuses the run",
      [gitMissing],
      () => {
        const { dir, env } = makeHome();
        const ws = join(dir, "ws");
        mkdirSync(ws);
        git(ws, env, "init", "-q");
        git(ws, env, "config", "credential.helper", "!f() { echo username=x; echo password=SECRET-inline; }; f");
        const script = "printf 'protocol=https\\nhost=github.com\\n\\n' | git credential fill; true";
        const { host, sandboxed } = both(mode, script, { cwd: ws, env, extra: ["--profile", "ci"] });
        expect(host.stdout).toContain("password=SECRET-inline");
        expect(sandboxed.stdout).not.toContain("SECRET");
        expect(sandboxed.exitCode).toBe(125);
      },
    );

    attackTest(
      "landlock-only mode: a relative include.path of ~/.gitconfig still reaches its file from the copy",
      [gitMissing],
      () => {
        const { dir, env } = makeHome({
          ".gitconfig": "[include]\n\tpath = .gitconfig.local\n[credential]\n\thelper = store\n",
          ".gitconfig.local": "[user]\n\tname = Kept-From-Include\n",
        });
        const { host, sandboxed } = both(mode, "git config --get user.name; true", { cwd: dir, env });
        expect(host.stdout).toContain("Kept-From-Include");
        expect(sandboxed.stdout).toContain("Kept-From-Include");
      },
    );
  }

  if (mode === "bwrap") {
    attackTest(
      "after bwrap fails and auto mode falls back, the tools read the fallback's own redacted copies",
      [gitMissing],
      () => {
        const { dir, env } = makeHome({
          ".npmrc": "@me:registry=https://npm.example/\n//npm.example/:_authToken=SECRET-npm\n",
          ".gitconfig": "[user]\n\tname = Kept\n[credential]\n\thelper = store\n",
        });
        const tools = join(scratch, `tools-${homes}`);
        mkdirSync(tools);
        const bwrap = join(tools, "bwrap-in-docker");
        writeFileSync(
          bwrap,
          "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because " +
            "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
        );
        chmodSync(bwrap, 0o755);
        const script = 'cat "$NPM_CONFIG_USERCONFIG"; git config --get user.name; true';
        const result = cordon([...modeArgs("landlock").slice(2), "--bwrap", bwrap, "--", "sh", "-c", script], {
          cwd: dir,
          env,
        });
        expect(result.stderr).toContain("using landlock-only mode");
        expect(result.stdout).not.toContain("SECRET");
        expect(result.stdout).toContain("@me:registry");
        expect(result.stdout).toContain("Kept");
      },
    );
  }

  describe("a ~/.npmrc that is not a small text file", () => {
    let dir: string;
    let env: Record<string, string | undefined>;
    beforeAll(() => ({ dir, env } = makeHome()));
    const cases: [string, (path: string) => void][] = [
      ["a directory", (path) => mkdirSync(path)],
      ["a FIFO", (path) => void run(["mkfifo", path])],
      ["larger than 1 MiB", (path) => writeFileSync(path, `//r/:_authToken=SECRET-big\n${"a".repeat(1 << 21)}\n`)],
      [
        "binary",
        (path) =>
          writeFileSync(
            path,
            Buffer.concat([Buffer.from([0xff, 0, 0xfe]), Buffer.from("\n//r/:_authToken=SECRET-bin\n")]),
          ),
      ],
    ];
    for (const [kind, make] of cases) {
      attackTest(`${kind}: the run works, no stack trace, no secret`, [], () => {
        const path = join(dir, `npmrc-${kind.replace(/\W/g, "")}`);
        make(path);
        const vars = { ...env, NPM_CONFIG_USERCONFIG: path };
        const script = 'cat "$NPM_CONFIG_USERCONFIG" 2>/dev/null | grep -c SECRET; echo ran';
        const result = cordon([...modeArgs(mode), "-q", "--", "sh", "-c", script], { cwd: dir, env: vars });
        expect(result.stdout).toContain("ran");
        expect(result.stdout).not.toMatch(/^[1-9]/m);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      });
    }
  });
});
