// Writes into read-only paths by indirection: symlinks, hard links, renames,
// and truncation. Each attack runs twice on its own fresh tree: plainly, where
// it must change the protected files (so the attack is real), and under
// cordon, where it must fail and leave everything outside the write root as
// it was.
import { afterAll, describe, expect } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AttackTools, attackTest, attempt, ERRNO, gccMissing, sandboxed } from "../helpers/attacks.ts";
import { run } from "../helpers/cordon.ts";
import { fsFixture, protectedSnapshot, type FsFixture } from "../helpers/fs-fixture.ts";
import { MODES } from "./modes.ts";

// Compiled when the file loads, not in beforeAll: some skip decisions probe
// the kernel with it while the tests are being defined.
const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

interface FsAttack {
  name: string;
  /** Host-side preparation (what an earlier run or the user left behind). */
  prepare?: (f: FsFixture) => void;
  command: (f: FsFixture) => string[];
  /** try-syscall label whose errno proves the kernel refused, when there is one. */
  label?: string;
}

const sh = (script: string, f: FsFixture) => ["sh", "-c", script, "sh", f.root, f.prot];
const plantEvil = (f: FsFixture) => writeFileSync(join(f.root, "evil"), "pwned\n");

const WRITE_ATTACKS: FsAttack[] = [
  {
    name: "write through a symlink the command plants in a write root",
    command: (f) => sh('ln -s "$2/secret.txt" "$1/link" && echo pwned > "$1/link"', f),
  },
  {
    name: "write through a symlink left in the write root by the host",
    prepare: (f) => symlinkSync(f.secret, join(f.root, "planted")),
    command: (f) => sh('echo pwned > "$1/planted"', f),
  },
  {
    name: "create a file through a symlink to a read-only directory",
    command: (f) => sh('ln -s "$2" "$1/dirlink" && echo pwned > "$1/dirlink/new.txt"', f),
  },
  {
    name: "hard-link a read-only file into a write root, then append to the link",
    command: (f) => sh('ln "$2/secret.txt" "$1/hard" && echo pwned >> "$1/hard"', f),
  },
  {
    name: "link(2) a read-only file into a write root",
    command: (f) => [trySyscall, "link", f.secret, join(f.root, "hard")],
    label: "link",
  },
  {
    name: "rename(2) a write-root file over a read-only file",
    prepare: plantEvil,
    command: (f) => [trySyscall, "rename", join(f.root, "evil"), f.secret],
    label: "rename",
  },
  {
    name: "mv (with its copy fallback) a write-root file over a read-only file",
    prepare: plantEvil,
    command: (f) => sh('mv -f "$1/evil" "$2/secret.txt"', f),
  },
  {
    name: "rename(2) a read-only file out into a write root",
    command: (f) => [trySyscall, "rename", f.secret, join(f.root, "stolen")],
    label: "rename",
  },
  {
    name: "exchange (RENAME_EXCHANGE) a write-root file with a read-only file",
    prepare: plantEvil,
    command: (f) => [trySyscall, "rename-exchange", join(f.root, "evil"), f.secret],
    label: "rename-exchange",
  },
  {
    name: "rename a protected directory away",
    command: (f) => [trySyscall, "rename", f.dir, join(f.prot, "dir.moved")],
    label: "rename",
  },
  {
    name: "move a protected directory into a write root",
    command: (f) => [trySyscall, "rename", f.dir, join(f.root, "dir")],
    label: "rename",
  },
  {
    name: "rename the write root itself away (to put a symlink in its place)",
    command: (f) => [trySyscall, "rename", f.root, join(f.base, "root.moved")],
    label: "rename",
  },
  {
    name: "unlink a read-only file",
    command: (f) => sh('rm -f "$2/secret.txt" && test ! -e "$2/secret.txt"', f),
  },
];

const TRUNCATE_ATTACKS: FsAttack[] = [
  {
    name: "truncate(2) a read-only file",
    command: (f) => [trySyscall, "truncate", f.secret],
    label: "truncate",
  },
  {
    name: "open a read-only file with O_WRONLY|O_TRUNC",
    command: (f) => [trySyscall, "open-trunc", f.secret, "wronly"],
    label: "open-wronly-trunc",
  },
  {
    // O_RDONLY|O_TRUNC still truncates on Linux: only write access to the
    // file and Landlock's TRUNCATE right (ABI 3) stand in the way.
    name: "open a read-only file with O_RDONLY|O_TRUNC",
    command: (f) => [trySyscall, "open-trunc", f.secret, "rdonly"],
    label: "open-rdonly-trunc",
  },
  {
    name: "truncate a read-only file through a symlink in a write root",
    prepare: (f) => symlinkSync(f.secret, join(f.root, "trunc-link")),
    command: (f) => [trySyscall, "truncate", join(f.root, "trunc-link")],
    label: "truncate",
  },
  {
    name: "truncate with the shell's `: >` redirection",
    command: (f) => sh(': > "$2/secret.txt"', f),
  },
];

/** Runs `attack` on a fresh tree plainly and checks that it changed the protected files. */
function provePlainAttackWorks(attack: FsAttack): void {
  const f = fsFixture();
  try {
    attack.prepare?.(f);
    const before = protectedSnapshot(f);
    const result = run(attack.command(f));
    expect(result.exitCode, `the attack itself failed without cordon: ${result.stdout}${result.stderr}`).toBe(0);
    expect(protectedSnapshot(f)).not.toEqual(before);
  } finally {
    f.cleanup();
  }
}

function assertBlocked(mode: string, attack: FsAttack): void {
  const f = fsFixture();
  try {
    attack.prepare?.(f);
    const before = protectedSnapshot(f);
    const result = sandboxed(mode, attack.command(f), { write: [f.root], cwd: f.root });
    expect(result.exitCode, `the attack succeeded under cordon: ${result.stdout}${result.stderr}`).not.toBe(0);
    if (attack.label) {
      const { ok, errno } = attempt(result, attack.label);
      expect(ok).toBe(false);
      // EACCES from Landlock's path rules, EXDEV from its REFER check; in bwrap
      // mode the read-only mounts answer first (EROFS, EBUSY for a mount point).
      const expected: number[] = [ERRNO.EACCES, ERRNO.EXDEV, ERRNO.EPERM, ERRNO.ENOENT];
      if (mode === "bwrap") expected.push(ERRNO.EROFS, ERRNO.EBUSY);
      expect(expected).toContain(errno!);
    }
    expect(protectedSnapshot(f)).toEqual(before);
  } finally {
    f.cleanup();
  }
}

for (const mode of MODES) {
  describe(`${mode} mode: writes into read-only paths by indirection`, () => {
    for (const attack of WRITE_ATTACKS) {
      attackTest(attack.name, [attack.label === undefined ? undefined : gccMissing], () => {
        provePlainAttackWorks(attack);
        assertBlocked(mode, attack);
      });
    }
  });

  describe(`${mode} mode: truncation of read-only files`, () => {
    for (const attack of TRUNCATE_ATTACKS) {
      attackTest(attack.name, [attack.label === undefined ? undefined : gccMissing], () => {
        provePlainAttackWorks(attack);
        assertBlocked(mode, attack);
      });
    }
  });
}
