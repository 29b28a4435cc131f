// landlock-only mode end to end, against the real binary: each forbidden
// action fails AND leaves no effect; each allowed one works.
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cordon, missingTool, run, scratchDir, uniqueName, modeArgs } from "../helpers/cordon.ts";

const LL = [...modeArgs("landlock"), "-q"];

const cleanup: string[] = [];
afterEach(() => {
  for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
});
function scratch(): string {
  const dir = scratchDir();
  cleanup.push(dir);
  return dir;
}

describe("writes", () => {
  test.skipIf(Boolean(missingTool("truncate") ?? missingTool("mkfifo")))(
    "outside the write roots: new files, existing files, mkdir, rm and truncate all fail and change nothing",
    () => {
      const root = scratch();
      const outside = scratch();
      const existing = join(outside, "existing");
      writeFileSync(existing, "original");
      // The same actions work without cordon.
      const probe = run([
        "sh",
        "-c",
        `touch ${outside}/probe && mkdir ${outside}/probe-dir && rm -r ${outside}/probe ${outside}/probe-dir`,
      ]);
      expect(probe.exitCode).toBe(0);

      const attempts = [
        `echo x > ${outside}/new`,
        `echo evil >> ${existing}`,
        `echo evil > ${existing}`,
        `truncate -s 0 ${existing}`,
        `mkdir ${outside}/dir`,
        `rm -f ${existing}`,
        `mv ${existing} ${outside}/moved`,
        `ln -s /etc/passwd ${outside}/link`,
        `mkfifo ${outside}/fifo`,
        `touch /etc/${uniqueName()}`,
      ];
      for (const attempt of attempts) {
        const result = cordon([...LL, "-w", root, "--", "sh", "-c", attempt], { cwd: root });
        expect(`${attempt}: ${result.exitCode === 0 ? "succeeded" : "failed"}`).toBe(`${attempt}: failed`);
      }
      expect(readFileSync(existing, "utf8")).toBe("original");
      for (const name of ["new", "dir", "moved", "link", "fifo"]) expect(existsSync(join(outside, name))).toBe(false);
    },
  );

  test("the Done-when example: touch ok works, touch /etc/nope fails, exit 1", () => {
    const root = scratch();
    const nope = `/etc/${uniqueName()}`;
    const result = cordon([...modeArgs("landlock"), "-w", ".", "--", "sh", "-c", `touch ok; touch ${nope}`], {
      cwd: root,
    });
    expect(result.exitCode).toBe(1);
    expect(existsSync(join(root, "ok"))).toBe(true);
    expect(existsSync(nope)).toBe(false);
    expect(result.stderr).toContain("Permission denied");
    // Asked for by name, landlock-only mode stays quiet; -v says what it does not enforce.
    expect(result.stderr).not.toContain("cordon:");
    const verbose = cordon(["-v", ...modeArgs("landlock"), "-w", ".", "--", "true"], { cwd: root });
    expect(verbose.stderr).toContain("cordon: warning: landlock-only mode does not enforce:");
  });

  test("inside a write root: create, append, mkdir, mv across directories, rm", () => {
    const root = scratch();
    const script =
      "mkdir -p a/deep b && echo hi > a/f && echo more >> a/f && mv a/f b/f && mv a/deep b/ && rm -r a && cat b/f";
    const result = cordon([...LL, "-w", root, "--", "sh", "-c", script], { cwd: root });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("hi\nmore\n");
    expect(readFileSync(join(root, "b/f"), "utf8")).toBe("hi\nmore\n");
    expect(existsSync(join(root, "b/deep"))).toBe(true);
    expect(existsSync(join(root, "a"))).toBe(false);
  });

  test("-w with a relative path resolves against -C", () => {
    const parent = scratch();
    mkdirSync(join(parent, "sub"));
    const result = cordon([...LL, "-C", parent, "-w", "sub", "--", "sh", "-c", "touch sub/ok && pwd"], { cwd: "/" });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(parent);
    expect(existsSync(join(parent, "sub/ok"))).toBe(true);
  });

  test("reads work everywhere, the working directory included", () => {
    const root = scratch();
    writeFileSync(join(root, "data"), "readable");
    const result = cordon([...LL, "--", "sh", "-c", "cat data && head -c 4 /etc/passwd"], { cwd: root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`readable${readFileSync("/etc/passwd", "utf8").slice(0, 4)}`);
  });

  test("/dev/null stays writable", () => {
    const result = cordon([...LL, "--", "sh", "-c", "echo x > /dev/null && echo ok"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("ok\n");
  });
});

describe("private TMPDIR", () => {
  test("is exported, writable, not the host /tmp, and removed after the run", () => {
    const script = 'echo "$TMPDIR"; echo data > "$TMPDIR/f" && mkdir "$TMPDIR/d" && cat "$TMPDIR/f"';
    const result = cordon([...LL, "--", "sh", "-c", script]);
    expect(result.exitCode).toBe(0);
    const [dir, data] = result.stdout.split("\n");
    expect(data).toBe("data");
    expect(dir!.startsWith(join(tmpdir(), "cordon-"))).toBe(true);
    expect(dir).not.toBe("/tmp");
    expect(dir).not.toBe(tmpdir());
    expect(existsSync(dir!)).toBe(false);
  });

  test("each run gets its own", () => {
    const first = cordon([...LL, "--", "sh", "-c", 'echo "$TMPDIR"']).stdout;
    const second = cordon([...LL, "--", "sh", "-c", 'echo "$TMPDIR"']).stdout;
    expect(first).not.toBe(second);
  });

  test("the host /tmp is not writable", () => {
    const name = join("/tmp", uniqueName());
    cleanup.push(name);
    expect(run(["sh", "-c", `touch ${name} && rm ${name}`]).exitCode).toBe(0);
    const result = cordon([...LL, "--", "touch", name]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Permission denied");
    expect(existsSync(name)).toBe(false);
  });
});

describe("exit status", () => {
  test.each([0, 1, 42, 255])("exit %d is passed through", (code) => {
    expect(cordon([...LL, "--", "sh", "-c", `exit ${code}`]).exitCode).toBe(code);
  });

  test("death by signal N gives 128+N", () => {
    expect(cordon([...LL, "--", "sh", "-c", "kill -TERM $$"]).exitCode).toBe(143);
    expect(cordon([...LL, "--", "sh", "-c", "kill -KILL $$"]).exitCode).toBe(137);
    expect(cordon([...LL, "--", "sh", "-c", "kill -INT $$"]).exitCode).toBe(130);
  });

  test("127 when the command is not found", () => {
    const name = uniqueName("no-such-command");
    const result = cordon([...LL, "--", name]);
    expect(result.exitCode).toBe(127);
    expect(result.stderr).toContain(name);
    expect(cordon([...LL, "--", `/nonexistent/${name}`]).exitCode).toBe(127);
  });

  test("126 when it is not executable", () => {
    const root = scratch();
    writeFileSync(join(root, "script"), "#!/bin/sh\necho ran\n");
    chmodSync(join(root, "script"), 0o644);
    const result = cordon([...LL, "--", "./script"], { cwd: root });
    expect(result.exitCode).toBe(126);
    expect(result.stdout).toBe("");
    expect(cordon([...LL, "--", root]).exitCode).toBe(126);
  });

  test("an executable file without #! runs under /bin/sh, as execvp does", () => {
    const root = scratch();
    writeFileSync(join(root, "plain"), 'echo plain "$1"\n');
    chmodSync(join(root, "plain"), 0o755);
    const result = cordon([...LL, "--", "./plain", "arg"], { cwd: root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("plain arg\n");
  });
});

describe("refusals: exit 125 and the command never runs", () => {
  // Every case asks for a command that would create `marker` inside a write root.
  const refused = (extra: string[], env: Record<string, string> = {}) => {
    const root = scratch();
    const marker = join(root, "marker");
    const result = cordon([...modeArgs("landlock"), "-w", root, ...extra, "--", "touch", marker], { env });
    return { result, ran: existsSync(marker) };
  };

  test("the marker command itself works", () => {
    const { result, ran } = refused([]);
    expect(result.exitCode).toBe(0);
    expect(ran).toBe(true);
  });

  test("unknown option", () => {
    const { result, ran } = refused(["--deny-wirte", "x"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("unknown option --deny-wirte");
    expect(ran).toBe(false);
  });

  test("missing write root", () => {
    const missing = `/nonexistent/${uniqueName()}`;
    const { result, ran } = refused(["-w", missing]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain(missing);
    expect(ran).toBe(false);
  });

  test("a write root that is a file", () => {
    const { result, ran } = refused(["-w", "/etc/passwd"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("not a directory");
    expect(ran).toBe(false);
  });

  test("bad --mode value", () => {
    const { result, ran } = refused(["--mode", "none"]);
    expect(result.exitCode).toBe(125);
    expect(ran).toBe(false);
  });

  test("Landlock unavailable (CORDON_LANDLOCK_ABI_MAX=0)", () => {
    const { result, ran } = refused([], { CORDON_LANDLOCK_ABI_MAX: "0" });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("Landlock");
    expect(result.stderr).toContain("not run");
    expect(ran).toBe(false);
  });

  test("a malformed CORDON_LANDLOCK_ABI_MAX", () => {
    const { result, ran } = refused([], { CORDON_LANDLOCK_ABI_MAX: "seven" });
    expect(result.exitCode).toBe(125);
    expect(ran).toBe(false);
  });

  test("empty command", () => {
    expect(cordon([...LL, "--"]).exitCode).toBe(125);
    expect(cordon([...LL]).exitCode).toBe(125);
    expect(cordon([...LL, "--", ""]).exitCode).toBe(125);
    expect(cordon([]).exitCode).toBe(125);
  });
});

describe("lower Landlock ABIs on this kernel", () => {
  test.each([1, 2, 3, 5, 6])("ABI capped to %d still confines writes and lets write roots work", (abi) => {
    const root = scratch();
    const outside = scratch();
    const script = `mkdir a b && touch a/f && touch ${outside}/nope; echo $?`;
    const result = cordon([...LL, "-w", root, "--", "sh", "-c", script], {
      cwd: root,
      env: { CORDON_LANDLOCK_ABI_MAX: String(abi) },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe("1");
    expect(existsSync(join(root, "a/f"))).toBe(true);
    expect(existsSync(join(outside, "nope"))).toBe(false);
  });

  test.skipIf(Boolean(missingTool("python3")))(
    "REFER: rename across directories in a write root works from ABI 2, and fails with EXDEV at ABI 1",
    () => {
      const root = scratch();
      const script = "mkdir a b && touch a/f && mv a/f b/f";
      const at2 = cordon([...LL, "-w", root, "--", "sh", "-c", script], {
        cwd: root,
        env: { CORDON_LANDLOCK_ABI_MAX: "2" },
      });
      expect(at2.exitCode).toBe(0);
      expect(existsSync(join(root, "b/f"))).toBe(true);
      const root1 = scratch();
      // At ABI 1 rename(2) across directories is refused; mv falls back to copy + unlink.
      const at1 = cordon(
        [
          ...LL,
          "-w",
          root1,
          "--",
          "python3",
          "-c",
          "import os; os.makedirs('a'); os.makedirs('b'); open('a/f','w').close(); os.rename('a/f','b/f')",
        ],
        { cwd: root1, env: { CORDON_LANDLOCK_ABI_MAX: "1" } },
      );
      expect(at1.exitCode).not.toBe(0);
      expect(at1.stderr).toContain("Invalid cross-device link");
      expect(existsSync(join(root1, "b/f"))).toBe(false);
    },
  );
});
