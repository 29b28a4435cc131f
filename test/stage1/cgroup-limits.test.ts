// --memory and --pids against the compiled binary, in both modes, as root
// and as nobody: where the host gives the sandbox a cgroup (cordon doctor
// says where), the limit holds for the whole sandbox and the run ends with
// the reason on record; where it does not, the run warns and --strict
// refuses. Either way no cgroup and no process is left behind.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCgroupMounts } from "../../src/host/cgroups.ts";
import { attackTest } from "../helpers/attacks.ts";
import { cgroupHomes, removeCgroup } from "../helpers/cgroups.ts";
import {
  CORDON,
  cordon,
  cordonAsync,
  isRoot,
  modeArgs,
  NOBODY,
  nobodyUnavailable,
  run,
  type RunResult,
  scratchDir,
  startCordon,
  systemTool,
  waitFor,
} from "../helpers/cordon.ts";
import { killMarked, processesWith } from "../helpers/procs.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);
const USERS = isRoot && !nobodyUnavailable() ? ([false, true] as const) : ([false] as const);
const PYTHON = systemTool("python3");
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** The sandbox cgroups cordon left in `parents`: none, ever. */
function leftCgroups(parents: Iterable<string>): string[] {
  return [...new Set(parents)].flatMap((parent) =>
    readdirSync(parent)
      .filter((name) => /^cordon-\d+-[0-9a-f]{8}$/.test(name))
      .map((name) => join(parent, name)),
  );
}

function endedOf(reportFile: string): { reason: string; signal?: string; cgroup?: Record<string, number> } {
  return (JSON.parse(readFileSync(reportFile, "utf8")) as { ended: ReturnType<typeof endedOf> }).ended;
}

const HOG = "x = b'x' * (256 << 20); print('allocated 256 MiB')";
const FORK_BOMB = "bomb() { bomb | bomb & }; bomb; sleep 2; echo 'the bomb is out'";

const ROOT_HOMES = cgroupHomes(false);
const NOBODY_HOMES = USERS.length > 1 ? cgroupHomes(true) : new Map<string, string>();
const homesOf = (asNobody: boolean) => (asNobody ? NOBODY_HOMES : ROOT_HOMES);
const noCgroup = (asNobody: boolean, controller: string) =>
  homesOf(asNobody).has(controller)
    ? undefined
    : `this host gives ${asNobody ? "nobody" : "the caller"} no ${controller} cgroup`;
const noPython = PYTHON ? undefined : "python3 is not installed in the system directories";

test("the allocation the memory tests use succeeds without --memory (the limit is what stops it)", () => {
  if (noPython) return;
  const result = cordon([...modeArgs("landlock"), "--", PYTHON!, "-c", HOG]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain("allocated 256 MiB");
});

describe.each(MODES)("%s mode", (mode) => {
  for (const asNobody of USERS) {
    const who = asNobody ? "as nobody" : "as the caller";
    const homes = homesOf(asNobody);
    const dirFor = () => {
      const dir = scratchDir("cordon-cgroup-", asNobody ? NOBODY : undefined);
      scratch.push(dir);
      return dir;
    };

    attackTest(
      `${who}: --memory 64M kills a program that allocates 256 MiB; exit 137, "memory limit"`,
      [noCgroup(asNobody, "memory"), noPython],
      () => {
        const dir = dirFor();
        const report = join(dir, "report.json");
        const result = cordon([...modeArgs(mode), "--memory", "64M", "--report", report, "--", PYTHON!, "-c", HOG], {
          asNobody,
        });
        expect(result.stdout).not.toContain("allocated");
        expect(result.exitCode).toBe(137);
        expect(result.stderr).toContain("cordon: the sandbox ran out of memory (--memory 64M): the kernel killed it");
        expect(endedOf(report).reason).toBe("memory limit");
        expect(endedOf(report).cgroup?.["oomKills"]).toBeGreaterThan(0);
        expect(leftCgroups(homes.values())).toEqual([]);
      },
    );

    attackTest(
      `${who}: -q silences the memory limit's line, not its status`,
      [noCgroup(asNobody, "memory"), noPython],
      () => {
        const result = cordon([...modeArgs(mode), "-q", "--memory", "64M", "--", PYTHON!, "-c", HOG], { asNobody });
        expect(result.exitCode).toBe(137);
        expect(result.stderr).not.toContain("cordon:");
      },
    );

    if (mode === "bwrap") {
      attackTest(
        `${who}: filling the private /tmp counts too: tmpfs pages are the sandbox's memory`,
        [noCgroup(asNobody, "memory")],
        () => {
          const dir = dirFor();
          const report = join(dir, "report.json");
          const script = 'head -c 200M /dev/zero > /tmp/fill; echo "written: $?"; ls -l /tmp/fill';
          const result = cordon([...modeArgs(mode), "--memory", "64M", "--report", report, "--", "sh", "-c", script], {
            asNobody,
          });
          expect(result.stdout).not.toContain("written: 0");
          expect(result.exitCode).toBe(137);
          expect(endedOf(report).reason).toBe("memory limit");
          expect(leftCgroups(homes.values())).toEqual([]);
        },
      );
    }

    attackTest(
      `${who}: a fork bomb under --pids 64 fails to fork, the run ends, and nothing is left`,
      [noCgroup(asNobody, "pids")],
      () => {
        const dir = dirFor();
        const marker = `cordon-bomb-${mode}-${asNobody}-${process.pid}`;
        const report = join(dir, "report.json");
        writeFileSync(join(dir, "bomb.sh"), FORK_BOMB);
        const result = cordon(
          [...modeArgs(mode), "-w", dir, "--pids", "64", "--report", report, "--", "sh", "bomb.sh", marker],
          {
            asNobody,
            cwd: dir,
            env: { CORDON_TEST_MARK: marker },
          },
        );
        expect(result.stdout).toContain("the bomb is out");
        expect(result.exitCode).toBe(0);
        expect(endedOf(report).cgroup?.["forksRefused"]).toBeGreaterThan(0);
        expect(processesWith(marker)).toEqual([]);
        expect(leftCgroups(homes.values())).toEqual([]);
        killMarked(marker);
      },
    );

    test(`${who}: where there is no cgroup, the run warns and --strict refuses; where there is, --strict runs`, () => {
      for (const [flag, value, controller, name] of [
        ["--memory", "1G", "memory", "memory-limit"],
        ["--pids", "100", "pids", "pids-limit"],
      ] as const) {
        const plain = cordon([...modeArgs(mode), flag, value, "--", "true"], { asNobody });
        const strict = cordon([...modeArgs(mode), "--strict", flag, value, "--", "true"], { asNobody });
        expect(plain.exitCode).toBe(0);
        if (homes.has(controller)) {
          expect(plain.stderr).not.toContain("not enforced");
          // landlock-only mode is refused by --strict for its own weaker guarantees, never for this limit.
          if (mode === "bwrap") expect(strict.exitCode).toBe(0);
          expect(strict.stderr).not.toContain(name);
        } else {
          expect(plain.stderr).toContain(`is not enforced: `);
          expect(strict.exitCode).toBe(125);
          expect(strict.stderr).toContain(name);
        }
      }
    });
  }
});

describe("the command cannot get out of its cgroup or raise its limit", () => {
  const reasons = [noCgroup(false, "memory"), noCgroup(false, "pids"), isRoot ? undefined : "needs root"];

  attackTest(
    "moving itself to the parent cgroup, or writing its own memory limit, fails in both modes",
    reasons,
    () => {
      const memoryParent = ROOT_HOMES.get("memory")!;
      const script = [
        `echo $$ > ${memoryParent}/cgroup.procs && echo MOVED`,
        `for f in ${memoryParent}/cordon-*/memory.limit_in_bytes ${memoryParent}/cordon-*/memory.max; do`,
        `  [ -e "$f" ] && echo 9999999999 > "$f" && echo RAISED; done`,
        "cat /proc/self/cgroup",
      ].join("\n");
      for (const mode of MODES) {
        const dir = scratchDir("cordon-cgroup-escape-");
        scratch.push(dir);
        const result = cordon([
          ...modeArgs(mode),
          "-w",
          dir,
          "--memory",
          "256M",
          "--pids",
          "100",
          "--",
          "sh",
          "-c",
          script,
        ]);
        expect({ mode, stdout: result.stdout }).not.toEqual({ mode, stdout: expect.stringContaining("MOVED") });
        expect(result.stdout).not.toContain("RAISED");
        expect(result.stdout).toMatch(/memory:.*cordon-\d+-[0-9a-f]{8}/);
      }
      // Without cordon the same script moves (root may write any cgroup): the sandbox is what stops it.
      const host = Bun.spawnSync(["sh", "-c", `echo $$ > ${memoryParent}/cgroup.procs && echo MOVED`]);
      expect(host.stdout.toString()).toContain("MOVED");
    },
  );

  attackTest(
    "a cordon killed with SIGKILL leaves its cgroup; the next run with a limit removes it and what ran in it",
    [noCgroup(false, "pids")],
    async () => {
      const marker = `cordon-kill9-cgroup-${process.pid}`;
      const run = startCordon(
        [...modeArgs("landlock"), "--pids", "50", "--", "sh", "-c", "sleep 300 & sleep 300; :", marker],
        {
          env: { CORDON_TEST_MARK: marker },
        },
      );
      await waitFor(() => processesWith(marker).length >= 3, "the sandboxed sleepers");
      run.kill("SIGKILL");
      await run.exited;
      const parent = ROOT_HOMES.get("pids")!;
      const stale = leftCgroups([parent]).filter((dir) => dir.includes(`cordon-${run.pid}-`));
      expect(stale.length).toBe(1);
      // A sleeper that outlived its cordon (landlock-only mode has no namespace to take it down).
      expect(processesWith(marker).length).toBeGreaterThan(0);
      // Unlocked (its cordon is gone) and older than 2 s: stale.
      Bun.sleepSync(2_100);
      const next = cordon([...modeArgs("landlock"), "--pids", "50", "--", "true"]);
      expect(next.exitCode).toBe(0);
      expect(existsSync(stale[0]!)).toBe(false);
      expect(processesWith(marker)).toEqual([]);
      killMarked(marker);
    },
  );

  attackTest(
    "20 runs at once, each with its own limits: all succeed and no cgroup is left",
    [noCgroup(false, "memory"), noCgroup(false, "pids")],
    async () => {
      const runs = Array.from({ length: 20 }, (_, index) =>
        cordonAsync([
          ...modeArgs(MODES[index % MODES.length]!),
          "--memory",
          "128M",
          "--pids",
          "32",
          "--",
          "sh",
          "-c",
          "cat /proc/self/cgroup",
        ]),
      );
      const results = await Promise.all(runs);
      expect(results.map((result) => result.exitCode)).toEqual(Array(20).fill(0));
      // Each run's own: the line of the pids controller (v1 "N:pids:/…", or v2's "0::/…").
      const pidsLine = (text: string) => text.split("\n").find((line) => /^\d+:(pids)?:.*cordon-/.test(line));
      const cgroups = new Set(results.map((result) => pidsLine(result.stdout)));
      expect(cgroups.size).toBe(20);
      expect(leftCgroups(ROOT_HOMES.values())).toEqual([]);
    },
  );
});

describe("cgroup v2: cordon alone in a cgroup of its own", () => {
  // Where the unified hierarchy hands out pids (a pure v2 host; not a hybrid one, where pids is v1's).
  const unified = parseCgroupMounts(readFileSync("/proc/self/mountinfo", "latin1")).find(
    (mount) => mount.version === 2,
  );
  const rootControllers = unified ? readFileSync(join(unified.mountPoint, "cgroup.controllers"), "latin1") : "";
  const v2Pids =
    unified && rootControllers.includes("pids") ? undefined : "the cgroup v2 hierarchy has no pids controller";
  const reasons = [isRoot ? undefined : "needs root to make a cgroup to start cordon in", v2Pids];

  /** Runs `script` in a new cgroup under the root (pids handed out to it for the test), then removes it. */
  function inFreshCgroup(script: string, check: (scope: string, result: RunResult) => void): void {
    const root = unified!.mountPoint;
    const scope = join(root, `cordon-test-scope-${process.pid}`);
    const rootControl = join(root, "cgroup.subtree_control");
    const enabled = !readFileSync(rootControl, "latin1").includes("pids");
    if (enabled) writeFileSync(rootControl, "+pids");
    mkdirSync(scope);
    try {
      check(scope, run(["sh", "-c", `echo $$ > ${scope}/cgroup.procs; ${script}`, "sh", CORDON]));
    } finally {
      removeCgroup(scope);
      if (enabled) writeFileSync(rootControl, "-pids");
    }
  }

  attackTest(
    "alone in it, cordon moves itself aside, holds --pids, and leaves the cgroup as it found it",
    reasons,
    () => {
      const command = 'grep "^0::" /proc/self/cgroup; for i in $(seq 30); do sleep 1 & done; wait';
      inFreshCgroup(
        `exec "$1" --mode landlock ${modeArgs("landlock").slice(2).join(" ")} --pids 10 -- sh -c '${command}'`,
        (scope, result) => {
          expect(result.stderr).toContain("Cannot fork");
          expect(result.stderr).toContain("cordon: the sandbox reached its process limit (--pids 10)");
          expect(result.stdout).toMatch(new RegExp(`^0::/${scope.split("/").at(-1)}/cordon-\\d+-[0-9a-f]{8}$`, "m"));
          expect(readdirSync(scope).filter((name) => name.startsWith("cordon-"))).toEqual([]);
          expect(readFileSync(join(scope, "cgroup.subtree_control"), "latin1").trim()).toBe("");
          expect(readFileSync(join(scope, "cgroup.procs"), "latin1")).toBe("");
        },
      );
    },
  );

  attackTest("sharing it with another process, cordon cannot use it: --pids is named as not enforced", reasons, () => {
    inFreshCgroup(
      `"$1" --mode landlock ${modeArgs("landlock").slice(2).join(" ")} --pids 10 -- true`,
      (scope, result) => {
        expect(result.exitCode).toBe(0);
        expect(result.stderr).toContain(`the process limit (10) is not enforced: cordon shares its cgroup ${scope}`);
      },
    );
  });
});
