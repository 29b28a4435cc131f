// Landlock-only mode must run everyday work (issue 16, items 4-7), against the
// real binary, as root and as nobody, with bwrap mode beside it for parity:
// the project root stays writable under workspace and ci, Python
// multiprocessing gets /dev/shm when it is asked for (and says how when it is
// not), /, /home and ~ stay listable beside a hidden ~/.ssh whose files stay
// unreadable, and the costs of the mode are said in plain words.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cordon, isRoot, missingTool, modeArgs, NOBODY, run, scratchDir, type RunOptions } from "../helpers/cordon.ts";

const bwrapWorks = cordon(["--mode", "bwrap", "-q", "--", "true"]).exitCode === 0;
const MODES = bwrapWorks ? ["landlock", "bwrap"] : ["landlock"];
const USERS = isRoot ? [false, true] : [false];
const who = (asNobody: boolean) => (asNobody ? "as nobody" : "as the invoking user");
const output = (result: { stdout: string; stderr: string }) => result.stdout + result.stderr;

/** A directory outside /tmp (bwrap mode gives the sandbox a /tmp of its own), owned by nobody when asked. */
function outsideTmp(prefix: string, asNobody: boolean): string {
  const dir = mkdtempSync(join("/var/tmp", prefix));
  chmodSync(dir, 0o755);
  if (asNobody) run(["chown", `${NOBODY}:${NOBODY}`, dir]);
  return dir;
}

// npm ci's `mkdir node_modules`, `make clean`, a new file: each creates or removes an entry in the project root.
const EVERYDAY = [
  "touch a.txt",
  "mkdir node_modules",
  "printf 'clean:\\n\\trm -rf node_modules build\\n' > Makefile",
  "mkdir build",
  "make -s clean",
  "rm a.txt Makefile",
  "test ! -e node_modules && test ! -e build",
  "echo livable",
].join(" && ");

const COMMIT = "git -C main -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m x";

describe("item 4: the project root stays writable under workspace and ci", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  for (const mode of MODES)
    for (const asNobody of USERS)
      for (const profile of ["workspace", "ci"])
        for (const git of ["no .git", "a .git directory", "a .git file (linked worktree)"]) {
          test.skipIf(missingTool("make") !== undefined || missingTool("git") !== undefined)(
            `${mode}, ${profile}, ${git}, no .vscode or .idea: create and remove top-level entries (${who(asNobody)})`,
            () => {
              const top = scratchDir("cordon-livable-", asNobody ? NOBODY : undefined);
              dirs.push(top);
              const project = join(top, "project");
              const as = { cwd: top, asNobody };
              const setup =
                git === "no .git"
                  ? "mkdir project"
                  : git === "a .git directory"
                    ? "git init -q project"
                    : `git init -q main && ${COMMIT} && git -C main worktree add -q ../project`;
              expect(run(["sh", "-c", setup], { ...as, env: { HOME: top } }).exitCode).toBe(0);
              const options: RunOptions = { cwd: project, asNobody, env: { HOME: top } };
              const result = cordon(
                [...modeArgs(mode), "-q", "--profile", profile, "--", "sh", "-c", EVERYDAY],
                options,
              );
              expect(output(result)).toContain("livable");
              expect(result.exitCode).toBe(0);
              expect(existsSync(join(project, "a.txt"))).toBe(false);
              expect(existsSync(join(project, ".vscode"))).toBe(false);
            },
          );
        }
});

const MULTIPROCESSING = `
import multiprocessing as mp
def square(x): return x * x
if __name__ == "__main__":
    queue = mp.Queue(); queue.put(1); lock = mp.Lock()
    with mp.Pool(2) as pool: print("pool", sum(pool.map(square, range(10))))
`;
// What --strict refuses in landlock-only mode on any host, accepted so that the test shows shm's acceptance counts.
const STRICT_ACCEPTS = ["unix-sockets", "process-isolation"].flatMap((name) => ["--allow-degraded", name]);
// A system python3: nobody cannot enter root's home, where pyenv's shims live.
const PYTHON = ["/usr/bin/python3", "/usr/local/bin/python3"].find((path) => existsSync(path));

/** Another process's POSIX shared memory, of the same user (/dev/shm is sticky: protected_regular guards others'). */
const shmObjectOf = (asNobody: boolean) => `/dev/shm/cordon-test-${process.pid}-${asNobody ? "nobody" : "caller"}`;

describe("item 5: /dev/shm and Python multiprocessing", () => {
  let script: string;
  beforeAll(() => {
    script = join(outsideTmp("cordon-shm-", isRoot), "mp.py");
    writeFileSync(script, MULTIPROCESSING, { mode: 0o644 });
  });
  afterAll(() => {
    for (const user of USERS) rmSync(shmObjectOf(user), { force: true });
    rmSync(dirname(script), { recursive: true, force: true });
  });

  for (const asNobody of USERS) {
    const shmObject = shmObjectOf(asNobody);
    beforeAll(() => {
      expect(run(["sh", "-c", `echo host-shm-bytes > ${shmObject}`], { asNobody }).exitCode).toBe(0);
    });

    test.skipIf(!PYTHON)(
      `landlock-only mode: refused by default, the costs name /dev/shm and the fix (${who(asNobody)})`,
      () => {
        const result = cordon([...modeArgs("landlock"), "-v", "--", PYTHON!, script], { asNobody });
        expect(result.exitCode).not.toBe(0);
        expect(result.stderr).toContain("PermissionError");
        expect(result.stderr).toContain("/dev/shm is not writable");
        expect(result.stderr).toContain("--allow-degraded shm");
        // Fail closed: the host's shared memory is out of reach.
        const peek = cordon([...modeArgs("landlock"), "--", "sh", "-c", `echo x >> ${shmObject}`], { asNobody });
        expect(peek.exitCode).not.toBe(0);
      },
    );

    test.skipIf(!PYTHON)(
      `landlock-only mode with --allow-degraded shm: Queue, Lock and Pool work (${who(asNobody)})`,
      () => {
        const result = cordon(
          [...modeArgs("landlock"), "--strict", ...STRICT_ACCEPTS, "--allow-degraded", "shm", "--", PYTHON!, script],
          {
            asNobody,
            env: { HOME: "/" },
          },
        );
        expect(output(result)).toContain("pool 285");
        expect(result.exitCode).toBe(0);
        // The trade-off named, shown real: another process's shared memory is within reach.
        const append = `echo reached >> ${shmObject}`;
        const shared = cordon([...modeArgs("landlock"), "--allow-degraded", "shm", "--", "sh", "-c", append], {
          asNobody,
        });
        expect(shared.exitCode).toBe(0);
        const explain = cordon(["explain", ...modeArgs("landlock"), "--allow-degraded", "shm"], { asNobody });
        expect(explain.stdout).toMatch(/not enforced here:[^]*a private \/dev\/shm: .*same user/);
      },
    );

    test.skipIf(!PYTHON || !bwrapWorks)(`bwrap mode: a private /dev/shm, nothing to accept (${who(asNobody)})`, () => {
      const result = cordon([...modeArgs("bwrap"), "--", PYTHON!, script], { asNobody });
      expect(output(result)).toContain("pool 285");
      expect(result.exitCode).toBe(0);
      const peek = cordon([...modeArgs("bwrap"), "--allow-degraded", "shm", "--", "cat", shmObject], { asNobody });
      expect(output(peek)).not.toContain("host-shm-bytes");
    });
  }
});

describe("item 6: ancestors of a hidden directory stay listable", () => {
  for (const mode of MODES)
    for (const asNobody of USERS) {
      test(`${mode}: ls /, /var/tmp and ~ work beside ~/.ssh, whose files stay unreadable (${who(asNobody)})`, () => {
        const home = outsideTmp("cordon-home-", asNobody);
        try {
          const setup = "mkdir .ssh && echo ssh-key-bytes-77 > .ssh/id_ed25519 && touch visible";
          expect(run(["sh", "-c", setup], { cwd: home, asNobody }).exitCode).toBe(0);
          const script = "ls / && ls /var/tmp && ls ~ && echo LISTED; ls -a ~/.ssh; cat ~/.ssh/id_ed25519";
          const result = cordon([...modeArgs(mode), "-q", "--", "sh", "-c", script], {
            cwd: home,
            asNobody,
            env: { HOME: home },
          });
          expect(result.stdout).toContain("LISTED");
          expect(result.stdout).toContain("visible");
          expect(output(result)).not.toContain("ssh-key-bytes-77");
          // bwrap mode mounts an empty directory over it; landlock-only mode shows the names, never the contents.
          if (mode === "bwrap") expect(result.stdout).not.toContain("id_ed25519\n");
          const explain = cordon(["explain", ...modeArgs(mode)], { cwd: home, asNobody, env: { HOME: home } });
          if (mode === "landlock") {
            expect(explain.stdout).toContain(`names in hidden directories: the names of the entries in ${home}/.ssh`);
          }
        } finally {
          rmSync(home, { recursive: true, force: true });
        }
      });
    }

  test.skipIf(!bwrapWorks)("bwrap mode: a read-denied path that does not exist keeps / and its parent listable", () => {
    const home = outsideTmp("cordon-home-", false);
    try {
      mkdirSync(join(home, "sub"));
      const result = cordon(
        [...modeArgs("bwrap"), "-q", "--deny-read", join(home, "missing"), "--", "sh", "-c", `ls / && ls ${home}`],
        { env: { HOME: home } },
      );
      expect(result.stdout).toContain("sub");
      expect(result.exitCode).toBe(0);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("item 7: the costs of landlock-only mode, in plain words", () => {
  let project: string;
  beforeAll(() => {
    project = scratchDir("cordon-costs-");
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  test("explain lists them apart from what is not enforced", () => {
    const result = cordon(["explain", ...modeArgs("landlock"), "-w", "."], { cwd: project });
    expect(result.stdout).toMatch(/costs of this mode[^\n]*:\n[^]*\/tmp is read-only/);
    expect(result.stdout).toMatch(/costs of this mode[^]*\/dev\/shm is not writable/);
  });

  test("-v after a failed run names them, and never advises -w /home", () => {
    const result = cordon([
      ...modeArgs("landlock"),
      "-v",
      "--",
      "sh",
      "-c",
      `ls ~ && mkdir /tmp/cordon-costs-${process.pid}`,
    ]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("/tmp is read-only");
    expect(result.stderr).toContain("$TMPDIR");
    expect(result.stderr).not.toContain("-w /home");
  });

  test.skipIf(!bwrapWorks)("bwrap mode has none of these costs", () => {
    const result = cordon(["explain", ...modeArgs("bwrap"), "-w", "."], { cwd: project });
    expect(result.stdout).not.toContain("/dev/shm is not writable");
  });
});
