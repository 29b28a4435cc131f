// run and explain share one preparation (stage1/prepare.ts), so for the same
// options they must decide the same: the mode, a refusal, and the bwrap
// arguments. A recording bwrap shows what run really passed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CORDON, cordon, requireBinary, run, scratchDir, modeArgs } from "../helpers/cordon.ts";

interface Explained {
  mode: { chosen: string | null; planned: string; reason: string };
  bwrap: { arguments: string[] } | null;
}

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Descriptors 3..N+2 open in cordon's caller. */
  openFds?: number;
}

describe("run and explain decide the same", () => {
  let dir: string;
  let recorder: string;
  let recorded: string;
  beforeAll(() => {
    requireBinary();
    dir = scratchDir("cordon-parity-");
    mkdirSync(join(dir, "work"));
    recorded = join(dir, "bwrap-args");
    recorder = join(dir, "bwrap");
    // bwrap reads its arguments from the descriptor after --args; record them, then run the real one.
    writeFileSync(recorder, `#!/bin/sh\ntr '\\0' '\\n' < /proc/self/fd/$2 > '${recorded}'\nexec /usr/bin/bwrap "$@"\n`);
    chmodSync(recorder, 0o755);
    chmodSync(dir, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Case[] = [
    { name: "the default", args: [] },
    { name: "a write root with denies", args: ["-w", "WORK", "--deny-write", "WORK/.git", "--deny-read", "WORK/.env"] },
    { name: "--mode landlock", args: [...modeArgs("landlock")] },
    { name: "--mode landlock --strict", args: [...modeArgs("landlock"), "--strict"] },
    { name: "--mode bwrap --strict", args: ["--mode", "bwrap", "--strict"] },
    { name: "--strict on ABI 2", args: ["--strict"], env: { CORDON_LANDLOCK_ABI_MAX: "2" } },
    { name: "--preserve-fds 2 with both open", args: ["--preserve-fds", "2"], openFds: 2 },
    // Descriptor 4 is then the runtime's own epoll: refused by both.
    { name: "--preserve-fds 2 with one open", args: ["--preserve-fds", "2"], openFds: 1 },
    { name: "--allow-connect on ABI 7", args: ["--allow-connect", "5432"] },
    { name: "Landlock unavailable", args: [], env: { CORDON_LANDLOCK_ABI_MAX: "0" } },
  ];

  /** cordon with `args`, from a shell that opens `openFds` descriptors first. */
  const withFds = (args: string[], openFds: number, env: Record<string, string>) => {
    const redirects = Array.from({ length: openFds }, (_, i) => `${3 + i}</dev/null`).join(" ");
    const quoted = args.map((arg) => `'${arg}'`).join(" ");
    return run(["sh", "-c", `exec '${CORDON}' ${quoted} ${redirects}`], { env });
  };

  for (const testCase of cases) {
    test(testCase.name, () => {
      const args = ["--bwrap", recorder, ...testCase.args.map((arg) => arg.replace("WORK", join(dir, "work")))];
      const env = testCase.env ?? {};
      rmSync(recorded, { force: true });
      const explained = withFds(["explain", "--json", ...args], testCase.openFds ?? 0, env);
      expect(explained.exitCode).toBe(0);
      const plan = JSON.parse(explained.stdout) as Explained;

      const report = join(dir, "report.json");
      const ran = withFds(["-q", "--report", report, ...args, "--", "echo", "ran"], testCase.openFds ?? 0, env);
      const record = JSON.parse(readFileSync(report, "utf8")) as { mode: string | null; exitStatus: number };

      if (plan.mode.chosen === null) {
        expect(ran.exitCode).toBe(125);
        expect(ran.stdout).toBe("");
        expect(record.mode).toBeNull();
        return;
      }
      expect(ran.stderr).toBe("");
      expect(ran.stdout).toBe("ran\n");
      expect(ran.exitCode).toBe(0);
      expect(record.mode).toBe(plan.mode.chosen);
      if (plan.mode.chosen !== "bwrap") return;
      // The same arguments, but for the per-run state directory that explain can only name.
      const actual = readFileSync(recorded, "utf8").trim().split("\n");
      const normalize = (argv: string[]) => argv.map((arg) => arg.replace(/^.*\/cordon-\d+-\w{6}/, "<run state>"));
      expect(normalize(actual)).toEqual(plan.bwrap!.arguments);
    });
  }

  test("the cases cover both outcomes and both modes", () => {
    const chosen = cases.map((testCase) => {
      const args = ["--bwrap", recorder, ...testCase.args.map((arg) => arg.replace("WORK", join(dir, "work")))];
      return (
        JSON.parse(
          withFds(["explain", "--json", ...args], testCase.openFds ?? 0, testCase.env ?? {}).stdout,
        ) as Explained
      ).mode.chosen;
    });
    expect(new Set(chosen)).toEqual(new Set(["bwrap", "landlock", null]));
    expect(cordon(["explain", "--json"]).exitCode).toBe(0);
  });
});
