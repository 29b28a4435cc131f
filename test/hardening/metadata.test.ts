// Landlock has no right for chmod. A command that cannot read a hidden
// directory could still `chmod 777` it and expose it to every local user; as
// root (uid 0 without capabilities still owns the system's files) that
// reaches every system file. bwrap mode's read-only mounts refuse it;
// in landlock-only mode without a write root seccomp refuses every chmod,
// chown and xattr change; with write roots it refuses to run as root unless
// the gap is accepted by name, and says in plain words what the gap is for
// everyone else.
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, removeDir } from "../helpers/attacks.ts";
import { cordon, isRoot, NOBODY, run } from "../helpers/cordon.ts";

const scratch = hostDir("cordon-metadata-");
afterAll(() => removeDir(scratch));

let counter = 0;
/** A secret directory (0700, with a 0600 key) owned by `owner`, hidden by --deny-read. */
function secretDir(owner: number): string {
  const dir = join(scratch, `secret-${counter++}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, "id_ed25519"), "key\n", { mode: 0o600 });
  chownSync(dir, owner, owner);
  chownSync(join(dir, "id_ed25519"), owner, owner);
  chmodSync(dir, 0o700);
  return dir;
}

const modeOf = (path: string) => statSync(path).mode & 0o777;
const exposing = (dir: string) => ["sh", "-c", `chmod 777 '${dir}'; chmod 666 '${dir}/id_ed25519'`];

const USERS = [
  ...(isRoot ? [{ name: "root", uid: 0, asNobody: false }] : []),
  ...(isRoot ? [{ name: "nobody", uid: NOBODY, asNobody: true }] : []),
];

describe("without cordon", () => {
  for (const user of USERS) {
    attackTest(`${user.name} makes its own secret directory world-readable`, [], () => {
      const dir = secretDir(user.uid);
      expect(run(exposing(dir), { asNobody: user.asNobody }).exitCode).toBe(0);
      expect(modeOf(dir)).toBe(0o777);
    });
  }
});

for (const user of USERS) {
  describe(`as ${user.name}`, () => {
    attackTest("bwrap mode: chmod of a hidden directory and its key fails, and nothing changes", [], () => {
      const dir = secretDir(user.uid);
      const result = cordon(["--mode", "bwrap", "-q", "--deny-read", dir, "--", ...exposing(dir)], {
        asNobody: user.asNobody,
      });
      expect(result.exitCode).not.toBe(0);
      expect(modeOf(dir)).toBe(0o700);
      expect(modeOf(join(dir, "id_ed25519"))).toBe(0o600);
    });

    attackTest("landlock-only mode without a write root: seccomp refuses the chmod, and the run is quiet", [], () => {
      const dir = secretDir(user.uid);
      const result = cordon(["--mode", "landlock", "--deny-read", dir, "--", ...exposing(dir)], {
        asNobody: user.asNobody,
      });
      expect(result.stderr).not.toContain("cordon:");
      expect(result.stderr).toContain("Operation not permitted");
      expect(modeOf(dir)).toBe(0o700);
      expect(modeOf(join(dir, "id_ed25519"))).toBe(0o600);
      expect(cordon(["--mode", "landlock", "--", "true"], { asNobody: user.asNobody })).toMatchObject({
        exitCode: 0,
        stdout: "",
        stderr: "",
      });
    });
  });
}

/** A write root: with one, landlock-only mode cannot refuse chmod everywhere, and the gap is back. */
const workspace = () => {
  const dir = join(scratch, `ws-${counter++}`);
  mkdirSync(dir, { mode: 0o777 });
  chmodSync(dir, 0o777);
  return dir;
};

describe("landlock-only mode", () => {
  attackTest("as root it is refused by default: the command never runs", [isRoot ? undefined : "needs root"], () => {
    const dir = secretDir(0);
    // Auto mode falls back to landlock-only mode when bwrap cannot create namespaces (Docker's default).
    const failingBwrap = join(scratch, "failing-bwrap");
    writeFileSync(failingBwrap, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n", {
      mode: 0o755,
    });
    for (const mode of ["landlock", "auto"]) {
      const bwrap = mode === "auto" ? ["--bwrap", failingBwrap] : [];
      const result = cordon(["--mode", mode, ...bwrap, "-w", workspace(), "--deny-read", dir, "--", ...exposing(dir)]);
      expect(result.exitCode).toBe(125);
      expect(result.stderr).toContain("running as root");
      expect(result.stderr).toContain("--allow-degraded metadata");
      expect(modeOf(dir)).toBe(0o700);
    }
  });

  attackTest(
    "as root, --allow-degraded metadata accepts the gap: the chmod happens (what the refusal prevents)",
    [isRoot ? undefined : "needs root"],
    () => {
      const dir = secretDir(0);
      const result = cordon([
        "--mode",
        "landlock",
        "--allow-degraded",
        "metadata",
        "-q",
        "-w",
        workspace(),
        "--deny-read",
        dir,
        "--",
        ...exposing(dir),
      ]);
      expect(result.exitCode).toBe(0);
      expect(modeOf(dir)).toBe(0o777);
    },
  );

  attackTest(
    "as another user, the gap is real and the warning says so in plain words",
    [isRoot ? undefined : "needs root to switch users"],
    () => {
      const dir = secretDir(NOBODY);
      const result = cordon(
        ["--mode", "landlock", "-v", "-w", workspace(), "--deny-read", dir, "--", ...exposing(dir)],
        {
          asNobody: true,
        },
      );
      expect(result.exitCode).toBe(0);
      expect(modeOf(dir)).toBe(0o777);
      expect(result.stderr).toContain("metadata outside the write roots");
      const explain = cordon(["explain", "--mode", "landlock", "-w", workspace(), "--deny-read", dir], {
        asNobody: true,
      });
      expect(explain.stdout).toContain("readable or writable by every local user");
    },
  );
});
