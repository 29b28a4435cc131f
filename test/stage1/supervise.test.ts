// The supervisor: signals reach the command, and nothing the command started
// outlives cordon.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { blameCgroup, type EndReason } from "../../src/stage1/supervise.ts";
import {
  cordon,
  finish,
  missingTool,
  run,
  scratchDir,
  startCordon,
  statusOf,
  uniqueName,
  waitFor,
  modeArgs,
} from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

const LL = [...modeArgs("landlock"), "-q"];
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup.splice(0)) step();
});

/** A script that starts a detached `perl sleep` tagged with `marker`, waits until it runs, then exits. */
function detachedSleeper(dir: string, marker: string): string {
  const started = join(dir, `${marker}.started`);
  return (
    `setsid perl -e 'open(my $f, ">", $ARGV[0]); close $f; sleep 300' ${started} ` +
    `${marker} </dev/null >/dev/null 2>&1 & ` +
    `while [ ! -e ${started} ]; do sleep 0.01; done; echo up`
  );
}

describe("supervisor", () => {
  test.skipIf(Boolean(missingTool("perl") ?? missingTool("setsid")))(
    "kills what the command left running, even in a new session",
    () => {
      const dir = scratchDir();
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));

      // Without cordon the sleeper survives its shell.
      const plainMarker = uniqueName("cordon-leftover-plain");
      cleanup.push(() => killMarked(plainMarker));
      expect(run(["sh", "-c", detachedSleeper(dir, plainMarker)]).stdout).toBe("up\n");
      expect(processesWith(plainMarker).length).toBe(1);
      killMarked(plainMarker);

      const marker = uniqueName("cordon-leftover");
      cleanup.push(() => killMarked(marker));
      const result = cordon([...LL, "-w", dir, "--", "sh", "-c", detachedSleeper(dir, marker)]);
      expect(result.stdout).toBe("up\n");
      expect(result.exitCode).toBe(0);
      expect(existsSync(join(dir, `${marker}.started`))).toBe(true);
      expect(processesWith(marker)).toEqual([]);
    },
  );

  test.skipIf(Boolean(missingTool("perl")))("a leftover holding stdout open does not keep the caller waiting", () => {
    const marker = uniqueName("cordon-leftover-pipe");
    cleanup.push(() => killMarked(marker));
    // The background perl inherits the stdout pipe: only killing it lets the caller see EOF.
    const result = cordon([...LL, "--", "sh", "-c", `perl -e 'sleep 300' ${marker} & echo started`], {
      timeoutMs: 30_000,
    });
    expect(result.stdout).toBe("started\n");
    expect(result.exitCode).toBe(0);
    expect(processesWith(marker)).toEqual([]);
  });

  test("SIGTERM sent to cordon reaches the command, whose status cordon returns", async () => {
    const dir = scratchDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ready = join(dir, "ready");
    const script = `trap 'exit 7' TERM; touch ${ready}; while :; do sleep 0.05; done`;
    const proc = startCordon([...LL, "-w", dir, "--", "sh", "-c", script]);
    cleanup.push(() => proc.kill("SIGKILL"));
    await waitFor(() => existsSync(ready), "the command to start");
    proc.kill("SIGTERM");
    const result = await finish(proc);
    expect(result.exitCode).toBe(7);
  });

  test.each(["SIGHUP", "SIGUSR1", "SIGINT"] as const)("%s is forwarded too", async (signal) => {
    const dir = scratchDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ready = join(dir, "ready");
    const name = signal.slice(3);
    const script = `trap 'exit 9' ${name}; touch ${ready}; while :; do sleep 0.05; done`;
    const proc = startCordon([...LL, "-w", dir, "--", "sh", "-c", script]);
    cleanup.push(() => proc.kill("SIGKILL"));
    await waitFor(() => existsSync(ready), "the command to start");
    proc.kill(signal);
    await proc.exited;
    expect(statusOf(proc)).toBe(9);
  });

  test.skipIf(Boolean(missingTool("perl")))("when cordon is SIGKILLed, the command dies with it", async () => {
    const dir = scratchDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const marker = uniqueName("cordon-orphan");
    cleanup.push(() => killMarked(marker));
    const ready = join(dir, "ready");
    // The command records its TMPDIR: cordon cannot remove it when SIGKILLed, so the test does.
    const proc = startCordon([
      ...LL,
      "-w",
      dir,
      "--",
      "perl",
      "-e",
      'open(my $f, ">", $ARGV[0]); print $f $ENV{TMPDIR}; close $f; sleep 300',
      ready,
      marker,
    ]);
    await waitFor(() => existsSync(ready) && readFileSync(ready, "utf8").length > 0, "the command to start");
    const privateTmp = readFileSync(ready, "utf8");
    expect(privateTmp.startsWith("/")).toBe(true);
    cleanup.push(() => rmSync(privateTmp, { recursive: true, force: true }));
    expect(processesWith(marker).length).toBeGreaterThan(0);
    proc.kill("SIGKILL");
    await proc.exited;
    await waitFor(() => processesWith(marker).length === 0, "the command to die");
    expect(processesWith(marker)).toEqual([]);
  });
});

describe("blameCgroup: which limit ended a run, from what the sandbox's cgroup counted", () => {
  const none = { oomKills: 0, forksRefused: 0 };
  const ended = (status: number, reason: EndReason) => ({ status, reason });
  test("a failed run after an OOM kill ended at the memory limit; after a refused fork, at the pids limit", () => {
    expect(blameCgroup(ended(137, "signalled"), { ...none, oomKills: 1 }).reason).toBe("memory limit");
    expect(blameCgroup(ended(2, "exited"), { ...none, forksRefused: 3 }).reason).toBe("pids limit");
    expect(blameCgroup(ended(137, "signalled"), { oomKills: 1, forksRefused: 3 }).reason).toBe("memory limit");
  });

  test("a run that succeeded anyway, or ran out of time, or counted nothing keeps its reason", () => {
    expect(blameCgroup(ended(0, "exited"), { oomKills: 1, forksRefused: 1 }).reason).toBe("exited");
    expect(blameCgroup(ended(124, "timeout"), { oomKills: 1, forksRefused: 0 }).reason).toBe("timeout");
    expect(blameCgroup(ended(1, "exited"), none).reason).toBe("exited");
  });
});
