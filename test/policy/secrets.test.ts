// Where the secure defaults look: the tools' own variables, not only fixed
// paths; the repositories' configs; and which files become redacted copies.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { applyLayer } from "../../src/policy/compose.ts";
import { resolvePolicy } from "../../src/policy/resolve.ts";
import { EMPTY_POLICY } from "../../src/policy/schema.ts";
import { scratchDir } from "../helpers/cordon.ts";

describe("secure default locations", () => {
  let dir: string;
  const at = (path: string) => join(dir, path);
  const file = (path: string, text = "x") => {
    mkdirSync(dirname(at(path)), { recursive: true });
    writeFileSync(at(path), text);
  };
  beforeAll(() => {
    dir = scratchDir("cordon-secrets-");
    for (const path of [
      "xdg/gh/hosts.yml",
      "xdg/git/credentials",
      "xdg/rclone/rclone.conf",
      "xdg/containers/auth.json",
      "cargo/credentials.toml",
      "runner/git-credentials-abc.config",
      "runner/other.config",
      "home/.vault-token",
      "home/.pgpass",
      "home/.bash_history",
      "home/.terraform.d/credentials.tfrc.json",
      "kube-a",
      "kube-b",
      "home/.npmrc",
      "docker/config.json",
      "proj/.git/config",
      "main/.git/config",
      "main/.git/worktrees/wt/HEAD",
    ]) {
      file(path);
    }
    mkdirSync(at("home/.azure"), { recursive: true });
    mkdirSync(at("wt"), { recursive: true });
    writeFileSync(at("wt/.git"), `gitdir: ${at("main/.git/worktrees/wt")}\n`);
    writeFileSync(at("main/.git/worktrees/wt/commondir"), "../..\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({
    XDG_CONFIG_HOME: at("xdg"),
    CARGO_HOME: at("cargo"),
    DOCKER_CONFIG: at("docker"),
    RUNNER_TEMP: at("runner"),
    KUBECONFIG: `${at("kube-a")}:${at("kube-b")}`,
  });
  const resolve = (cwd: string, reveal: string[] = []) =>
    resolvePolicy(applyLayer(EMPTY_POLICY, { reveal } as Parameters<typeof applyLayer>[1]), {
      cwd,
      home: at("home"),
      env: env(),
    });

  test("hidden files follow $XDG_CONFIG_HOME, $CARGO_HOME, $KUBECONFIG and $RUNNER_TEMP's credentials glob", () => {
    const hidden = resolve(at("proj")).denyRead.map((entry) => [entry.origin, entry.path]);
    expect(hidden).toEqual(
      expect.arrayContaining([
        ["default:gh", at("xdg/gh/hosts.yml")],
        ["default:git-credentials", at("xdg/git/credentials")],
        ["default:rclone", at("xdg/rclone/rclone.conf")],
        ["default:containers-auth", at("xdg/containers/auth.json")],
        ["default:cargo", at("cargo/credentials.toml")],
        ["default:git-checkout-token", at("runner/git-credentials-abc.config")],
        ["default:vault", at("home/.vault-token")],
        ["default:pgpass", at("home/.pgpass")],
        ["default:shell-history", at("home/.bash_history")],
        ["default:terraform", at("home/.terraform.d/credentials.tfrc.json")],
        ["default:azure", at("home/.azure")],
        ["default:kube", at("kube-a")],
        ["default:kube", at("kube-b")],
      ]),
    );
    expect(hidden.map(([, path]) => path)).not.toContain(at("runner/other.config"));
  });

  test("~/.npmrc, $DOCKER_CONFIG/config.json and the repository's .git/config become redacted copies", () => {
    expect(resolve(at("proj")).redact).toEqual([
      { path: at("docker/config.json"), secret: "docker-config", format: "docker-config", links: 1 },
      { path: at("proj/.git/config"), secret: "git-checkout-token", format: "git-config", links: 1, includes: [] },
      { path: at("home/.npmrc"), secret: "npmrc", format: "npmrc", links: 1 },
    ]);
    expect(resolve(at("proj"), ["npmrc"]).redact.map((file) => file.secret)).not.toContain("npmrc");
  });

  test("the default locations stay covered when the tools' variables point elsewhere", () => {
    for (const path of [".cargo/credentials.toml", ".docker/config.json", ".config/gh/hosts.yml"]) {
      file(`home/${path}`);
    }
    const policy = resolvePolicy(applyLayer(EMPTY_POLICY, {}), {
      cwd: at("proj"),
      home: at("home"),
      env: { ...env(), NPM_CONFIG_USERCONFIG: at("elsewhere.npmrc") },
    });
    const hidden = policy.denyRead.map((entry) => [entry.origin, entry.path]);
    expect(hidden).toEqual(
      expect.arrayContaining([
        ["default:cargo", at("home/.cargo/credentials.toml")],
        ["default:docker-config", at("home/.docker/config.json")],
        ["default:gh", at("home/.config/gh/hosts.yml")],
        ["default:npmrc", at("home/.npmrc")],
      ]),
    );
    // The files the tools read are still the redacted copies.
    expect(policy.redact.map((entry) => entry.path)).toContain(at("docker/config.json"));
  });

  test("a linked worktree's config is its main repository's: the .git file's gitdir, then commondir", () => {
    const configs = resolve(at("wt")).redact.filter((file) => file.secret === "git-checkout-token");
    expect(configs.map((file) => file.path)).toEqual([at("main/.git/config")]);
  });

  test("a .git/config symlink inside a write root is not a redaction candidate (it could aim at ~/.npmrc)", () => {
    mkdirSync(at("planted/.git"), { recursive: true });
    symlinkSync(at("home/.npmrc"), at("planted/.git/config"));
    const policy = resolvePolicy(applyLayer(EMPTY_POLICY, { write: ["."] }), {
      cwd: at("planted"),
      home: at("home"),
      env: env(),
    });
    // ~/.npmrc is still covered, under its own name and format.
    expect(policy.redact.filter((file) => file.path === at("home/.npmrc"))).toEqual([
      { path: at("home/.npmrc"), secret: "npmrc", format: "npmrc", links: 1 },
    ]);
  });
});

describe("files a redacted git config includes", () => {
  let dir: string;
  const at = (path: string) => join(dir, path);
  beforeAll(() => {
    dir = scratchDir("cordon-includes-");
    mkdirSync(at("home/conf"), { recursive: true });
    mkdirSync(at("ws"));
    writeFileSync(
      at("home/.gitconfig"),
      '[include]\n\tpath = conf/a.inc\n[includeIf "gitdir:~/w/"]\n\tpath = ~/missing.inc\n' +
        "[include]\n\tpath = ../ws/link.inc\n\tpath = ~/.ssh/config\n",
    );
    writeFileSync(at("home/conf/a.inc"), "[include]\n\tpath = b.inc\n");
    writeFileSync(at("home/conf/b.inc"), "[include]\n\tpath = a.inc\n");
    mkdirSync(at("home/.ssh"));
    writeFileSync(at("home/.ssh/config"), "Host x\n");
    symlinkSync(at("home/conf/b.inc"), at("ws/link.inc"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("followed as git follows them (relative to the includer, ~ from home), each covered once", () => {
    const policy = resolvePolicy(applyLayer(EMPTY_POLICY, { write: ["."] }), {
      cwd: at("ws"),
      home: at("home"),
      env: {},
    });
    const gitconfig = policy.redact.filter((file) => file.secret === "gitconfig");
    expect(gitconfig.map((file) => [file.path, file.includedBy])).toEqual([
      [at("home/.gitconfig"), undefined],
      [at("home/conf/a.inc"), at("home/.gitconfig")],
      [at("home/conf/b.inc"), at("home/conf/a.inc")],
    ]);
    expect(gitconfig[0]!.includes).toEqual([
      { written: "conf/a.inc", path: at("home/conf/a.inc") },
      { written: "~/missing.inc", path: at("home/missing.inc") },
      // A symlink in a write root could be aimed anywhere; ~/.ssh is hidden: the copy drops both.
      { written: "../ws/link.inc", path: at("ws/link.inc"), dropped: true },
      { written: "~/.ssh/config", path: at("home/.ssh/config"), dropped: true },
    ]);
    expect(gitconfig[2]!.includes).toEqual([{ written: "a.inc", path: at("home/conf/a.inc") }]);
  });
});
