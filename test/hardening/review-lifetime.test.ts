// Review of issue 13 (no process of the sandbox outlives cordon): attacks on
// stage1/sweep.ts. Each test asserts the secure behaviour; they FAIL on the
// branch under review.
//
// The sweep "freezes" with one SIGSTOP per process and then assumes the
// process stays stopped. A process of the sandbox that is not yet frozen can
// send SIGCONT to one that is (same Landlock domain, same uid), and the
// frozen one runs again: it is never signalled a second time in that pass.
// freezeDescendants() loops while a pass finds someone new, with no deadline,
// so a forker that runs again keeps cordon in the loop for as long as it
// likes (cordon's signal handlers cannot run meanwhile: the loop is
// synchronous). When the forker finally lets a pass come up empty, the round
// kills what was frozen, and if the 5 s deadline has passed the children that
// were born after the last pass are returned as "survivors" without ever
// being signalled: they live on, reparented to init, and cordon exits 125
// blaming "state D".
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { AttackTools, attackTest, gccMissing, hostDir, removeDir, sandboxed } from "../helpers/attacks.ts";
import { isRoot, NOBODY } from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

const scratch = hostDir("cordon-review-lifetime-");
const tools = gccMissing ? undefined : new AttackTools();
afterAll(() => {
  killMarked(scratch);
  removeDir(scratch);
  tools?.cleanup();
});

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * argv: WORK SECONDS. The command exits as soon as the attack is in place.
 * The forker F forks sleepers (kept at 50, oldest killed) for SECONDS, then
 * writes WORK/late. A chain 8 deep below F ends in a process that sends F
 * SIGCONT in a loop: the sweep freezes top-down, so F is frozen ~9 passes
 * before the spinner, and the spinner undoes F's SIGSTOP in between. A
 * 3000-thread ballast makes every pass of the sweep slow (one children file
 * per thread), so F always has a new child by the next pass.
 */
const SIGCONT_FORKER = `
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
static void *idle(void *x) { for (;;) pause(); return x; }
static void mark(const char *work, const char *name) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", work, name);
  close(open(path, O_CREAT | O_WRONLY, 0644));
}
static int exists(const char *work, const char *name) {
  char path[4096]; snprintf(path, sizeof path, "%s/%s", work, name);
  return access(path, F_OK) == 0;
}
int main(int argc, char **argv) {
  const char *work = argv[1];
  int secs = atoi(argv[2]);
  if (fork() > 0) { while (!exists(work, "ready")) usleep(10000); return 0; }
  pid_t forker = getpid();
  if (fork() == 0) {
    for (int i = 0; i < 8; i++) if (fork() > 0) { pause(); _exit(0); }
    for (;;) kill(forker, SIGCONT);
  }
  if (fork() == 0) {
    pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setstacksize(&at, 65536);
    for (int i = 0; i < 3000; i++) { pthread_t t; if (pthread_create(&t, &at, idle, 0)) break; }
    mark(work, "ballast");
    for (;;) pause();
  }
  while (!exists(work, "ballast")) usleep(10000);
  usleep(100000);
  mark(work, "ready");
  pid_t ring[64]; int n = 0, head = 0;
  time_t end = time(0) + secs;
  while (time(0) < end) {
    pid_t k = fork();
    if (k == 0) { pause(); _exit(0); }
    if (k > 0) { ring[(head + n) % 64] = k; n++; }
    if (n >= 50 || (k < 0 && n > 0)) {
      kill(ring[head], SIGKILL); waitpid(ring[head], 0, 0); head = (head + 1) % 64; n--;
    }
  }
  mark(work, "late");
  return 0;
}
`;

const forker = tools?.compile("sigcont-forker", { source: SIGCONT_FORKER, flags: ["-pthread"] });

let counter = 0;
function workDir(owner?: number): string {
  const dir = join(scratch, `case-${counter++}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  if (owner !== undefined) chownSync(dir, owner, owner);
  return dir;
}

const CASES = [
  { mode: "landlock", asNobody: false },
  ...(isRoot ? [{ mode: "landlock", asNobody: true }] : []),
  { mode: "bwrap", asNobody: false },
] as const;

/** The forker keeps going this long after the command exited; the sweep's own deadline is 5 s. */
const ATTACK_SECONDS = 15;

describe("review: SIGCONT undoes the sweep's SIGSTOP", () => {
  for (const { mode, asNobody } of CASES) {
    attackTest(
      `${mode} mode as ${asNobody ? "nobody" : "root"}: ` +
        "a forker revived with SIGCONT neither holds cordon past the deadline nor outlives it",
      [gccMissing],
      () => {
        const work = workDir(asNobody ? NOBODY : undefined);
        const started = performance.now();
        const result = sandboxed(mode, [forker!, work, String(ATTACK_SECONDS)], {
          write: [work],
          asNobody,
          timeoutMs: 40_000,
        });
        const took = performance.now() - started;
        const left = processesWith(work);
        killMarked(work);
        expect(existsSync(join(work, "ready"))).toBe(true);
        // Secure: everything is killed promptly (well inside the forker's 15 s),
        // the run is not failed, nothing is left, and the forker never finishes.
        expect({ took: took < 9_000, exitCode: result.exitCode, left, stderr: result.stderr }).toEqual({
          took: true,
          exitCode: 0,
          left: [],
          stderr: "",
        });
        sleep(500);
        expect(existsSync(join(work, "late"))).toBe(false);
      },
    );
  }
});
