// Attacks from the adversarial review of issue 12's deny paths, kept as
// tests. Each runs against the compiled binary, as root and as nobody:
// - a forged placeholder record (a sandboxed command that can write $TMPDIR
//   plants one) must not turn the user's directory into a "missing" path, nor
//   make a later run remove an empty directory of the user's;
// - a run with another $TMPDIR must not fill in another run's placeholder;
// - a missing read-denied file below a write-denied directory that the host
//   creates during the run stays unreadable.
import { afterEach, describe, expect, test } from "bun:test";
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostDir, removeDir } from "../helpers/attacks.ts";
import { cordon, finish, isRoot, NOBODY, startCordon, waitFor, modeArgs } from "../helpers/cordon.ts";

const SECRET = "API_KEY=hunter2-review";
const USERS = [
  { label: "root", asNobody: false },
  { label: "nobody", asNobody: true },
].filter((user) => isRoot || !user.asNobody);

let dir: string | undefined;
afterEach(() => removeDir(dir));

/** A fresh tree owned by the user under test. */
function tree(asNobody: boolean, ...dirs: string[]): string {
  dir = hostDir("cordon-review-");
  for (const sub of dirs) mkdirSync(join(dir, sub), { recursive: true });
  return dir;
}

function own(root: string, asNobody: boolean): void {
  if (!asNobody) return;
  const walk = (path: string) => {
    chownSync(path, NOBODY, NOBODY);
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else chownSync(child, NOBODY, NOBODY);
    }
  };
  walk(root);
}

/** What a sandboxed command with $TMPDIR writable could leave: a dead run's state directory with a record. */
function forgeRecord(tmp: string, record: object): void {
  const state = join(tmp, "cordon-999999-abcdef");
  mkdirSync(state, { recursive: true });
  writeFileSync(join(state, "placeholders"), `${JSON.stringify(record)}\n`);
}

describe.each(USERS)("deny paths under review, as $label", ({ asNobody }) => {
  test("a forged record does not make a directory with a read-denied file count as missing", () => {
    const root = tree(asNobody, "ws/conf/app", "tmp");
    writeFileSync(join(root, "ws/conf/app/.env"), SECRET);
    forgeRecord(join(root, "tmp"), { path: join(root, "ws/conf/app") });
    own(root, asNobody);
    const policy = ["-w", join(root, "ws"), "--deny-write", join(root, "ws/conf")];
    const env = { TMPDIR: join(root, "tmp") };
    // Without the deny-read entry the file is readable: the attack is real.
    const open = cordon(["--mode", "bwrap", ...policy, "--", "cat", join(root, "ws/conf/app/.env")], { env, asNobody });
    expect(open.stdout).toContain(SECRET);
    const denied = [...policy, "--deny-read", join(root, "ws/conf/app/.env")];
    for (const mode of ["bwrap", "landlock"]) {
      const result = cordon([...modeArgs(mode), ...denied, "--", "cat", join(root, "ws/conf/app/.env")], {
        env,
        asNobody,
      });
      expect(result.stdout).not.toContain(SECRET);
    }
  });

  test("a forged record does not make cordon remove an empty directory of the user's", () => {
    const root = tree(asNobody, "ws", "tmp", "outside/victim");
    own(root, asNobody);
    forgeRecord(join(root, "tmp"), { path: join(root, "outside/victim") });
    own(join(root, "tmp"), asNobody);
    const env = { TMPDIR: join(root, "tmp") };
    const result = cordon(["-w", join(root, "ws"), "--deny-write", join(root, "ws/.envrc"), "--", "true"], {
      env,
      asNobody,
    });
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(root, "outside/victim"))).toBe(true);
  });

  test("a run with another $TMPDIR does not fill in a placeholder another run holds", async () => {
    const root = tree(asNobody, "ws", "ta", "tb");
    own(root, asNobody);
    const ws = join(root, "ws");
    const policy = [
      "--mode",
      "bwrap",
      "-w",
      ws,
      "--deny-write",
      join(ws, ".git/hooks"),
      "--deny-write",
      join(ws, ".git/config"),
    ];
    const first = startCordon([...policy, "--", "sleep", "2"], { env: { TMPDIR: join(root, "ta") }, asNobody });
    await waitFor(() => existsSync(join(ws, ".git")), "the first run's placeholder");
    const script = "chmod u+w .git; echo 'ref: refs/heads/main' > .git/HEAD; mkdir -p .git/hooks; true";
    const second = cordon([...policy, "-C", ws, "--", "sh", "-c", script], {
      env: { TMPDIR: join(root, "tb") },
      asNobody,
    });
    expect([0, 125]).toContain(second.exitCode);
    await finish(first);
    expect(existsSync(join(ws, ".git"))).toBe(false);
  });

  test("a missing read-denied file below a write-denied dir, made by the host mid-run, stays unread", async () => {
    const root = tree(asNobody, "ws/conf/app");
    own(root, asNobody);
    const env = join(root, "ws/conf/app/.env");
    const ready = join(root, "ws/ready");
    const policy = ["-w", join(root, "ws"), "--deny-write", join(root, "ws/conf"), "--deny-read", env];
    for (const mode of ["bwrap", "landlock"]) {
      const script = `until [ -e "$1" ]; do sleep 0.02; done; cat "$2"; true`;
      const proc = startCordon([...modeArgs(mode), ...policy, "--", "sh", "-c", script, "sh", ready, env], {
        asNobody,
      });
      await Bun.sleep(300);
      writeFileSync(env, SECRET);
      writeFileSync(ready, "");
      const result = await finish(proc);
      expect(result.stdout).not.toContain(SECRET);
      expect(result.exitCode).toBe(0);
    }
  });
});
