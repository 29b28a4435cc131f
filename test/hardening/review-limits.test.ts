// Review of issue 17 (resource limits and the timeout, partial): attacks on
// the timeout (stage1/supervise.ts armDeadline, stage1/sweep.ts
// signalDescendants), the rlimits stage 2 sets before execve, bwrap mode's
// sized tmpfs, the exit status and report, and the parsing of durations and
// sizes. Defended attacks are attackTest; holes are holeTest (test.failing:
// they pass while the hole is open).
import { afterAll, describe, expect, setDefaultTimeout } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  gccMissing,
  holeTest,
  hostDir,
  removeDir,
  sandboxArgs,
  sandboxed,
} from "../helpers/attacks.ts";
import { cordon, isRoot, modeArgs, NOBODY, nobodyUnavailable } from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

setDefaultTimeout(60_000);

const bwrapMissing = existsSync("/usr/bin/bwrap") ? undefined : "bwrap is not installed";
const MODES = ["landlock", "bwrap"] as const;
const scratch = hostDir("cordon-review17-");
const tools = gccMissing ? undefined : new AttackTools();
afterAll(() => {
  killMarked(scratch);
  removeDir(scratch);
  tools?.cleanup();
});

let counter = 0;
/** A fresh host directory the sandbox may write (a write root), owned by `owner`. */
function workDir(owner?: number): string {
  const dir = join(scratch, `case-${counter++}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (owner !== undefined) chownSync(dir, owner, owner);
  return dir;
}

function skipFor(mode: string): (string | undefined)[] {
  return [gccMissing, mode === "bwrap" ? bwrapMissing : undefined];
}

/** The report's `ended` and status of a run with --report. */
function reportOf(path: string): { ended?: { reason: string; signal?: string }; exitStatus: number } {
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * argv[1] names the attack:
 * - prlimit-parent MARKER SECS: a setsid'd grandchild that ignores SIGTERM,
 *   then prlimit(getppid(), RLIMIT_NOFILE, 0): in landlock-only mode the
 *   parent is cordon's stage 1, whose timeout and sweep need pidfds.
 * - stubborn WORK SECS: every escape from the timeout at once (setsid and a
 *   double fork with all signals blocked and forking on, a process stopped
 *   with SIGSTOP, a ptrace tracer swallowing its tracee's signals, the
 *   command itself ignoring SIGTERM); any survivor writes WORK/late.
 * - fsize DIR LIMIT: every way to grow a file past RLIMIT_FSIZE.
 * - raise: lift each rlimit back up (hard, prlimit to infinity, soft > hard).
 * - nofile: descriptors past RLIMIT_NOFILE (dup2 high, SCM_RIGHTS when full).
 * - burn N MS: N children each burn MS of CPU.
 */
const attack = tools?.compile("limits-attack");

const CASES = [
  { mode: "landlock", asNobody: false },
  ...(isRoot ? [{ mode: "landlock", asNobody: true }] : []),
  { mode: "bwrap", asNobody: false },
  ...(isRoot ? [{ mode: "bwrap", asNobody: true }] : []),
] as const;

describe("review 17: escaping the timeout", () => {
  for (const { mode, asNobody } of CASES) {
    const who = `${mode} mode as ${asNobody ? "nobody" : "root"}`;
    attackTest(
      `${who}: setsid + double fork, SIGSTOP, ptrace and a SIGTERM-proof forker all end at the timeout ` +
        "(124, nothing left)",
      skipFor(mode),
      () => {
        const work = workDir(asNobody ? NOBODY : undefined);
        const started = performance.now();
        const result = sandboxed(mode, [attack!, "stubborn", work, "12"], {
          write: [work],
          extra: ["--timeout", "1s", "--kill-after", "1s"],
          asNobody,
          timeoutMs: 40_000,
        });
        const took = performance.now() - started;
        const left = processesWith(work);
        killMarked(work);
        expect(existsSync(join(work, "ready"))).toBe(true);
        expect({ exitCode: result.exitCode, left, fast: took < 9_000 }).toEqual({
          exitCode: 124,
          left: [],
          fast: true,
        });
        // Nothing of the sandbox runs on to finish its work.
        Bun.sleepSync(12_500 - took > 0 ? 12_500 - took : 0);
        expect(existsSync(join(work, "late"))).toBe(false);
      },
    );
  }

  for (const { mode, asNobody } of CASES) {
    const who = `${mode} mode as ${asNobody ? "nobody" : "root"}`;
    const run = () => {
      const marker = join(scratch, `prlimit-${counter++}`);
      const started = performance.now();
      const result = sandboxed(mode, [attack!, "prlimit-parent", marker, "6"], {
        extra: ["--timeout", "1s", "--kill-after", "1s"],
        asNobody,
        timeoutMs: 40_000,
      });
      const took = performance.now() - started;
      Bun.sleepSync(300);
      const left = processesWith(marker);
      killMarked(marker);
      return { result, took, left };
    };
    const secure = ({ result, took, left }: ReturnType<typeof run>) => {
      expect({ exitCode: result.exitCode, left, fast: took < 5_000, stderr: result.stderr }).toEqual({
        exitCode: 124,
        left: [],
        fast: true,
        stderr: "",
      });
    };
    if (mode === "landlock") {
      attackTest(
        `${who}: prlimit(getppid(), RLIMIT_NOFILE, 0) on cordon's stage 1 disarms the timeout and the sweep`,
        skipFor(mode),
        () => secure(run()),
      );
    } else {
      attackTest(`${who}: prlimit on the sandbox's parent (bwrap's init) does not reach cordon`, skipFor(mode), () =>
        secure(run()),
      );
    }
  }

  for (const mode of MODES) {
    attackTest(
      `${mode} mode: --timeout 576h (the longest, 24 days) does not fire at once; 600h is refused, not cut short`,
      skipFor(mode),
      () => {
        const result = sandboxed(mode, ["sh", "-c", "sleep 1; echo finished"], { extra: ["--timeout", "576h"] });
        expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: "finished\n" });
        const beyond = sandboxed(mode, ["sh", "-c", "echo ran"], { extra: ["--timeout", "600h"] });
        expect(beyond.exitCode).toBe(125);
        expect(beyond.stdout).toBe("");
        expect(beyond.stderr).toContain("up to 24 days");
      },
    );
    attackTest(`${mode} mode: --kill-after 576h gives the grace period it promises`, skipFor(mode), () => {
      // sleep inherits the ignored SIGTERM: only the SIGKILL after the grace period can stop it.
      const result = sandboxed(mode, ["sh", "-c", "trap '' TERM; sleep 3; echo cleaned-up"], {
        extra: ["--timeout", "1s", "--kill-after", "576h"],
      });
      expect(result.exitCode).toBe(124);
      expect(result.stdout).toContain("cleaned-up");
    });
  }

  attackTest("landlock mode: --timeout 1ms stops the command at once", [], () => {
    const started = performance.now();
    const result = sandboxed("landlock", ["sh", "-c", "sleep 3; echo finished"], {
      extra: ["--timeout", "1ms", "--kill-after", "20s"],
    });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 124, stdout: "" });
    expect(performance.now() - started).toBeLessThan(2_500);
  });
  attackTest("bwrap mode: a --timeout shorter than bwrap's start-up still stops the command", [bwrapMissing], () => {
    const started = performance.now();
    const result = sandboxed("bwrap", ["sh", "-c", "sleep 3; echo finished"], {
      extra: ["--timeout", "1ms", "--kill-after", "20s"],
    });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 124, stdout: "" });
    expect(performance.now() - started).toBeLessThan(2_500);
  });
});

describe("review 17: is the exit status honest?", () => {
  for (const mode of MODES) {
    attackTest(
      `${mode} mode: a command that exits 124 itself is reported as exited, not timed out`,
      skipFor(mode),
      () => {
        const report = join(workDir(), "report.json");
        const result = cordon([
          ...modeArgs(mode),
          "--report",
          report,
          "--timeout",
          "30s",
          "--",
          "sh",
          "-c",
          "exit 124",
        ]);
        expect(result.exitCode).toBe(124);
        expect(result.stderr).not.toContain("ran out of time");
        expect(reportOf(report).ended).toEqual({ reason: "exited" });
      },
    );

    attackTest(
      `${mode} mode: a command that sends itself SIGXCPU / SIGXFSZ, with no limit set, is not blamed on a limit`,
      skipFor(mode),
      () => {
        for (const [signal, limit] of [
          ["XCPU", "cpu-time limit"],
          ["XFSZ", "file-size limit"],
        ] as const) {
          const report = join(workDir(), "report.json");
          const result = cordon([...modeArgs(mode), "--report", report, "--", "sh", "-c", `kill -${signal} $$`]);
          expect(result.exitCode).toBe(128 + (signal === "XCPU" ? 24 : 25));
          expect(result.stderr).not.toContain("--cpu-time");
          expect(result.stderr).not.toContain("--file-size");
          expect(reportOf(report).ended?.reason).not.toBe(limit);
        }
      },
    );
  }
});

describe("review 17: rlimits", () => {
  for (const { mode, asNobody } of CASES) {
    const who = `${mode} mode as ${asNobody ? "nobody" : "root"}`;
    attackTest(
      `${who}: no rlimit can be raised back (hard, prlimit to infinity, soft above hard)`,
      skipFor(mode),
      () => {
        const result = sandboxed(mode, [attack!, "raise"], {
          extra: ["--file-size", "1M", "--open-files", "64", "--cpu-time", "30s"],
          asNobody,
        });
        const lines = result.stdout.trim().split("\n");
        expect(lines.length).toBe(9);
        expect(lines.filter((line) => line.endsWith(" ok"))).toEqual([]);
      },
    );

    attackTest(
      `${who}: --file-size holds for write, pwrite, ftruncate, fallocate, copy_file_range, mmap, O_APPEND`,
      skipFor(mode),
      () => {
        const work = workDir(asNobody ? NOBODY : undefined);
        const dirs = mode === "bwrap" ? ["/tmp", "/dev/shm", work] : [work];
        for (const dir of dirs) {
          const result = sandboxed(mode, [attack!, "fsize", dir, String(1024 * 1024)], {
            write: [work],
            extra: ["--file-size", "1M"],
            asNobody,
          });
          const lines = result.stdout.trim().split("\n");
          expect({ dir, lines }).toEqual({
            dir,
            lines: ["write", "pwrite-far", "ftruncate", "fallocate", "copy-range", "mmap-extend", "append-fd"].map(
              (label) => `${label} held`,
            ),
          });
        }
      },
    );

    attackTest(
      `${who}: --open-files holds against dup2 to a high number and SCM_RIGHTS when full`,
      skipFor(mode),
      () => {
        const result = sandboxed(mode, [attack!, "nofile"], { extra: ["--open-files", "64"], asNobody });
        expect(result.stdout).toBe("dup2-high errno=9\nfilled errno=24\nscm-rights-over-limit errno=24\n");
      },
    );
  }

  attackTest(
    "landlock mode: --cpu-time is per process, as documented: 3 children burning 700 ms each under " +
      "--cpu-time 1s all finish",
    [gccMissing],
    () => {
      const result = sandboxed("landlock", [attack!, "burn", "3", "700"], { extra: ["--cpu-time", "1s"] });
      expect(result.exitCode).toBe(0);
      const cpu = Number(/cpu_ms=(\d+)/.exec(result.stdout)?.[1]);
      expect(result.stdout).toContain("children=3");
      expect(cpu).toBeGreaterThan(1_000);
    },
  );
});

describe("review 17: tmpfs sizes (bwrap mode)", () => {
  attackTest(
    "/tmp and /dev/shm stop at --tmp-size each; /run and /dev (unsized tmpfs) are not writable",
    [bwrapMissing],
    () => {
      const script =
        "for d in /tmp /dev/shm; do dd if=/dev/zero of=$d/big bs=1M count=12 2>/dev/null; " +
        "echo $d $(($(stat -c %s $d/big) / 1048576)); done; " +
        "for d in /run /dev /dev/pts /proc/sys; do (: > $d/cordon-fill) 2>/dev/null && echo writable $d; done; true";
      for (const asNobody of isRoot ? [false, true] : [false]) {
        const result = cordon(sandboxArgs("bwrap", ["sh", "-c", script], { extra: ["--tmp-size", "4M"] }), {
          asNobody,
          cwd: "/",
        });
        expect(result.stdout).toBe("/tmp 4\n/dev/shm 4\n");
      }
    },
  );
});

describe("review 17: bad input", () => {
  const BAD: [string, string][] = [
    ["--timeout", "-1s"],
    ["--timeout", "1e3s"],
    ["--timeout", "\u0661\u0660s"],
    ["--timeout", "99999999999999999999999h"],
    ["--timeout", "0"],
    ["--timeout", "1.5s"],
    ["--timeout", ""],
    ["--timeout", "31d"],
    ["--timeout", "721h"],
    ["--kill-after", "0ms"],
    ["--cpu-time", "-5"],
    ["--file-size", "-1"],
    ["--file-size", "0"],
    ["--file-size", "99999999999T"],
    ["--file-size", "1e9"],
    ["--file-size", "\uff11M"],
    ["--open-files", "0"],
    ["--open-files", "99999999999999999999"],
    ["--open-files", "0x40"],
    ["--pids", "-3"],
    ["--memory", "NaN"],
    ["--tmp-size", "0"],
    ["--tmp-size", "Infinity"],
  ];
  attackTest("every bad duration, size and count is refused with 125 and a one-line reason, no stack trace", [], () => {
    for (const [option, value] of BAD) {
      const result = cordon([...modeArgs("landlock"), `${option}=${value}`, "--", "true"]);
      expect({ option, value, exitCode: result.exitCode }).toEqual({ option, value, exitCode: 125 });
      // The flag as typed, its value, and what it must be.
      expect(result.stderr).toStartWith(`cordon: ${option} ${JSON.stringify(value)}: must be`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  attackTest("a policy file's numbers (negative, fractional, 1e21, object) are refused the same way", [], () => {
    const dir = workDir();
    for (const value of ["-1", "1.5", "1e21", "{}", "true", '"1e3s"']) {
      const file = join(dir, `policy-${counter++}.json`);
      writeFileSync(file, `{"limits": {"timeout": ${value}, "fileSize": ${value}}}`);
      const result = cordon([...modeArgs("landlock"), "-p", file, "--", "true"]);
      expect({ value, exitCode: result.exitCode }).toEqual({ value, exitCode: 125 });
      expect(result.stderr).toContain("limits.");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  for (const option of [
    ["--memory", "1G"],
    ["--pids", "100"],
  ]) {
    // As nobody, who gets no cgroup here; where there is one, test/stage1/cgroup-limits.test.ts runs it instead.
    attackTest(
      `--strict refuses ${option.join(" ")} (not enforced) in both modes`,
      [bwrapMissing, nobodyUnavailable()],
      () => {
        for (const mode of MODES) {
          const result = cordon([...modeArgs(mode), "--strict", ...option, "--", "true"], { asNobody: true });
          if (!result.stderr.includes("not enforced") && result.exitCode === 0) continue;
          expect(result.exitCode).toBe(125);
          expect(result.stderr).toContain(option[0] === "--memory" ? "memory-limit" : "pids-limit");
        }
      },
    );
  }
});
