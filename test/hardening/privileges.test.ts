// Privilege hygiene: started as root, the command holds no capability in any
// set, cannot create device nodes (not even inside a write root), and cannot
// dump core (RLIMIT_CORE is 0 and the hard limit cannot be raised back).
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  attempt,
  ERRNO,
  gccMissing,
  hostDir,
  python3Missing,
  removeDir,
  sandboxed,
} from "../helpers/attacks.ts";
import { isRoot, run } from "../helpers/cordon.ts";
import { MODES } from "./modes.ts";

const tools = gccMissing ? undefined : new AttackTools();
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

const needsRoot = isRoot ? undefined : "the tests do not run as root";
const CAP_SETS = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] as const;

function capabilities(status: string): Record<string, string | undefined> {
  return Object.fromEntries(
    CAP_SETS.map((set) => [set, new RegExp(`^${set}:\\s*([0-9a-f]+)$`, "m").exec(status)?.[1]]),
  );
}

/** Why a crash here would not leave ./core in the working directory, or undefined. */
function corePatternReason(): string | undefined {
  const pattern = readFileSync("/proc/sys/kernel/core_pattern", "latin1").trim();
  return /^core[^/|]*$/.test(pattern) ? undefined : `core_pattern is "${pattern}", not a file in the working directory`;
}

for (const mode of MODES) {
  describe(`${mode} mode: privileges`, () => {
    attackTest("started as root, the command has no capability in any set", [needsRoot], () => {
      const plain = capabilities(readFileSync("/proc/self/status", "latin1"));
      expect(plain.CapEff).not.toMatch(/^0+$/);

      const result = sandboxed(mode, ["cat", "/proc/self/status"]);
      expect(result.exitCode).toBe(0);
      const boxed = capabilities(result.stdout);
      for (const set of CAP_SETS) expect({ set, value: boxed[set] }).toEqual({ set, value: "0000000000000000" });
      // And uid 0 alone does not let it write what root could.
      expect(result.stdout).toMatch(/^Uid:\s+0\s/m);
    });

    for (const kind of ["char", "block"] as const) {
      attackTest(`mknod of a ${kind} device fails, even inside a write root`, [gccMissing, needsRoot], () => {
        const dir = hostDir("cordon-mknod-");
        try {
          const plainNode = join(dir, "plain-node");
          expect(attempt(run([trySyscall, `mknod-${kind}`, plainNode]), `mknod-${kind}`).ok).toBe(true);
          expect(lstatSync(plainNode)[kind === "char" ? "isCharacterDevice" : "isBlockDevice"]()).toBe(true);
          rmSync(plainNode);

          const node = join(dir, "node");
          const result = sandboxed(mode, [trySyscall, `mknod-${kind}`, node], { write: [dir] });
          // EPERM without CAP_MKNOD; EACCES from Landlock (no MAKE_CHAR/MAKE_BLOCK).
          expect(attempt(result, `mknod-${kind}`).ok).toBe(false);
          expect<number[]>([ERRNO.EPERM, ERRNO.EACCES]).toContain(attempt(result, `mknod-${kind}`).errno!);
          expect(existsSync(node)).toBe(false);
          expect(readdirSync(dir)).toEqual([]);
        } finally {
          removeDir(dir);
        }
      });
    }

    attackTest("RLIMIT_CORE is 0 and its hard limit cannot be raised", [gccMissing], () => {
      const plain = run([trySyscall, "rlimit-core"]);
      expect(attempt(plain, "setrlimit-core-hard").ok).toBe(true);

      const result = sandboxed(mode, [trySyscall, "rlimit-core"]);
      expect(result.stdout).toStartWith("core-soft=0 core-hard=0\n");
      expect(attempt(result, "setrlimit-core-hard")).toEqual({ ok: false, errno: ERRNO.EPERM });
      // The soft limit cannot go above the hard limit of 0.
      expect(attempt(result, "setrlimit-core-soft")).toEqual({ ok: false, errno: ERRNO.EINVAL });
      expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("core-soft=0 core-hard=0");
    });

    attackTest(
      "a crashing command leaves no core file in its write root",
      [python3Missing, corePatternReason()],
      () => {
        const crash = [
          "import os, resource, signal",
          "try:",
          "    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))",
          "except (OSError, ValueError):",
          "    pass",
          "os.kill(os.getpid(), signal.SIGSEGV)",
        ].join("\n");
        const dir = hostDir("cordon-core-");
        try {
          const plainDir = join(dir, "plain");
          const boxedDir = join(dir, "boxed");
          for (const d of [plainDir, boxedDir]) run(["mkdir", d]);
          run(["python3", "-c", crash], { cwd: plainDir });
          expect(readdirSync(plainDir).some((name) => name.startsWith("core"))).toBe(true);

          const result = sandboxed(mode, ["python3", "-c", crash], { write: [boxedDir], cwd: boxedDir });
          expect(result.exitCode).toBe(128 + 11);
          expect(readdirSync(boxedDir)).toEqual([]);
        } finally {
          removeDir(dir);
        }
      },
    );

    // The capability drop leaves uid 0, and the owner of a file may set its
    // setuid bit without any capability: a root-run sandbox could leave a
    // setuid-root program in a write root for any local user to run later,
    // outside the sandbox. seccomp refuses set-id modes in every mode.
    const plantSetuid = (dir: string) => ["sh", "-c", 'cp /usr/bin/id "$1/id" && chmod 4755 "$1/id"', "sh", dir];
    attackTest("a root-run command can plant a setuid-root file without cordon (control)", [needsRoot], () => {
      const dir = hostDir("cordon-suid-");
      try {
        expect(run(plantSetuid(dir)).exitCode).toBe(0);
        expect(lstatSync(join(dir, "id")).mode & 0o4000).toBe(0o4000);
      } finally {
        removeDir(dir);
      }
    });
    const setuidName = "started as root, the command cannot leave a setuid-root file in a write root";
    const setuidCheck = () => {
      const dir = hostDir("cordon-suid-");
      try {
        chmodSync(dir, 0o755);
        sandboxed(mode, plantSetuid(dir), { write: [dir] });
        const planted = existsSync(join(dir, "id")) ? lstatSync(join(dir, "id")) : undefined;
        expect(planted === undefined || (planted.mode & 0o6000) === 0).toBe(true);
      } finally {
        removeDir(dir);
      }
    };
    attackTest(setuidName, [needsRoot], setuidCheck);
  });
}
