// Limits against the compiled binary, in both modes, as root and as nobody:
// the timeout (exit 124, SIGTERM then SIGKILL, nothing left), bwrap mode's
// sized /tmp and /dev/shm, and the rlimits stage 2 sets before execve.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cordon, isRoot, modeArgs, NOBODY, scratchDir } from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);
const USERS = isRoot ? ([false, true] as const) : ([false] as const);
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe.each(MODES)("--timeout in %s mode", (mode) => {
  for (const asNobody of USERS) {
    const who = asNobody ? "as nobody" : "as the caller";
    test(`${who}: --timeout 1s -- sleep 30 exits 124 soon, with nothing left`, () => {
      const marker = `cordon-timeout-${mode}-${asNobody}-${process.pid}`;
      const started = performance.now();
      // The marker rides in the shell's $0 (sleep itself refuses extra arguments).
      const result = cordon([...modeArgs(mode), "--timeout", "1s", "--", "sh", "-c", "sleep 30; :", marker], {
        asNobody,
      });
      const seconds = (performance.now() - started) / 1000;
      expect(result.exitCode).toBe(124);
      expect(seconds).toBeLessThan(15);
      expect(result.stderr).toContain("cordon: the command ran out of time (--timeout 1s): stopped by SIGTERM");
      expect(processesWith(marker)).toEqual([]);
      killMarked(marker);
    });

    test(`${who}: a command that ignores SIGTERM, and its children, get SIGKILL after --kill-after`, () => {
      const marker = `cordon-stubborn-${mode}-${asNobody}-${process.pid}`;
      const dir = scratchDir("cordon-limits-", asNobody ? NOBODY : undefined);
      scratch.push(dir);
      const report = join(dir, "report.json");
      const script = `trap '' TERM; sh -c 'sleep 30; :' child-${marker} & sleep 30; wait`;
      const started = performance.now();
      const result = cordon(
        [
          ...modeArgs(mode),
          "--timeout",
          "1s",
          "--kill-after",
          "1s",
          "--report",
          report,
          "--",
          "sh",
          "-c",
          script,
          marker,
        ],
        { asNobody },
      );
      const seconds = (performance.now() - started) / 1000;
      expect(result.exitCode).toBe(124);
      expect(seconds).toBeLessThan(15);
      expect(result.stderr).toContain("SIGTERM, then SIGKILL after 1s; exit status 124");
      const parsed = JSON.parse(readFileSync(report, "utf8")) as { ended: unknown; exitStatus: number };
      expect(parsed.ended).toEqual({ reason: "timeout", killedAfterGrace: true });
      expect(parsed.exitStatus).toBe(124);
      expect(processesWith(marker)).toEqual([]);
      killMarked(marker);
    });
  }

  test("-q silences the timeout's line, not its status; a run that ends in time says nothing", () => {
    const quiet = cordon([...modeArgs(mode), "-q", "--timeout", "1s", "--", "sleep", "30"]);
    expect(quiet.exitCode).toBe(124);
    expect(quiet.stderr).toBe("");
    const inTime = cordon([...modeArgs(mode), "--timeout", "30s", "--", "sh", "-c", "exit 3"]);
    expect(inTime.exitCode).toBe(3);
    expect(inTime.stderr).toBe("");
  });

  test("-v's summary names how the run ended", () => {
    const result = cordon([...modeArgs(mode), "-v", "--timeout", "1s", "--", "sleep", "30"]);
    expect(result.stderr).toMatch(/exit 124 after \d+ ms \(timeout\)/);
  });

  test("a bad duration is refused (125) before anything runs", () => {
    const result = cordon([...modeArgs(mode), "--timeout", "soon", "--", "true"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("must be a duration such as 90s, 10m or 1h30m");
  });
});

describe.skipIf(!existsSync("/usr/bin/bwrap"))("bwrap mode's /tmp and /dev/shm have a size", () => {
  for (const asNobody of USERS) {
    const who = asNobody ? "as nobody" : "as the caller";
    test(`${who}: writing past --tmp-size gives ENOSPC, in /tmp and in /dev/shm`, () => {
      for (const dir of ["/tmp", "/dev/shm"]) {
        const result = cordon(
          [
            "--mode",
            "bwrap",
            "--tmp-size",
            "4M",
            "--",
            "sh",
            "-c",
            `dd if=/dev/zero of=${dir}/fill bs=1M count=8 2>&1; echo status=$?`,
          ],
          { asNobody },
        );
        expect(result.stdout).toContain("No space left on device");
        expect(result.stdout).toContain("status=1");
      }
    });

    test(`${who}: by default each is bounded (1G)`, () => {
      const result = cordon(["--mode", "bwrap", "--", "df", "-B1", "--output=size", "/tmp", "/dev/shm"], { asNobody });
      expect(result.exitCode).toBe(0);
      const sizes = result.stdout.trim().split("\n").slice(1).map(Number);
      expect(sizes).toEqual([1024 ** 3, 1024 ** 3]);
    });
  }
});

describe.each(MODES)("rlimits in %s mode", (mode) => {
  for (const asNobody of USERS) {
    const who = asNobody ? "as nobody" : "as the caller";
    test(`${who}: --file-size, --open-files and --cpu-time reach the command as its limits`, () => {
      const result = cordon(
        [
          ...modeArgs(mode),
          "--file-size",
          "1M",
          "--open-files",
          "64",
          "--cpu-time",
          "30s",
          "--",
          "sh",
          "-c",
          "grep -E '^Max (cpu time|file size|open files)' /proc/self/limits",
        ],
        { asNobody },
      );
      expect(result.exitCode).toBe(0);
      // The CPU time's hard limit is a second more: SIGXCPU first, SIGKILL after it.
      expect(result.stdout.split("\n").map((line) => line.split(/\s{2,}/).slice(0, 3))).toEqual([
        ["Max cpu time", "30", "31"],
        ["Max file size", "1048576", "1048576"],
        ["Max open files", "64", "64"],
        [""],
      ]);
    });

    test(`${who}: a write past --file-size ends the command with SIGXFSZ, named as the file-size limit`, () => {
      const dir = scratchDir("cordon-limits-", asNobody ? NOBODY : undefined);
      scratch.push(dir);
      const report = join(dir, "report.json");
      const result = cordon(
        [
          ...modeArgs(mode),
          "-w",
          dir,
          "--file-size",
          "1M",
          "--report",
          report,
          "--",
          "dd",
          "if=/dev/zero",
          `of=${dir}/big`,
          "bs=1M",
          "count=4",
        ],
        { asNobody },
      );
      expect(result.exitCode).toBe(128 + 25);
      expect(result.stderr).toContain("cordon: the command wrote past --file-size: SIGXFSZ");
      const parsed = JSON.parse(readFileSync(report, "utf8")) as { ended: unknown };
      expect(parsed.ended).toEqual({ reason: "file-size limit", signal: "SIGXFSZ" });
    });
  }
});
