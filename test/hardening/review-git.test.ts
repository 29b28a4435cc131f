// Review of protectGit (issue 15, the git half), attacking the change as an
// adversary who has read src/policy/git.ts and src/stage1/git-guard.ts. Each
// attack is first shown working without protection (a plain -w run), then
// under --profile workspace. holeTest marks an attack that still works.
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest } from "../helpers/attacks.ts";
import { GIT_MODES, gitEnv, gitMissing, gitScene, plain, removeGitScenes, workspace } from "../helpers/git-scene.ts";
import { modeArgs, startCordon, systemTool, waitFor } from "../helpers/cordon.ts";

const MODES = GIT_MODES;
const scriptMissing = systemTool("script") ? undefined : "script (util-linux) is not installed";
const scene = () => gitScene("cordon-review-git-");
afterAll(removeGitScenes);

for (const mode of MODES) {
  describe(`${mode} mode`, () => {
    attackTest(
      "neutralising a new repository whose config and hooks are symlinks chmods their targets outside " +
        "the write roots, and copies the target's remote URLs into the write root",
      [gitMissing],
      () => {
        const s = scene();
        // Outside the write root: a file in git's config format that the sandbox may not read, and a directory.
        const secret = join(s.dir, "secret.gitconfig");
        writeFileSync(secret, '[remote "origin"]\n\turl = https://user:TOKEN-1234@example.org/x.git\n');
        chmodSync(secret, 0o755);
        const bin = join(s.dir, "bin");
        mkdirSync(bin);
        chmodSync(bin, 0o755);
        writeFileSync(join(bin, "tool"), "#!/bin/sh\n", { mode: 0o755 });
        const plant = (name: string) =>
          `git init -q ${name} && rm -rf ${name}/.git/config ${name}/.git/hooks && ` +
          `ln -s ${secret} ${name}/.git/config && ln -s ${bin} ${name}/.git/hooks && cat ${secret}`;
        const deny = ["--deny-read", secret];
        const without = s.sandboxed([...plain(mode), ...deny], plant("a"));
        expect(without.stdout).not.toContain("TOKEN");
        expect(statSync(secret).mode & 0o7777).toBe(0o755);
        expect(statSync(bin).mode & 0o7777).toBe(0o755);
        // (A known repository with symlinked hooks would cost bwrap mode every new entry: see below.)
        s.host("rm -rf a");

        const result = s.sandboxed([...workspace(mode), ...deny], plant("b"));
        expect(result.stderr).toContain("protectGit: the repository");
        expect(readFileSync(join(s.ws, "b/.git/config"), "utf8")).not.toContain("TOKEN");
        expect(statSync(secret).mode & 0o7777).toBe(0o755);
        expect(statSync(bin).mode & 0o7777).toBe(0o755);
      },
    );

    // git reads a .git file as "gitdir: " followed by the rest of the file, only trailing CR/LF removed,
    // as bytes, and resolves it through the kernel (a symlink, then ".."). cordon's gitDirOf trims spaces,
    // reads UTF-8 and resolves lexically: each difference points cordon at a harmless directory.
    const POINTERS: { name: string; hole: string; plant: string }[] = [
      {
        name: "a leading space (gitdir:  g is ' g' to git, 'g' to cordon)",
        hole: "gitDirOf's /^gitdir: *(.+)$/ and trim()",
        plant: "mkdir x && git init -q --separate-git-dir 'x/ g' x && printf 'gitdir:  g\\n' > x/.git",
      },
      {
        name: "'..' after a symlink (link/../g: the kernel follows link first, resolvePath drops it)",
        hole: "gitDirOf resolves the pointer lexically",
        plant:
          "mkdir -p x deep/a/b && git init -q --separate-git-dir deep/a/g x && ln -s ../deep/a/b x/link && " +
          "printf 'gitdir: link/../g\\n' > x/.git",
      },
      {
        name: "a name that is not UTF-8 (read as U+FFFD, a path that does not exist)",
        hole: "gitDirOf reads the pointer as UTF-8",
        plant:
          "mkdir x && git init -q --separate-git-dir \"x/$(printf 'g\\377')\" x && printf 'gitdir: g\\377\\n' > x/.git",
      },
    ];
    for (const pointer of POINTERS) {
      attackTest(`a new .git file whose pointer git and cordon read differently: ${pointer.name}`, [gitMissing], () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf x deep");
          s.sandboxed(args, `${pointer.plant} && git -C x config core.fsmonitor '${s.payload} ${tag}'`);
          s.host("cd x && git status >/dev/null 2>&1");
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      });
    }

    attackTest(
      "a repository in a directory whose name is not UTF-8: an existing one is not protected, a new one not checked",
      [gitMissing],
      () => {
        const s = scene();
        const name = "n$(printf '\\377')";
        s.host(`git init -q "${name}"`);
        const attack = (args: string[], tag: string) => {
          s.host(`rm -rf "new${name}"; git -C "${name}" config --unset core.fsmonitor`);
          const plant =
            `git -C "${name}" config core.fsmonitor '${s.payload} ${tag}-existing'; ` +
            `git init -q "new${name}" && git -C "new${name}" config core.fsmonitor '${s.payload} ${tag}-new'`;
          s.sandboxed(args, plant);
          s.host(`git -C "${name}" status >/dev/null 2>&1; git -C "new${name}" status >/dev/null 2>&1`);
          return s.ran();
        };
        const without = attack(plain(mode), "plain");
        expect(without).toContain("RAN-plain-existing");
        expect(without).toContain("RAN-plain-new");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "a git directory planted as an ordinary project directory (src/ with HEAD, objects/, refs/, config): " +
        "git status anywhere below src/ runs its fsmonitor",
      [gitMissing],
      () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf src");
          s.sandboxed(
            args,
            "mkdir -p src/lib && echo code > src/lib/main.c && cd src && git init -q --bare . && " +
              "git config core.bare false && git config core.worktree . && " +
              `git config core.fsmonitor '${s.payload} ${tag}'`,
          );
          s.host("cd src/lib && git status >/dev/null 2>&1");
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "a new repository whose config runs a program through a key cordon does not list " +
        "(gpg.ssh.defaultKeyCommand at commit, protocol.ext.allow with an ext:: remote at fetch)",
      [gitMissing],
      () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf k1 k2");
          s.sandboxed(
            args,
            [
              "git init -q k1 && git -C k1 config gpg.format ssh && git -C k1 config commit.gpgSign true",
              `git -C k1 config gpg.ssh.defaultKeyCommand '${s.payload} ${tag}-commit'`,
              "git init -q k2 && git -C k2 config protocol.ext.allow always",
              `git -C k2 remote add origin 'ext::sh -c ${s.payload}% ${tag}-fetch'`,
            ].join(" && "),
          );
          s.host("(cd k1 && git commit -q --allow-empty -m x); (cd k2 && git fetch -q origin); true");
          return s.ran();
        };
        const without = attack(plain(mode), "plain");
        expect(without).toContain("RAN-plain-commit");
        expect(without).toContain("RAN-plain-fetch");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "interactive.diffFilter in a new repository runs at the user's next git add -p (on a terminal)",
      [gitMissing, scriptMissing],
      () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf k");
          s.sandboxed(
            args,
            "git init -q k && cd k && echo a > f && git add f && git commit -qm a && echo b >> f && " +
              `git config interactive.diffFilter '${s.payload} ${tag}; cat'`,
          );
          // A human's terminal: add -p colours its diff, and pipes it through the filter.
          s.host(`cd k && script -qc 'echo q | git add -p' /dev/null >/dev/null 2>&1`);
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "core.hooksPath set in a file the repository's config includes: that hooks directory is not protected",
      [gitMissing],
      () => {
        const s = scene();
        // A shared, versioned config: `git config include.path ../.gitconfig`, which sets the hooks directory.
        s.host(
          "printf '[core]\\n\\thooksPath = .githooks\\n' > .gitconfig && git config include.path ../.gitconfig && " +
            "mkdir .githooks",
        );
        const attack = (args: string[], tag: string) => {
          s.host("rm -f .githooks/post-checkout; git checkout -q main");
          s.sandboxed(
            args,
            `printf '#!/bin/sh\\n${s.payload} ${tag}\\n' > .githooks/post-checkout && chmod +x .githooks/post-checkout`,
          );
          s.host(`git checkout -q -b ${tag}`);
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );
  });
}

describe("bwrap mode: a repository whose hooks directory is a symlink", () => {
  attackTest(
    "a command under workspace leaves n/.git/hooks -> an empty directory (not neutralised: no live hook); " +
      "every later workspace run in bwrap mode can create no file anywhere in the project",
    [gitMissing, systemTool("bwrap") ? undefined : "bwrap is not installed"],
    () => {
      const s = scene();
      const plant = "git init -q n && mkdir -p empty && rm -rf n/.git/hooks && ln -s ../../empty n/.git/hooks";
      expect(s.sandboxed(workspace("bwrap"), plant).exitCode).toBe(0);
      const later = s.sandboxed(workspace("bwrap"), "touch new-file && mkdir -p src/new && echo created");
      expect(later.stdout).toBe("created\n");
    },
  );
});

describe("landlock-only mode: the repair after the run", () => {
  attackTest(
    "a concurrent, harmless run restores the config another run planted (and says its own command changed it)",
    [gitMissing],
    async () => {
      const s = scene();
      const args = ["--profile", "workspace", ...modeArgs("landlock"), "-q", "--", "sh", "-c"];
      const options = { cwd: s.ws, env: gitEnv(join(s.dir, "home")) };
      const config = join(s.ws, ".git/config");
      const a = startCordon([...args, `git config core.fsmonitor '${s.payload} race'; sleep 2`], options);
      await waitFor(() => readFileSync(config, "utf8").includes("fsmonitor"), "run A's plant");
      const b = startCordon([...args, "sleep 4"], options);
      await Promise.all([a.exited, b.exited]);
      s.host("git status >/dev/null 2>&1");
      expect(s.ran()).toBe("");
      expect(readFileSync(config, "utf8")).not.toContain("fsmonitor");
    },
  );

  attackTest(
    "cordon SIGKILLed during the run (a harness's timeout, the OOM killer) leaves the planted config in place",
    [gitMissing],
    async () => {
      const s = scene();
      const config = join(s.ws, ".git/config");
      const proc = startCordon(
        [
          "--profile",
          "workspace",
          ...modeArgs("landlock"),
          "-q",
          "--",
          "sh",
          "-c",
          `git config core.fsmonitor '${s.payload} killed'; exec sleep 30`,
        ],
        { cwd: s.ws, env: gitEnv(join(s.dir, "home")) },
      );
      await waitFor(() => readFileSync(config, "utf8").includes("fsmonitor"), "the plant");
      proc.kill("SIGKILL");
      await proc.exited;
      // The next run, whatever it is, does not repair it either.
      s.sandboxed(workspace("landlock"), "true");
      s.host("git status >/dev/null 2>&1");
      expect(s.ran()).toBe("");
    },
  );

  attackTest("the command cannot skip the repair by signalling cordon (Landlock's signal scope)", [gitMissing], () => {
    const s = scene();
    const script =
      `git config core.fsmonitor '${s.payload} signalled'; ` +
      "kill -STOP $PPID || echo stop-refused; kill -9 $PPID || echo kill-refused";
    const result = s.sandboxed(workspace("landlock"), script);
    expect(result.stdout).toBe("stop-refused\nkill-refused\n");
    expect(result.stderr).toContain("protectGit: restored");
    s.host("git status >/dev/null 2>&1");
    expect(s.ran()).toBe("");
  });
});

describe("bwrap mode: renaming around the mounts", () => {
  attackTest(
    "moving .git, or the directory of a nested repository, aside to put a new one in its place fails (EBUSY)",
    [gitMissing, systemTool("bwrap") ? undefined : "bwrap is not installed"],
    () => {
      const s = scene();
      s.host("mkdir -p a/b && git init -q a/b/lib");
      const renames = [".git .git-old", "a a-old", "a/b/lib a/b/lib-old", "a/b/lib/.git a/b/lib/.git-old"];
      const result = s.sandboxed(workspace("bwrap"), renames.map((pair) => `mv -T ${pair}`).join("; ") + "; true");
      expect(result.exitCode).toBe(0);
      expect(result.stderr).toContain("Device or resource busy");
      for (const pair of renames) expect(existsSync(join(s.ws, pair.split(" ")[1]!))).toBe(false);
    },
  );
});
