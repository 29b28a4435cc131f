// When cordon returns, no process of the sandbox exists, in either mode: not
// a 300-deep chain of sleepers, not a daemon that double-forked into its own
// session, not a process forking as fast as it can while cordon kills. Each
// attack is first shown working without cordon: the leftover lives on and
// writes into the write root after the command "ended".
import { afterAll, describe, expect } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { attackTest, hostDir, removeDir, sandboxed } from "../helpers/attacks.ts";
import { isRoot, NOBODY, run } from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";
import { MODES } from "./modes.ts";

const scratch = hostDir("cordon-lifetime-");
afterAll(() => {
  killMarked(scratch);
  removeDir(scratch);
});

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A chain: each level starts the next in the background and becomes a
 * sleeper, so every process is the parent of the next. Each script exports
 * its work directory as CORDON_TEST_MARK: a sleeper's command line is only
 * `sleep 1000`, and killMarked finds it by its environment. The leaf says it is
 * ready, waits, then writes `late` into the work directory.
 */
const CHAIN = `#!/bin/sh
n=$1; work=$2; export CORDON_TEST_MARK="$work"
if [ "$n" -gt 0 ]; then "$0" $((n - 1)) "$work" & exec sleep 1000; fi
touch "$work/ready"
sleep 2
echo escaped > "$work/late"
`;

/** A daemon: double fork into a new session, then write after the command ended. */
const DAEMON = `#!/bin/sh
work=$1; export CORDON_TEST_MARK="$work"
setsid sh -c 'sleep 2; echo escaped > "$1/late"' sh "$work" </dev/null >/dev/null 2>&1 &
touch "$work/ready"
`;

/** Forks detached sleepers as fast as it can, until killed; one of them would write later. */
const FORKER = `#!/bin/sh
work=$1; export CORDON_TEST_MARK="$work"
(sleep 2; echo escaped > "$work/late") &
touch "$work/ready"
while :; do (sleep 1000 &) ; done
`;

const ATTACKS = [
  { name: "a 300-deep chain of sleepers", script: CHAIN, args: ["300"], background: true },
  { name: "a daemon in its own session", script: DAEMON, args: [], background: false },
  { name: "a process forking while cordon kills", script: FORKER, args: [], background: true },
] as const;

let counter = 0;
function setUp(script: string, owner?: number): { path: string; work: string } {
  const dir = join(scratch, `case-${counter++}`);
  const work = join(dir, "work");
  mkdirSync(work, { recursive: true });
  const path = join(dir, "attack.sh");
  writeFileSync(path, script, { mode: 0o755 });
  if (owner !== undefined) {
    chownSync(work, owner, owner);
    chmodSync(dir, 0o755);
  }
  return { path, work };
}

/** The command: start the attack, wait until it is in place, then exit 0. */
function starter(path: string, args: readonly string[], work: string, background: boolean): string[] {
  const start = `"$0" "$@" </dev/null >/dev/null 2>&1 ${background ? "&" : ";"}`;
  const script = `${start} while [ ! -e '${work}/ready' ]; do sleep 0.05; done; exit 0`;
  return ["sh", "-c", script, path, ...args, work];
}

const USERS = [{ name: "root", asNobody: false }, ...(isRoot ? [{ name: "nobody", asNobody: true }] : [])];

describe("without cordon, each attack outlives its command", () => {
  for (const attack of ATTACKS) {
    attackTest(`${attack.name} writes after the command exited`, [], () => {
      const { path, work } = setUp(attack.script);
      const result = run(starter(path, attack.args, work, attack.background), { timeoutMs: 30_000 });
      expect(result.exitCode).toBe(0);
      expect(processesWith(work).length).toBeGreaterThan(0);
      for (let waited = 0; waited < 6000 && !existsSync(join(work, "late")); waited += 100) sleep(100);
      expect(existsSync(join(work, "late"))).toBe(true);
      killMarked(work);
    });
  }
});

for (const mode of MODES) {
  for (const user of USERS) {
    describe(`${mode} mode as ${user.name}: nothing outlives cordon`, () => {
      for (const attack of ATTACKS) {
        attackTest(`${attack.name} is gone when cordon returns, and never writes`, [], () => {
          const { path, work } = setUp(attack.script, user.asNobody ? NOBODY : undefined);
          const command = starter(path, attack.args, work, attack.background);
          const result = sandboxed(mode, command, { write: [work], asNobody: user.asNobody, extra: ["-v"] });
          expect(result.stderr).toContain("exit 0");
          expect(result.exitCode).toBe(0);
          expect(existsSync(join(work, "ready"))).toBe(true);
          expect(processesWith(work)).toEqual([]);
          sleep(2500);
          expect(processesWith(work)).toEqual([]);
          expect(existsSync(join(work, "late"))).toBe(false);
        });
      }
    });
  }
}
