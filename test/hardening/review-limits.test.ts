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
import { cordon, isRoot, modeArgs, NOBODY } from "../helpers/cordon.ts";
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

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

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
const LIMITS_ATTACK = String.raw`#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void report(const char *label, int rc) {
  if (rc >= 0) printf("%s ok\n", label); else printf("%s errno=%d\n", label, errno);
  fflush(stdout);
}
static void mark(const char *work, const char *name) {
  char p[4096]; snprintf(p, sizeof p, "%s/%s", work, name); close(open(p, O_CREAT | O_WRONLY, 0644));
}
static void ignore_all(void) {
  signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN); signal(SIGINT, SIG_IGN);
  sigset_t s; sigfillset(&s); sigprocmask(SIG_BLOCK, &s, 0);
}
/* Keeps forking for SECS seconds (at most 20 children alive), then marks WORK/late. */
static void forker(const char *work, int secs) {
  pid_t ring[32]; int n = 0, head = 0; time_t end = time(0) + secs;
  while (time(0) < end) {
    pid_t k = fork();
    if (k == 0) { ignore_all(); sleep(secs + 5); _exit(0); }
    if (k > 0) { ring[(head + n) % 32] = k; n++; }
    if (n >= 20 || (k < 0 && n > 0)) { kill(ring[head], SIGKILL); waitpid(ring[head], 0, 0); head = (head + 1) % 32; n--; }
    usleep(20000);
  }
  mark(work, "late");
  _exit(0);
}
int main(int argc, char **argv) {
  const char *what = argv[1];
  if (!strcmp(what, "prlimit-parent")) {           /* MARKER SECS */
    int secs = atoi(argv[3]);
    if (fork() == 0) { setsid(); if (fork() == 0) { ignore_all(); sleep(secs + 5); _exit(0); } _exit(0); }
    wait(0);
    struct rlimit zero = {0, 0};
    report("prlimit-parent-nofile", prlimit(getppid(), RLIMIT_NOFILE, &zero, 0));
    sleep(secs);
    return 0;
  }
  if (!strcmp(what, "stubborn")) {                  /* WORK SECS */
    const char *work = argv[2]; int secs = atoi(argv[3]);
    ignore_all();
    /* a daemon: setsid, double fork, every signal blocked, forking on */
    if (fork() == 0) { setsid(); if (fork() == 0) forker(work, secs); _exit(0); }
    /* a process that stops itself, then forks on once continued */
    if (fork() == 0) { raise(SIGSTOP); ignore_all(); forker(work, secs); }
    /* a tracer holding a tracee that would swallow the SIGTERM */
    pid_t tracee = fork();
    if (tracee == 0) { signal(SIGTERM, SIG_DFL); sigset_t s; sigemptyset(&s); sigprocmask(SIG_SETMASK, &s, 0);
      for (time_t end = time(0) + secs; time(0) < end;) { usleep(10000); }
      mark(work, "late"); _exit(0); }
    if (fork() == 0) {
      if (ptrace(PTRACE_SEIZE, tracee, 0, 0) == 0) {
        mark(work, "traced");
        for (;;) { int st; pid_t w = waitpid(tracee, &st, __WALL); if (w < 0) break;
          if (WIFSTOPPED(st)) ptrace(PTRACE_CONT, tracee, 0, 0); /* swallows every signal */ }
      }
      forker(work, secs);
    }
    wait(0);
    mark(work, "ready");
    for (;;) pause();
  }
  if (!strcmp(what, "fsize")) {                     /* DIR LIMIT: every way to make a file bigger than LIMIT */
    const char *dir = argv[2]; long limit = atol(argv[3]);
    signal(SIGXFSZ, SIG_IGN);
    char p[4096]; static char buf[65536]; memset(buf, 'x', sizeof buf);
    const char *labels[] = {"write", "pwrite-far", "ftruncate", "fallocate", "copy-range", "mmap-extend", "append-fd"};
    for (int i = 0; i < 7; i++) {
      snprintf(p, sizeof p, "%s/fsize-%d", dir, i); unlink(p);
      int fd = open(p, O_CREAT | O_RDWR | (i == 6 ? O_APPEND : 0), 0644); if (fd < 0) { report(labels[i], -1); continue; }
      int rc = 0;
      switch (i) {
        case 0: case 6: for (long done = 0; done <= limit + 65536 && rc >= 0; done += 65536) rc = write(fd, buf, sizeof buf); break;
        case 1: rc = pwrite(fd, buf, 10, limit + 4096); break;
        case 2: rc = ftruncate(fd, limit * 2); break;
        case 3: rc = fallocate(fd, 0, 0, limit * 2); break;
        case 4: { char q[4200]; snprintf(q, sizeof q, "%s.src", p); int src = open(q, O_CREAT | O_RDWR | O_TRUNC, 0644); write(src, buf, sizeof buf); unlink(q); loff_t out = limit - 1; loff_t in = 0; rc = copy_file_range(src, &in, fd, &out, 65536, 0); close(src); break; }
        case 5: { rc = ftruncate(fd, limit); if (rc == 0) { char *m = mmap(0, limit * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          if (m == MAP_FAILED) rc = -1; else { rc = -1; errno = EFBIG; /* touching past EOF is SIGBUS, never growth */ munmap(m, limit * 2); } } break; }
      }
      struct stat st; fstat(fd, &st); close(fd); unlink(p);
      if (st.st_size > limit) printf("%s ok size=%ld\n", labels[i], (long)st.st_size); else printf("%s held\n", labels[i]);
      fflush(stdout);
    }
    return 0;
  }
  if (!strcmp(what, "raise")) {                     /* try to lift each limit back up */
    int res[] = {RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CPU}; const char *names[] = {"fsize", "nofile", "cpu"};
    for (int i = 0; i < 3; i++) {
      struct rlimit r; getrlimit(res[i], &r); char l[64];
      struct rlimit up = {r.rlim_max + 1, r.rlim_max + 1};
      snprintf(l, sizeof l, "raise-hard-%s", names[i]); report(l, setrlimit(res[i], &up));
      struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
      snprintf(l, sizeof l, "prlimit-infinity-%s", names[i]); report(l, prlimit(0, res[i], &inf, 0));
      snprintf(l, sizeof l, "raise-soft-%s", names[i]); struct rlimit soft = {r.rlim_max + 1, r.rlim_max}; report(l, setrlimit(res[i], &soft));
    }
    return 0;
  }
  if (!strcmp(what, "nofile")) {                    /* more descriptors than RLIMIT_NOFILE */
    struct rlimit r; getrlimit(RLIMIT_NOFILE, &r);
    int sv[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    errno = 0; report("dup2-high", dup2(0, (int)r.rlim_cur + 5));
    int last = -1; while ((last = open("/dev/null", O_RDONLY)) >= 0) {}
    printf("filled errno=%d\n", errno);
    /* full: send one of our descriptors to ourselves and receive it */
    char c = 'x'; struct iovec io = {&c, 1}; char cb[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {0}; m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = cb; m.msg_controllen = sizeof cb;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m); h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
    int one = 0; memcpy(CMSG_DATA(h), &one, sizeof one);
    sendmsg(sv[0], &m, 0);
    memset(cb, 0, sizeof cb); m.msg_controllen = sizeof cb; m.msg_flags = 0;
    int got = recvmsg(sv[1], &m, 0);
    h = CMSG_FIRSTHDR(&m);
    if (got >= 0 && h && h->cmsg_type == SCM_RIGHTS) { int fd; memcpy(&fd, CMSG_DATA(h), sizeof fd); printf("scm-rights-over-limit ok fd=%d\n", fd); }
    else { printf("scm-rights-over-limit errno=%d\n", (m.msg_flags & MSG_CTRUNC) ? EMFILE : errno); }
    return 0;
  }
  if (!strcmp(what, "burn")) {                      /* CHILDREN MS: each child burns MS of CPU */
    int kids = atoi(argv[2]); long ms = atol(argv[3]);
    for (int i = 0; i < kids; i++) if (fork() == 0) { clock_t end = clock() + ms * (CLOCKS_PER_SEC / 1000); while (clock() < end) {} _exit(0); }
    int ok = 0, st; while (wait(&st) > 0) if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    struct rusage u; getrusage(RUSAGE_CHILDREN, &u);
    printf("burned ok children=%d cpu_ms=%ld\n", ok, (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000);
    return 0;
  }
  return 2;
}
`;
const attack = tools?.compile("limits-attack", { source: LIMITS_ATTACK });

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
      `${who}: setsid + double fork, SIGSTOP, ptrace and a SIGTERM-proof forker all end at the timeout (124, nothing left)`,
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
        sleep(12_500 - took > 0 ? 12_500 - took : 0);
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
      sleep(300);
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
      holeTest(
        `${who}: prlimit(getppid(), RLIMIT_NOFILE, 0) on cordon's stage 1 disarms the timeout and the sweep`,
        "landlock-only mode lets the command prlimit64() its parent, cordon's stage 1 (same uid; Landlock does not " +
          "scope prlimit, seccomp lets any pid through): with RLIMIT_NOFILE 0 stage 1 cannot pidfd_open, so the " +
          "timeout signals nothing, the sweep kills nothing, a setsid'd daemon outlives cordon, and the run ends " +
          "125 'internal error: EMFILE' instead of 124",
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
    holeTest(
      `${mode} mode: --timeout 600h (under the documented 30 days) does not fire at once`,
      "Bun's setTimeout, like Node's, turns a delay above 2^31-1 ms (24.8 days) into 1 ms: --timeout 600h (or any " +
        "25-30 days) fires right away, exits 124 and says 'stopped by SIGTERM' (in bwrap mode the command even " +
        "finishes its work, the SIGTERM arriving before it exists); cap MAX_DURATION_MS at 2^31-1 or re-arm in steps",
      skipFor(mode),
      () => {
        const result = sandboxed(mode, ["sh", "-c", "sleep 1; echo finished"], { extra: ["--timeout", "600h"] });
        expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 0, stdout: "finished\n" });
      },
    );
    holeTest(
      `${mode} mode: --kill-after 600h gives the grace period it promises`,
      "the grace timer overflows the same way: --kill-after 600h is SIGKILL 1 ms after the SIGTERM",
      skipFor(mode),
      () => {
        // sleep inherits the ignored SIGTERM: only the SIGKILL after the grace period can stop it.
        const result = sandboxed(mode, ["sh", "-c", "trap '' TERM; sleep 3; echo cleaned-up"], {
          extra: ["--timeout", "1s", "--kill-after", "600h"],
        });
        expect(result.exitCode).toBe(124);
        expect(result.stdout).toContain("cleaned-up");
      },
    );
  }

  attackTest("landlock mode: --timeout 1ms stops the command at once", [], () => {
    const started = performance.now();
    const result = sandboxed("landlock", ["sh", "-c", "sleep 3; echo finished"], {
      extra: ["--timeout", "1ms", "--kill-after", "20s"],
    });
    expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 124, stdout: "" });
    expect(performance.now() - started).toBeLessThan(2_500);
  });
  holeTest(
    "bwrap mode: a --timeout shorter than bwrap's start-up still stops the command",
    "the SIGTERM pass runs once, at expiry: if the command does not exist yet (bwrap still setting up, ~100-300 ms, " +
      "more on a loaded host) nothing gets it, the command runs on until --kill-after (10 s by default) and the " +
      "report still says 'stopped by SIGTERM'; send it again once stage 2 reports the command started (or SIGKILL " +
      "the sandbox outright when the timeout fires before that)",
    [bwrapMissing],
    () => {
      const started = performance.now();
      const result = sandboxed("bwrap", ["sh", "-c", "sleep 3; echo finished"], {
        extra: ["--timeout", "1ms", "--kill-after", "20s"],
      });
      expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({ exitCode: 124, stdout: "" });
      expect(performance.now() - started).toBeLessThan(2_500);
    },
  );
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

    holeTest(
      `${mode} mode: a command that sends itself SIGXCPU / SIGXFSZ, with no limit set, is not blamed on a limit`,
      "any death by SIGXCPU or SIGXFSZ (in bwrap mode any exit 152 or 153) is reported as 'cpu-time limit' / " +
        "'file-size limit', with the stderr line 'the command used up its CPU time (--cpu-time)', even when no " +
        "--cpu-time or --file-size was given: the command picks the reason cordon reports; name a limit only " +
        "when that limit was set (and say 'signalled: SIGXCPU' otherwise)",
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
    "landlock mode: --cpu-time is per process, as documented: 3 children burning 700 ms each under --cpu-time 1s all finish",
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
        "for d in /tmp /dev/shm; do dd if=/dev/zero of=$d/big bs=1M count=12 2>/dev/null; echo $d $(($(stat -c %s $d/big) / 1048576)); done; " +
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
      expect(result.stderr).toMatch(/^cordon: command line: limits\.\w+: must be/);
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
    attackTest(`--strict refuses ${option.join(" ")} (not enforced) in both modes`, [bwrapMissing], () => {
      for (const mode of MODES) {
        const result = cordon([...modeArgs(mode), "--strict", ...option, "--", "true"]);
        expect(result.exitCode).toBe(125);
        expect(result.stderr).toContain(option[0] === "--memory" ? "memory-limit" : "pids-limit");
      }
    });
  }
});
