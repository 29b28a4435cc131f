// Second review of protectGit (issue 15), against the fixes of 00cdd1e and
// 42f44cf: the allow-list parser, git directories under any name, the modules
// of new repositories, the digest records in $TMPDIR, and the hooks directory
// of the user's global config. Each attack is first shown working without
// protection (a plain -w run), then under --profile workspace. holeTest marks
// an attack that still works; attackTest one that is defended.
import { afterAll, describe, expect } from "bun:test";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest } from "../helpers/attacks.ts";
import { GIT_MODES, gitEnv, gitMissing, gitScene, plain, removeGitScenes, workspace } from "../helpers/git-scene.ts";
import { modeArgs, run, startCordon, waitFor } from "../helpers/cordon.ts";

const MODES = GIT_MODES;
const scene = () => gitScene("cordon-review-gitb-");
afterAll(removeGitScenes);

/** A shell `printf` format for `bytes` (octal escapes: dash's printf has no \x). */
function printfOf(bytes: string): string {
  return [...Buffer.from(bytes, "latin1")].map((byte) => `\\${byte.toString(8).padStart(3, "0")}`).join("");
}

/** digestOf() of src/stage1/git-guard.ts for a regular file: what an attacker computes to forge a record. */
function fileDigest(data: Buffer, mode: number): string {
  return createHash("sha256").update(`file:${mode}:${data.length}:`).update(data).digest("hex");
}

const CORE = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n";

// Spellings git reads as an entry and git-config.ts reads as nothing, each hiding `man.man.path`: the
// program `git help` (so `git <anything> --help`) runs as its man viewer, whatever man.viewer says.
// None of its words is in EXECUTING_WORDS, so the safety net (looksExecuting) does not fire either.
const HIDDEN: { name: string; config: (program: string) => string }[] = [
  {
    name:
      "a UTF-8 byte order mark before the first header (git skips it; cordon reads the file as latin1, " +
      "where it is 'ï»¿', so the header does not match and the keys below it have no section)",
    config: (program) => `\xef\xbb\xbf[man "man"]\n\tpath = ${program}\n${CORE}`,
  },
  {
    name: 'a second header on the header line ([x][man "man"]path = ...: git parses a stream, cordon a line)',
    config: (program) => `${CORE}[x][man "man"]path = ${program}\n`,
  },
  {
    name: "a lone CR before each line's end (blank space to git; the regexes' '.' stops at it)",
    config: (program) => `${CORE}[man "man"]\n\tpath = ${program}\n`.replace(/\n/g, "\r\r\n"),
  },
];

for (const mode of MODES) {
  describe(`${mode} mode`, () => {
    for (const hidden of HIDDEN) {
      attackTest(
        `a new repository's config hides an executing key from the allow-list parser: ${hidden.name}`,
        [gitMissing],
        () => {
          const s = scene();
          const attack = (args: string[], tag: string) => {
            s.host("rm -rf v");
            const config = printfOf(hidden.config(s.tagged(tag)));
            s.sandboxed(args, `git init -q v && printf '${config}' > v/.git/config`);
            // The user asks for help in that repository.
            s.host("cd v && git log --help >/dev/null 2>&1");
            return s.ran();
          };
          expect(attack(plain(mode), "plain")).toContain("RAN-plain");
          expect(attack(workspace(mode), "guarded")).toBe("");
        },
      );
    }

    attackTest(
      "the same spellings with a key of the safety net's list (core.fsmonitor) are neutralised",
      [gitMissing],
      () => {
        const s = scene();
        for (const hidden of HIDDEN) {
          s.host("rm -rf v");
          const config = printfOf(hidden.config("x").replace('[man "man"]', "[core]").replace("path =", "fsmonitor ="));
          const result = s.sandboxed(workspace(mode), `git init -q v && printf '${config}' > v/.git/config`);
          expect(result.stderr).toContain("protectGit: the repository");
          expect(readFileSync(join(s.ws, "v/.git/config"), "latin1")).not.toContain("fsmonitor");
        }
      },
    );

    attackTest(
      "a git directory whose objects/ and refs/ are symlinks (git checks them with access(X_OK), which " +
        "follows links; isGitDirectory wants real directories): not found after the run, its fsmonitor runs " +
        "at git status below it",
      [gitMissing],
      () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf src .cache");
          s.sandboxed(
            args,
            "mkdir -p src/lib .cache && echo code > src/lib/main.c && git init -q --bare .cache/g && " +
              "mv .cache/g/objects .cache/g/refs .cache/ && cp .cache/g/HEAD src/ && " +
              "ln -s ../.cache/objects src/objects && ln -s ../.cache/refs src/refs && " +
              `printf '${CORE}\\tworktree = .\\n\\tfsmonitor = ${s.payload} ${tag}\\n' > src/config`,
          );
          s.host("cd src/lib && git status >/dev/null 2>&1");
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "a new repository with a submodule whose checkout was deleted: its git directory in .git/modules/ " +
        "keeps a post-checkout hook, and the user's git submodule update adopts it",
      [gitMissing],
      () => {
        const s = scene();
        const attack = (args: string[], tag: string) => {
          s.host("rm -rf n up");
          s.sandboxed(
            args,
            [
              "git init -q up && git -C up commit -q --allow-empty -m up",
              "git init -q n && cd n && git -c protocol.file.allow=always submodule add -q ../up sub",
              "git commit -qm sub",
              `printf '#!/bin/sh\\n${s.payload} ${tag}\\n' > .git/modules/sub/hooks/post-checkout`,
              "chmod +x .git/modules/sub/hooks/post-checkout && rm -rf sub ../up",
            ].join(" && "),
          );
          s.host("cd n && git submodule update --init >/dev/null 2>&1");
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );

    attackTest(
      "a known repository's .git/modules replaced by a symlink to a directory of the user's outside the write " +
        "roots: cordon takes each repository there for a planted submodule and renames its .git aside",
      [gitMissing],
      () => {
        const s = scene();
        // The user's other projects, outside every write root: one sets pull.rebase (not on the allow-list).
        const projects = join(s.dir, "projects");
        mkdirSync(projects);
        expect(
          run(["sh", "-c", "git init -q foo && git -C foo config pull.rebase true"], { cwd: projects }).exitCode,
        ).toBe(0);
        const result = s.sandboxed(workspace(mode), `ln -s ${projects} .git/modules`);
        expect(result.exitCode).toBe(0);
        expect(existsSync(join(projects, "foo/.git.cordon-disabled"))).toBe(false);
        expect(statSync(join(projects, "foo/.git")).isDirectory()).toBe(true);
      },
    );

    attackTest(
      "core.hooksPath set in the user's global config (~/.gitconfig: hooksPath = .githooks, one hooks " +
        "directory per repository): that directory in the write root is not protected",
      [gitMissing],
      () => {
        const s = scene();
        writeFileSync(join(s.dir, "home/.gitconfig"), "[core]\n\thooksPath = .githooks\n");
        s.host("mkdir .githooks");
        const attack = (args: string[], tag: string) => {
          s.host("rm -f .githooks/pre-commit");
          s.sandboxed(
            args,
            `printf '#!/bin/sh\\n${s.payload} ${tag}\\n' > .githooks/pre-commit && chmod +x .githooks/pre-commit`,
          );
          s.host("git commit -q --allow-empty -m x");
          return s.ran();
        };
        expect(attack(plain(mode), "plain")).toContain("RAN-plain");
        expect(attack(workspace(mode), "guarded")).toBe("");
      },
    );
  });
}

describe("the digest records", () => {
  for (const mode of MODES) {
    attackTest(
      `${mode} mode: 20 workspace runs at once in one repository, one of which plants core.fsmonitor: ` +
        "no plant survives, git keeps working, and no record is left behind",
      [gitMissing],
      async () => {
        const s = scene();
        const tmp = join(s.dir, "tmp");
        mkdirSync(tmp);
        const options = { cwd: s.ws, env: { ...gitEnv(join(s.dir, "home")), TMPDIR: tmp } };
        const args = [...workspace(mode), "-q", "--", "sh", "-c"];
        const runs = Array.from({ length: 20 }, (_, index) =>
          startCordon(
            [...args, index === 7 ? `git config core.fsmonitor '${s.payload} crowd'; sleep 1` : "git status; sleep 1"],
            options,
          ),
        );
        await Promise.all(runs.map((proc) => proc.exited));
        s.host("git status >/dev/null 2>&1");
        expect(s.ran()).toBe("");
        expect(s.host("git commit -q --allow-empty -m after && echo ok").stdout).toBe("ok\n");
        const records = join(tmp, `cordon-git-guard-${process.getuid?.() ?? 0}`);
        expect(existsSync(records) ? readdirSync(records) : []).toEqual([]);
      },
    );
  }

  attackTest(
    "a command that can write $TMPDIR forges a live run's record (pid 1 never dies) whose digest is that " +
      "of its planted config: the next workspace run that plants exactly that config leaves it in place",
    [gitMissing],
    () => {
      const s = scene();
      const tmp = join(s.dir, "tmp");
      mkdirSync(tmp);
      const env = { TMPDIR: tmp };
      const config = join(s.ws, ".git/config");
      const plantFile = join(s.dir, "planted");
      const plant = (tag: string) => {
        writeFileSync(plantFile, `${readFileSync(config, "utf8")}[core]\n\tfsmonitor = ${s.payload} ${tag}\n`);
        return `cat ${plantFile} > .git/config && chmod 644 .git/config`;
      };
      const original = readFileSync(config);
      const attack = (args: string[], tag: string) => {
        writeFileSync(config, original);
        s.sandboxed(args, plant(tag), { env });
        s.host("git status >/dev/null 2>&1");
        return s.ran();
      };
      expect(attack(plain("landlock"), "plain")).toContain("RAN-plain");
      // Defended without a forged record: the plant is restored.
      expect(attack(workspace("landlock"), "alone")).toBe("");

      // Run 1 (TMPDIR in its write roots: -w /tmp, or -w ~ with TMPDIR=~/tmp) forges a live run's record.
      const planted = Buffer.from(`${original}[core]\n\tfsmonitor = ${s.payload} forged\n`);
      const record = JSON.stringify({ path: config, digest: fileDigest(planted, 0o644) });
      // Where the records live now: a directory per user, a file per run named <pid>-<start time>.
      const uid = process.getuid?.() ?? 0;
      const forged = `${tmp}/cordon-git-guard-${uid}`;
      s.sandboxed(
        [...workspace("landlock"), "-w", tmp],
        `mkdir -p ${tmp}/cordon-1-forged && printf '%s' '${record}' > ${tmp}/cordon-1-forged/git-guard && ` +
          `mkdir -p -m 700 ${forged} && start=$(cut -d' ' -f22 /proc/1/stat) && ` +
          `printf '[%s]' '${record}' > ${forged}/1-$start.json`,
        { env },
      );
      expect(existsSync(join(tmp, "cordon-1-forged/git-guard"))).toBe(true);
      expect(readdirSync(forged).length).toBe(1);
      // Run 2, the same profile without any access to $TMPDIR.
      expect(attack(workspace("landlock"), "forged")).toBe("");
    },
  );

  attackTest(
    "cordon SIGKILLed during a workspace run, then any other cordon run (another directory, no protectGit): " +
      "that run deletes the killed run's record, and the next workspace run never disarms the plant",
    [gitMissing],
    async () => {
      const s = scene();
      const tmp = join(s.dir, "tmp");
      const other = join(s.dir, "other");
      mkdirSync(tmp);
      mkdirSync(other);
      const env = { ...gitEnv(join(s.dir, "home")), TMPDIR: tmp };
      const config = join(s.ws, ".git/config");
      const killedRun = async (tag: string) => {
        const proc = startCordon(
          [
            ...workspace("landlock"),
            "-q",
            "--",
            "sh",
            "-c",
            `git config core.fsmonitor '${s.payload} ${tag}'; exec sleep 3`,
          ],
          { cwd: s.ws, env },
        );
        await waitFor(() => readFileSync(config, "utf8").includes(tag), "the plant");
        proc.kill("SIGKILL");
        await proc.exited;
      };
      // Defended when the next run is a workspace run of the same directory: it disarms the plant.
      await killedRun("alone");
      expect(s.sandboxed(workspace("landlock"), "true", { env }).stderr).toContain("aside");
      s.host("git status >/dev/null 2>&1");
      expect(s.ran()).toBe("");
      s.host("git config --unset core.fsmonitor; true");

      await killedRun("killed");
      // Any run of the user's, elsewhere.
      expect(s.sandboxed(["-w", ".", ...modeArgs("landlock")], "true", { cwd: other, env }).exitCode).toBe(0);
      const next = s.sandboxed(workspace("landlock"), "true", { env });
      expect(next.exitCode).toBe(0);
      s.host("git status >/dev/null 2>&1");
      expect(s.ran()).toBe("");
    },
  );
});

describe("landlock-only mode: the repair does not follow links", () => {
  attackTest(
    "hooks/ replaced by a symlink to a directory outside the write roots: the repair removes the link only",
    [gitMissing],
    () => {
      const s = scene();
      const outside = join(s.dir, "outside");
      mkdirSync(outside);
      writeFileSync(join(outside, "keep"), "keep\n");
      chmodSync(outside, 0o755);
      const result = s.sandboxed(workspace("landlock"), `rm -rf .git/hooks && ln -s ${outside} .git/hooks`);
      expect(result.stderr).toContain("protectGit: restored");
      expect(readFileSync(join(outside, "keep"), "utf8")).toBe("keep\n");
      expect(statSync(join(s.ws, ".git/hooks")).isDirectory()).toBe(true);
    },
  );
});
