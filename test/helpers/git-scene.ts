// The scene git attacks share (test/hardening/*git*.test.ts): a repository
// in a write root, a payload on the host that records when git runs it, and
// the same git for host and sandbox (identity set, no system config).
import { expect } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cordon, modeArgs, run, systemTool } from "./cordon.ts";

export const GIT_MODES = systemTool("bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);
export const gitMissing = systemTool("git") ? undefined : "git is not installed";

/** Identity and no system config: the same git for the host and the sandbox, for root and nobody. */
export function gitEnv(home: string): Record<string, string> {
  return {
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@example.org",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@example.org",
  };
}

export interface GitScene {
  /** The scene's directory, outside every write root. */
  dir: string;
  /** The write root: `dir/ws`, a repository with one commit. */
  ws: string;
  /** A script on the host that appends `RAN-<its first argument>` to `dir/ran` when git runs it. */
  payload: string;
  /** A script on the host that runs the payload with `tag` (for keys git runs without arguments of ours). */
  tagged(tag: string): string;
  /** A shell script on the host, in the write root. */
  host(script: string): ReturnType<typeof run>;
  /** The script under cordon with `args`, in the write root (or `cwd`), with `env` added. */
  sandboxed(
    args: string[],
    script: string,
    extra?: { cwd?: string; env?: Record<string, string> },
  ): ReturnType<typeof run>;
  /** What the payload recorded since the last call. */
  ran(): string;
}

const scenes: string[] = [];

/**
 * Removes the scenes made so far. Each test file calls it in its own
 * afterAll: a hook registered here, in a module every file shares, ran for
 * the first file only and left the others' scenes behind.
 */
export function removeGitScenes(): void {
  for (const dir of scenes.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A fresh scene. Not under /tmp: bwrap mode gives the command a private
 * /tmp. `prefix` names the directory: keep it free of the words of
 * git-config.ts's safety net (cmd, clean, filter, ...), since the payload's
 * path appears in planted configs.
 */
export function gitScene(prefix: string): GitScene {
  const dir = mkdtempSync(`/var/tmp/${prefix}`);
  scenes.push(dir);
  chmodSync(dir, 0o755);
  const ws = join(dir, "ws");
  mkdirSync(join(dir, "home"));
  mkdirSync(ws);
  const payload = join(dir, "payload.sh");
  writeFileSync(payload, `#!/bin/sh\necho "RAN-$1" >> ${dir}/ran\n`, { mode: 0o755 });
  const options = { cwd: ws, env: gitEnv(join(dir, "home")) };
  const s: GitScene = {
    dir,
    ws,
    payload,
    tagged: (tag) => {
      const path = join(dir, `run-${tag}.sh`);
      writeFileSync(path, `#!/bin/sh\n${payload} ${tag}\n`, { mode: 0o755 });
      return path;
    },
    host: (script) => run(["sh", "-c", script], options),
    sandboxed: (args, script, extra = {}) =>
      cordon([...args, "-q", "--", "sh", "-c", script], {
        cwd: extra.cwd ?? ws,
        env: { ...options.env, ...extra.env },
      }),
    ran: () => {
      const path = join(dir, "ran");
      const text = existsSync(path) ? readFileSync(path, "utf8") : "";
      rmSync(path, { force: true });
      return text;
    },
  };
  expect(s.host("git init -q -b main . && git commit -q --allow-empty -m init").exitCode).toBe(0);
  return s;
}

/** Arguments of a run without protection, and of one under the workspace profile. */
export const plain = (mode: string) => ["-w", ".", ...modeArgs(mode)];
export const workspace = (mode: string) => ["--profile", "workspace", ...modeArgs(mode)];
