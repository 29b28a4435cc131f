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
      { path: at("proj/.git/config"), secret: "git-checkout-token", format: "git-config", links: 1 },
      { path: at("home/.npmrc"), secret: "npmrc", format: "npmrc", links: 1 },
    ]);
    expect(resolve(at("proj"), ["npmrc"]).redact.map((file) => file.secret)).not.toContain("npmrc");
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
