// Review of --memory and --pids (the sandbox's own cgroup: host/cgroups.ts,
// plan/limits.ts, stage1/cgroup.ts, stage2/privileges.ts joinCgroups,
// stage1/supervise.ts blameCgroup). Attacks against the compiled binary, in
// both modes: leaving the cgroup or raising its limits from inside, memory
// the limit might not count, cordon's own stage 2 under a small limit, the
// cleanup of stale cgroups (whom it kills), where the cgroup is placed, and
// what is left behind. Defended attacks are attackTest; holes are holeTest
// (test.failing: they pass while the hole is open).
import { afterAll, describe, expect, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AttackTools,
  attackTest,
  attempt,
  gccMissing,
  hostDir,
  hostSleeper,
  processExists,
  removeDir,
} from "../helpers/attacks.ts";
import { cgroupHomes, removeCgroup } from "../helpers/cgroups.ts";
import {
  CORDON,
  cordon,
  finish,
  isRoot,
  modeArgs,
  run,
  start,
  startCordon,
  systemTool,
  waitFor,
} from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

setDefaultTimeout(90_000);

const MODES = existsSync("/usr/bin/bwrap") ? (["landlock", "bwrap"] as const) : (["landlock"] as const);
const PYTHON = systemTool("python3");
const scratch = hostDir("cordon-review-cgroups-");
const tools = gccMissing ? undefined : new AttackTools();
/** Cgroup directories a test made on the host, removed (emptied first) at the end. */
const madeCgroups: string[] = [];
afterAll(() => {
  killMarked(scratch);
  for (const dir of madeCgroups.reverse()) removeCgroup(dir);

  removeDir(scratch);
  tools?.cleanup();
});

const HOMES = cgroupHomes();
const noCgroup = (controller: string) =>
  HOMES.has(controller) ? undefined : `this host gives root no ${controller} cgroup`;
const needsRoot = isRoot ? undefined : "needs root";
const noPython = PYTHON ? undefined : "python3 is not installed in the system directories";
/** cgroup v1 (this review's host: hybrid): the sandbox's memory cgroup is inside cordon's own. */
const v1Memory = HOMES.get("memory")?.startsWith("/sys/fs/cgroup/memory") ? undefined : "needs a cgroup v1 memory home";
/** The attacks that name v1's paths (/sys/fs/cgroup/pids, `N:pids:` lines) need the pids controller there. */
const v1Pids = HOMES.get("pids")?.startsWith("/sys/fs/cgroup/pids") ? undefined : "needs a cgroup v1 pids home";

/** cordon-* cgroups now in the homes. */
function sandboxCgroups(): string[] {
  return [...new Set(HOMES.values())].flatMap((parent) =>
    readdirSync(parent)
      .filter((name) => name.startsWith("cordon-"))
      .map((name) => join(parent, name)),
  );
}

function endedOf(reportFile: string): { reason: string; signal?: string; cgroup?: Record<string, number> } {
  return (JSON.parse(readFileSync(reportFile, "utf8")) as { ended: ReturnType<typeof endedOf> }).ended;
}

let counter = 0;
function workDir(): string {
  const dir = join(scratch, `case-${counter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * argv[1] names the attack:
 * - escape DIR: every way out of the sandbox's v1 cgroups or up its limits (join the root or the parent,
 *   the tasks file, a child cgroup, raise pids.max / memory.limit_in_bytes, reopen a cgroup.procs
 *   descriptor of any visible process or of the parent through /proc, one of its own, clone3 with
 *   CLONE_INTO_CGROUP, remount a cgroup file system or mount one on DIR, user and cgroup namespaces);
 *   "LABEL ok" when it worked, "LABEL errno=N" when it did not; then its cgroup lines.
 * - sockets N: N unix datagram socket pairs, each filled to its (raised) send buffer: kernel memory.
 * - memfd MIB: a memfd of MIB MiB, written.
 * - threads N: N threads at once (each waits), prints how many it got.
 */
const SOURCE = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

static void report(const char *label, int ok) {
  if (ok) printf("%s ok\n", label); else printf("%s errno=%d\n", label, errno);
  fflush(stdout);
}

static int writeTo(const char *path, const char *value) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return 0;
  int ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
  int saved = errno; close(fd); errno = saved;
  return ok;
}

static int ownCgroup(const char *controller, char *out, size_t size) {
  FILE *f = fopen("/proc/self/cgroup", "r");
  char line[4096];
  int found = 0;
  while (f && fgets(line, sizeof line, f)) {
    char *a = strchr(line, ':'); if (!a) continue;
    char *b = strchr(a + 1, ':'); if (!b) continue;
    *b = 0;
    if (strcmp(a + 1, controller) == 0) {
      b[strcspn(b + 1, "\n") + 1] = 0;
      snprintf(out, size, "%s", b + 1);
      found = 1;
    }
  }
  if (f) fclose(f);
  return found;
}

/* "0" through every descriptor of any visible process (its own included) that names a cgroup file. */
static void descriptors(void) {
  DIR *proc = opendir("/proc");
  struct dirent *p;
  int seen = 0, joined = 0;
  while (proc && (p = readdir(proc))) {
    if (p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    char dirpath[300];
    snprintf(dirpath, sizeof dirpath, "/proc/%.255s/fd", p->d_name);
    DIR *fds = opendir(dirpath);
    struct dirent *d;
    while (fds && (d = readdir(fds))) {
      char link[600], target[4096];
      snprintf(link, sizeof link, "%s/%.255s", dirpath, d->d_name);
      ssize_t n = readlink(link, target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = 0;
      if (!strstr(target, "cgroup.procs") && !strstr(target, "/tasks")) continue;
      seen++;
      if (writeTo(link, "0")) { joined++; printf("joined-through %s -> %s\n", link, target); }
    }
    if (fds) closedir(fds);
  }
  if (proc) closedir(proc);
  /* The parent's (stage 1 in landlock-only mode, bwrap's init in bwrap mode), blind: readlink may be refused. */
  for (int fd = 0; fd < 64; fd++) {
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/fd/%d", getppid(), fd);
    if (writeTo(link, "0")) { joined++; printf("joined-through %s\n", link); }
  }
  printf("descriptors-seen %d\ncgroup-descriptors %s\n", seen, joined ? "ok" : "errno=13");
  fflush(stdout);
}

static int cloneInto(const char *dir) {
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) return 0;
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = cg;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  int saved = errno;
  close(cg);
  if (pid < 0) { errno = saved; return 0; }
  waitpid(pid, NULL, 0);
  return 1;
}

static int escape(const char *scratch) {
  const char *controllers[] = {"pids", "memory"};
  for (int i = 0; i < 2; i++) {
    const char *c = controllers[i];
    char own[2048], path[4096], label[64];
    if (!ownCgroup(c, own, sizeof own)) continue;
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/cgroup.procs", c);
    snprintf(label, sizeof label, "%s-root-procs", c); report(label, writeTo(path, "0"));
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/tasks", c);
    snprintf(label, sizeof label, "%s-root-tasks", c); report(label, writeTo(path, "0"));
    char parent[2048]; snprintf(parent, sizeof parent, "%s", own);
    char *slash = strrchr(parent, '/'); if (slash) *slash = 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/cgroup.procs", c, parent);
    snprintf(label, sizeof label, "%s-parent-procs", c); report(label, writeTo(path, "0"));
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/child", c, own);
    snprintf(label, sizeof label, "%s-mkdir-child", c); report(label, mkdir(path, 0755) == 0);
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/%s", c, own, i == 0 ? "pids.max" : "memory.limit_in_bytes");
    snprintf(label, sizeof label, "%s-raise", c); report(label, writeTo(path, i == 0 ? "max" : "-1"));
  }
  descriptors();
  report("clone3-into-cgroup", cloneInto("/sys/fs/cgroup/unified"));
  report("remount-cgroup-rw", mount(NULL, "/sys/fs/cgroup/pids", NULL, MS_REMOUNT | MS_BIND, NULL) == 0);
  report("mount-cgroup", mount("cgroup", scratch, "cgroup", 0, "pids") == 0);
  report("unshare-user-mount-ns", unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0);
  report("unshare-cgroup-ns", unshare(CLONE_NEWCGROUP) == 0);
  FILE *f = fopen("/proc/self/cgroup", "r");
  char line[4096];
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, ":pids:") || strstr(line, ":memory:")) printf("cgroup %s", line);
  return 0;
}

static int sockets(int n) {
  struct rlimit r; getrlimit(RLIMIT_NOFILE, &r); r.rlim_cur = r.rlim_max; setrlimit(RLIMIT_NOFILE, &r);
  static char buf[32768]; memset(buf, 'x', sizeof buf);
  long long total = 0;
  for (int i = 0; i < n; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) { perror("socketpair"); break; }
    int big = 1 << 30;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    for (;;) { ssize_t w = write(sv[0], buf, sizeof buf); if (w <= 0) break; total += w; }
  }
  printf("queued %lld MiB\n", total >> 20);
  return 0;
}

static int memfd(int mib) {
  int fd = memfd_create("review", 0);
  static char buf[1 << 20]; memset(buf, 'x', sizeof buf);
  for (int i = 0; i < mib; i++) if (write(fd, buf, sizeof buf) != sizeof buf) { perror("write"); return 1; }
  printf("memfd %d MiB\n", mib);
  return 0;
}

static void *wait_forever(void *arg) { (void)arg; pause(); return NULL; }

static int threads(int n) {
  int got = 0, err = 0;
  for (int i = 0; i < n; i++) {
    pthread_t t;
    err = pthread_create(&t, NULL, wait_forever, NULL);
    if (err) break;
    got++;
  }
  printf("threads %d of %d (error %d)\n", got, n, err);
  fflush(stdout);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (!strcmp(argv[1], "escape")) return escape(argv[2]);
  if (!strcmp(argv[1], "sockets")) return sockets(atoi(argv[2]));
  if (!strcmp(argv[1], "memfd")) return memfd(atoi(argv[2]));
  if (!strcmp(argv[1], "threads")) return threads(atoi(argv[2]));
  return 2;
}
`;
const attack = tools?.compile("cgroup-attack", { source: SOURCE, flags: ["-pthread"] });

describe("review cgroups: leaving the cgroup or raising its limits from inside", () => {
  for (const mode of MODES) {
    attackTest(
      `${mode} mode: root in the sandbox cannot join the root or parent cgroup, write tasks, make a child, raise ` +
        "pids.max or memory.limit_in_bytes, reopen any cgroup.procs descriptor, clone3 into a cgroup, or mount one",
      [gccMissing, needsRoot, noCgroup("memory"), noCgroup("pids"), v1Memory, v1Pids],
      () => {
        const target = workDir();
        const result = cordon([
          ...modeArgs(mode),
          "-q",
          "--memory",
          "256M",
          "--pids",
          "64",
          "--",
          attack!,
          "escape",
          target,
        ]);
        expect(result.exitCode).toBe(0);
        for (const label of [
          "pids-root-procs",
          "pids-root-tasks",
          "pids-parent-procs",
          "pids-mkdir-child",
          "pids-raise",
          "memory-root-procs",
          "memory-root-tasks",
          "memory-parent-procs",
          "memory-mkdir-child",
          "memory-raise",
          "cgroup-descriptors",
          "clone3-into-cgroup",
          "remount-cgroup-rw",
          "mount-cgroup",
          "unshare-user-mount-ns",
          "unshare-cgroup-ns",
        ]) {
          expect({ label, ok: attempt(result, label).ok }).toEqual({ label, ok: false });
        }
        expect(result.stdout).not.toContain("joined-through");
        // Still in the sandbox's own cgroups at the end.
        expect(result.stdout).toMatch(/cgroup \d+:pids:.*cordon-\d+-[0-9a-f]{8}\n/);
        expect(result.stdout).toMatch(/cgroup \d+:memory:.*cordon-\d+-[0-9a-f]{8}\n/);
        expect(sandboxCgroups()).toEqual([]);
      },
    );
  }

  attackTest(
    "without cordon, root leaves its pids cgroup by writing the root's cgroup.procs (the sandbox is what stops it)",
    [needsRoot, noCgroup("pids"), v1Pids],
    () => {
      const probe = join(HOMES.get("pids")!, `review-cg-control-${process.pid}`);
      mkdirSync(probe);
      madeCgroups.push(probe);
      const root = "/sys/fs/cgroup/pids";
      const result = run([
        "sh",
        "-c",
        `echo $$ > ${probe}/cgroup.procs && echo $$ > ${root}/cgroup.procs && echo MOVED; ` +
          "grep :pids: /proc/self/cgroup",
      ]);
      expect(result.stdout).toMatch(/^MOVED\n\d+:pids:\/\n$/);
    },
  );

  for (const mode of MODES) {
    attackTest(
      `${mode} mode: threads count: 100 threads under --pids 20 get fewer than 20`,
      [gccMissing, noCgroup("pids")],
      () => {
        const result = cordon([...modeArgs(mode), "-q", "--pids", "20", "--", attack!, "threads", "100"]);
        const got = Number(/threads (\d+) of 100/.exec(result.stdout)?.[1] ?? "-1");
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeLessThan(20);
        // Without the limit all 100 start.
        const free = cordon([...modeArgs(mode), "-q", "--", attack!, "threads", "100"]);
        expect(free.stdout).toContain("threads 100 of 100");
      },
    );

    attackTest(
      `${mode} mode: kernel memory and shared memory count: unix socket buffers and a memfd past --memory 32M ` +
        "are killed",
      [gccMissing, noCgroup("memory")],
      () => {
        for (const command of [
          ["sockets", "40"],
          ["memfd", "200"],
        ]) {
          const dir = workDir();
          const report = join(dir, "report.json");
          const result = cordon([
            ...modeArgs(mode),
            "-q",
            "--memory",
            "32M",
            "--report",
            report,
            "--",
            attack!,
            ...command,
          ]);
          expect({ command, exitCode: result.exitCode, stdout: result.stdout }).toEqual({
            command,
            exitCode: 137,
            stdout: "",
          });
          expect(endedOf(report).reason).toBe("memory limit");
        }
        // Without the limit the sockets hold far more than 32 MiB.
        const free = cordon([...modeArgs(mode), "-q", "--", attack!, "sockets", "40"]);
        expect(Number(/queued (\d+) MiB/.exec(free.stdout)?.[1])).toBeGreaterThan(64);
      },
    );

    attackTest(
      `${mode} mode: no descriptor of cgroup.procs reaches the command, with --preserve-fds too`,
      [noCgroup("pids")],
      () => {
        const result = run([
          "sh",
          "-c",
          `exec "$@" 3</dev/null 4</dev/null`,
          "sh",
          CORDON,
          ...modeArgs(mode),
          "-q",
          "--preserve-fds",
          "2",
          "--pids",
          "20",
          "--memory",
          "64M",
          "--",
          "sh",
          "-c",
          'for f in /proc/self/fd/*; do echo "$f $(readlink $f)"; done',
        ]);
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toContain("/proc/self/fd/3 /dev/null");
        expect(result.stdout).toContain("/proc/self/fd/4 /dev/null");
        expect(result.stdout).not.toContain("cgroup");
      },
    );
  }

  // Was a hole: README says "bwrap mode has no /sys" and "landlock-only mode's Landlock rules grant no write
  // there (unless a write root covers the cgroup file system)", but nothing degrades or refuses such a
  // run: bwrap mode mounts /sys read-only and a write root over the cgroup file system makes it
  // writable, --strict accepts, the report lists no degradation, and the command raises pids.max
  // (root owns the files: no capability is needed) and moves itself to the root cgroup.
  // Fixed: a write root on a cgroup file system names memory-limit and pids-limit (--strict refuses).
  for (const mode of MODES) {
    attackTest(
      `${mode} mode: a write root over /sys/fs/cgroup/pids lets the command lift --pids, with nothing degraded`,
      [needsRoot, noCgroup("pids"), v1Pids],
      () => {
        const dir = workDir();
        const report = join(dir, "report.json");
        const script = [
          'g=$(sed -n "s/^[0-9]*:pids://p" /proc/self/cgroup)',
          "echo max > /sys/fs/cgroup/pids$g/pids.max && echo RAISED",
          "echo $$ > /sys/fs/cgroup/pids/cgroup.procs && echo MOVED",
        ].join("\n");
        const result = cordon([
          ...modeArgs(mode),
          ...(mode === "bwrap" ? ["--strict"] : []),
          "-q",
          "-w",
          "/sys/fs/cgroup/pids",
          "--pids",
          "10",
          "--report",
          report,
          "--",
          "sh",
          "-c",
          script,
        ]);
        // Refused (--strict), or run with the limit named as not enforced: never reported as held.
        const refused = result.exitCode === 125;
        const named = !refused && readFileSync(report, "utf8").includes("pids-limit");
        expect({
          refused: mode === "bwrap" ? refused : named,
          raised: refused && result.stdout.includes("RAISED"),
        }).toEqual({
          refused: true,
          raised: false,
        });
      },
    );
  }
});

describe("review cgroups: cordon's own stage 2 under a small --pids", () => {
  // Was a hole: stage 2 (the Bun runtime, several threads) joins the cgroup first thing and only then does its
  // work; under --pids 2-4 a thread Bun starts after the join is refused and Bun aborts with its crash
  // report ("panic(main thread): abort() called", a bun.report link), exit 134, before the command
  // runs, and the run is reported as "pids limit" (the command's), not as cordon's failure (125).
  // Fixed: stage 2 joins last, right before execve, on descriptors already open.
  for (const mode of MODES) {
    attackTest(
      `${mode} mode: --pids 2, 3 and 4 never crash stage 2 (no Bun panic, no 134): the command runs or cordon refuses`,
      [noCgroup("pids")],
      () => {
        const outcomes = new Set<string>();
        for (let round = 0; round < 5; round++) {
          for (const pids of ["2", "3", "4"]) {
            const result = cordon([...modeArgs(mode), "-q", "--pids", pids, "--", "sh", "-c", "echo ran"]);
            const crashed = /bun\.report|panic|oh no: Bun has crashed/.test(result.stderr);
            outcomes.add(
              result.exitCode === 0 && result.stdout === "ran\n" && !crashed
                ? "ran"
                : result.exitCode === 125 && !crashed
                  ? "refused"
                  : `status ${result.exitCode}${crashed ? " with a Bun crash report" : ""}`,
            );
          }
        }
        expect([...outcomes].filter((outcome) => outcome !== "ran" && outcome !== "refused")).toEqual([]);
      },
    );
  }
});

describe("review cgroups: the stale-cgroup cleanup kills only what it should", () => {
  attackTest(
    "a cordon in another pid namespace keeps its sandbox when a run on the host cleans up, and the reverse",
    [needsRoot, noCgroup("pids"), Bun.which("unshare") ? undefined : "unshare is missing"],
    async () => {
      const marker = join(scratch, `pidns-${counter++}`);
      const inner = start(
        [
          "unshare",
          "--pid",
          "--fork",
          "--mount-proc",
          CORDON,
          ...modeArgs("landlock"),
          "-q",
          "--pids",
          "50",
          "--",
          "sh",
          "-c",
          "echo started; sleep 4; echo survived",
        ],
        { env: { CORDON_TEST_MARK: marker } },
      );
      await waitFor(() => sandboxCgroups().some((dir) => /cordon-1-/.test(dir)), "the namespaced run's cgroup");
      const host = cordon([...modeArgs("landlock"), "-q", "--pids", "50", "--", "true"]);
      expect(host.exitCode).toBe(0);
      const result = await finish(inner);
      expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
        exitCode: 0,
        stdout: "started\nsurvived\n",
      });
      killMarked(marker);
    },
  );

  // Was a hole: the start time in a cgroup's name is read from /proc/PID/stat, which a time namespace
  // offsets (boottime): a cordon started under `unshare --time --boottime N` (same pid namespace)
  // names its cgroup with a start time no other cordon sees for that pid, so the next run on the
  // host takes it for a dead run's and SIGKILLs the live sandbox (137).
  // Fixed: a run holds a flock on its cgroup; only an unlocked one (older than 2 s) is stale.
  attackTest(
    "a cordon in a time namespace keeps its sandbox when a run on the host cleans up",
    [
      needsRoot,
      noCgroup("pids"),
      run(["unshare", "--time", "--boottime", "100000", "--fork", "true"]).exitCode === 0
        ? undefined
        : "unshare --time is not available",
    ],
    async () => {
      const marker = join(scratch, `timens-${counter++}`);
      const before = new Set(sandboxCgroups());
      const inner = start(
        [
          "unshare",
          "--time",
          "--boottime",
          "100000",
          "--fork",
          CORDON,
          ...modeArgs("landlock"),
          "-q",
          "--pids",
          "50",
          "--",
          "sh",
          "-c",
          "echo started; sleep 4; echo survived",
        ],
        { env: { CORDON_TEST_MARK: marker } },
      );
      await waitFor(() => sandboxCgroups().some((dir) => !before.has(dir)), "the time-namespaced run's cgroup");
      Bun.sleepSync(300);
      const host = cordon([...modeArgs("landlock"), "-q", "--pids", "50", "--", "true"]);
      expect(host.exitCode).toBe(0);
      const result = await finish(inner);
      killMarked(marker);
      expect({ exitCode: result.exitCode, stdout: result.stdout }).toEqual({
        exitCode: 0,
        stdout: "started\nsurvived\n",
      });
    },
  );

  attackTest(
    "planted cordon-named cgroups: one whose lock a live process holds, and one not named as cordon names them, " +
      "keep their members; only an unlocked one is emptied and removed",
    [needsRoot, noCgroup("pids"), noPython],
    async () => {
      const parent = HOMES.get("pids")!;
      const live = hostSleeper({ env: { CORDON_TEST_MARK: scratch } });
      const odd = hostSleeper({ env: { CORDON_TEST_MARK: scratch } });
      const dead = hostSleeper({ env: { CORDON_TEST_MARK: scratch } });
      const names = [`cordon-4194305-0000aaaa`, `cordon-4194305-1-2`, `cordon-4194305-0000bbbb`];
      const plants = names.map((name, index) => ({ dir: join(parent, name), sleeper: [live, odd, dead][index]! }));
      // A live run's lock, held as stage 1 holds it: flock on the directory.
      const holder = start(
        [
          PYTHON!,
          "-c",
          "import fcntl,os,sys,time; fd=os.open(sys.argv[1],os.O_RDONLY); fcntl.flock(fd,fcntl.LOCK_EX); " +
            "print('locked',flush=True); time.sleep(60)",
          plants[0]!.dir,
        ],
        { env: { CORDON_TEST_MARK: scratch } },
      );
      try {
        for (const { dir, sleeper } of plants) {
          mkdirSync(dir);
          madeCgroups.push(dir);
          writeFileSync(join(dir, "cgroup.procs"), String(sleeper.pid));
        }
        const reader = (holder.stdout as ReadableStream<Uint8Array>).getReader();
        expect(new TextDecoder().decode((await reader.read()).value)).toContain("locked");
        const result = cordon([...modeArgs("landlock"), "-q", "--pids", "50", "--", "true"]);
        expect(result.exitCode).toBe(0);
        await waitFor(() => !processExists(dead.pid), "the dead run's member to be killed", 5_000);
        expect({ live: live.alive(), odd: odd.alive(), dead: dead.alive() }).toEqual({
          live: true,
          odd: true,
          dead: false,
        });
        expect(plants.map(({ dir }) => existsSync(dir))).toEqual([true, true, false]);
      } finally {
        holder.kill("SIGKILL");
        await Promise.all([live.stop(), odd.stop(), dead.stop(), holder.exited]);
        for (const name of names) removeCgroup(join(parent, name));
      }
    },
  );

  attackTest(
    "cordons killed with SIGKILL at random moments, in both modes: the next runs with each limit remove every " +
      "cgroup and every process they left",
    [noCgroup("pids"), noCgroup("memory")],
    async () => {
      const marker = join(scratch, `kill9-${counter++}`);
      const runs = Array.from({ length: 8 }, (_, index) =>
        startCordon(
          [
            ...modeArgs(MODES[index % MODES.length]!),
            ...["-q", "--pids", "30", "--memory", "64M", "--", "sh", "-c", "sleep 30 & sleep 30"],
          ],
          { env: { CORDON_TEST_MARK: marker } },
        ),
      );
      for (const [index, child] of runs.entries()) {
        Bun.sleepSync(30 * index);
        child.kill("SIGKILL");
      }
      await Promise.all(runs.map((child) => child.exited));
      // A dead run's cgroup is taken for stale once it is 2 s old.
      Bun.sleepSync(2_100);
      expect(cordon([...modeArgs("landlock"), "-q", "--pids", "30", "--", "true"]).exitCode).toBe(0);
      expect(cordon([...modeArgs("landlock"), "-q", "--memory", "30M", "--", "true"]).exitCode).toBe(0);
      Bun.sleepSync(200);
      const left = { cgroups: sandboxCgroups(), processes: processesWith(marker) };
      killMarked(marker);
      expect(left).toEqual({ cgroups: [], processes: [] });
    },
  );
});

describe("review cgroups: what is left behind, what is reported", () => {
  // Was a hole: runSandboxed makes the cgroups before createHostState and outside the try whose finally
  // removes them: a run refused there (here: a TMPDIR where the state directory cannot be made)
  // leaves an empty cordon-* cgroup and its open descriptors until some later run removes it.
  // Fixed: the cgroups are made inside the try whose finally removes them.
  attackTest(
    "a run refused after its cgroup was made (state directory cannot be created) removes the cgroup",
    [noCgroup("pids")],
    () => {
      const before = new Set(sandboxCgroups());
      const result = cordon([...modeArgs("landlock"), "-q", "--pids", "20", "--", "true"], {
        env: { TMPDIR: "/proc/sys" },
      });
      expect(result.exitCode).toBe(125);
      const left = sandboxCgroups().filter((dir) => !before.has(dir));
      for (const dir of left) madeCgroups.push(dir);
      expect(left).toEqual([]);
    },
  );

  attackTest(
    "bwrap that fails before stage 2: the landlock-only fallback runs in the same cgroup and removes it",
    [noCgroup("pids"), v1Pids],
    () => {
      const fake = join(workDir(), "bwrap");
      writeFileSync(fake, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
      const result = cordon([
        ...(isRoot ? ["--allow-degraded", "metadata"] : []),
        "-q",
        "--bwrap",
        fake,
        "--pids",
        "20",
        "--",
        "sh",
        "-c",
        "grep :pids: /proc/self/cgroup",
      ]);
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toMatch(/:pids:.*cordon-\d+-[0-9a-f]{8}/);
      expect(sandboxCgroups()).toEqual([]);
    },
  );

  // Was a hole: cgroup v1 copies memory.oom_control's oom_kill_disable from the parent into a new cgroup,
  // and cordon does not reset it: under a caller whose memory cgroup disables the OOM killer, the
  // sandbox at its limit is not killed (README: "past it the kernel kills it: 137") but stalls
  // until --timeout (124, "timeout"); without a timeout the run hangs for ever.
  // Fixed: v1 writes memory.oom_control 0 (not optional: a failure refuses the run).
  attackTest(
    "v1: a caller's oom_kill_disable does not turn --memory into a hang: the sandbox is killed (137)",
    [needsRoot, noCgroup("memory"), v1Memory, noPython],
    () => {
      const parent = join(HOMES.get("memory")!, `review-cg-ookd-${process.pid}`);
      mkdirSync(parent);
      madeCgroups.push(parent);
      writeFileSync(join(parent, "memory.oom_control"), "1");
      const report = join(workDir(), "report.json");
      const hog = "x = b'x' * (256 << 20); print('allocated 256 MiB')";
      const started = performance.now();
      const result = run([
        "sh",
        "-c",
        `echo $$ > ${parent}/cgroup.procs && exec "$@"`,
        "sh",
        CORDON,
        ...modeArgs("landlock"),
        "-q",
        "--memory",
        "32M",
        "--timeout",
        "6s",
        "--kill-after",
        "1s",
        "--report",
        report,
        "--",
        PYTHON!,
        "-c",
        hog,
      ]);
      const took = performance.now() - started;
      expect(result.stdout).not.toContain("allocated");
      expect({ exitCode: result.exitCode, reason: endedOf(report).reason, fast: took < 5_000 }).toEqual({
        exitCode: 137,
        reason: "memory limit",
        fast: true,
      });
    },
  );
});

describe("review cgroups: where the cgroup goes (cgroup v2 walk-up)", () => {
  // Was a hole: host/cgroups.ts v2Home goes up past any cgroup that sets none of memory.max, memory.high,
  // memory.swap.max, pids.max, cpu.max, so the sandbox lands beside cordon's own cgroup and escapes
  // every other restriction set there: cpuset.cpus/mems, io.max, memory.zswap.max, hugetlb.*.max,
  // rdma.max, misc.max, and the eBPF programs attached to it (systemd's DeviceAllow=, IPAddressDeny=,
  // RestrictNetworkInterfaces=, SocketBind*=). Shown on this hybrid host by `cordon doctor` in a mount
  // namespace where memory and pids are v2 only: cordon runs in P/own, P hands out memory and pids
  // (its cgroup.subtree_control is faked), and own's files are faked on a tmpfs. memory.max on own
  // stops the walk (held); cpuset.cpus and memory.zswap.max do not (the hole).
  // Fixed: the sandbox's cgroup is always inside cordon's own (v2: cordon vacates it when alone in it).
  const U = "/sys/fs/cgroup/unified";
  const hybrid =
    existsSync(join(U, "cgroup.procs")) &&
    existsSync("/sys/fs/cgroup/memory/cgroup.procs") &&
    existsSync("/sys/fs/cgroup/pids/cgroup.procs")
      ? undefined
      : "needs a hybrid host";
  const noUnshare = Bun.which("unshare") ? undefined : "unshare is missing";

  /** The doctor's cgroup detail for cordon run in P/own, where own sets `file` to `value`. */
  function walkFrom(file: string, value: string): string {
    const parent = join(U, `review-cg-walk-${process.pid}-${counter++}`);
    mkdirSync(join(parent, "own"), { recursive: true });
    madeCgroups.push(parent, join(parent, "own"));
    const fake = workDir();
    writeFileSync(join(fake, "subtree"), "memory pids\n");
    const script = [
      "set -e",
      `echo $$ > ${parent}/own/cgroup.procs`,
      "umount -l /sys/fs/cgroup/memory",
      "umount -l /sys/fs/cgroup/pids",
      `mount --bind ${fake}/subtree ${parent}/cgroup.subtree_control`,
      `mount -t tmpfs none ${parent}/own`,
      `: > ${parent}/own/cgroup.subtree_control`,
      `for f in memory.max memory.high memory.swap.max pids.max; do echo max > ${parent}/own/$f; done`,
      `echo '${value}' > ${parent}/own/${file}`,
      `exec ${CORDON} doctor --json`,
    ].join("\n");
    const result = run(["unshare", "-m", "--propagation", "private", "sh", "-c", script]);
    const report = JSON.parse(result.stdout) as { checks: { id: string; details: Record<string, string> }[] };
    return report.checks.find((check) => check.id === "limits")?.details["cgroup"] ?? "";
  }

  attackTest("memory.max set on cordon's own cgroup: no home above it", [needsRoot, hybrid, noUnshare], () => {
    expect(walkFrom("memory.max", "1073741824")).toBe("");
  });
  attackTest(
    "cpuset.cpus or memory.zswap.max set on cordon's own cgroup: no home above it either",
    [needsRoot, hybrid, noUnshare],
    () => {
      expect({ cpuset: walkFrom("cpuset.cpus", "0"), zswap: walkFrom("memory.zswap.max", "0") }).toEqual({
        cpuset: "",
        zswap: "",
      });
    },
  );
});
