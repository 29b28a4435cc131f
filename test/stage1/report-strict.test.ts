// --report writes what a run enforced; --strict refuses weakened guarantees
// unless accepted by name; every ABI's missing rights are reported.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cordon, scratchDir, modeArgs } from "../helpers/cordon.ts";

interface Report {
  version: number;
  mode: string | null;
  modeReason: string;
  landlockAbi: number;
  enforced: { namespaces: boolean; seccompInstructions: number; landlock: { pathRules: number } } | null;
  degraded: { name: string; weakensSecurity: boolean }[];
  exitStatus: number;
  refused?: string;
  durationMs: number;
}

describe("--report and --strict", () => {
  let dir: string;
  beforeAll(() => (dir = scratchDir("cordon-report-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Report;

  for (const mode of ["bwrap", "landlock"] as const) {
    test(`${mode} mode: the report names the mode, the ABI, what was enforced and the command's status`, () => {
      const report = join(dir, `${mode}.json`);
      const result = cordon([...modeArgs(mode), "-q", "--report", report, "--", "sh", "-c", "exit 3"]);
      expect(result.exitCode).toBe(3);
      const record = read(report);
      expect(record).toMatchObject({ version: 1, mode, landlockAbi: 7, exitStatus: 3 });
      expect(record.enforced?.namespaces).toBe(mode === "bwrap");
      expect(record.enforced?.seccompInstructions).toBeGreaterThan(50);
      expect(record.durationMs).toBeGreaterThan(0);
      if (mode === "landlock") expect(record.degraded.map((gap) => gap.name)).toContain("unix-sockets");
    });
  }

  test("-v prints the same record as one line", () => {
    const result = cordon(["--mode", "bwrap", "-v", "--", "true"]);
    expect(result.stderr).toMatch(
      new RegExp(
        /cordon: mode bwrap \(.*\); Landlock ABI 7; \d+ path rules, \d+ seccomp instructions, /.source +
          /network none, (a new session|the terminal's session); nothing weaker; exit 0 after \d+ ms/.source,
      ),
    );
  });

  test("a refusal is reported too, with status 125, and nothing runs", () => {
    const report = join(dir, "refused.json");
    const marker = join(dir, "ran");
    const result = cordon(["--report", report, "-w", "/nonexistent-root", "--", "touch", marker]);
    expect(result.exitCode).toBe(125);
    expect(read(report)).toMatchObject({ exitStatus: 125, refused: "write root /nonexistent-root does not exist" });
    expect(existsSync(marker)).toBe(false);
  });

  test("--strict refuses a guarantee this ABI cannot give, and --allow-degraded accepts it by name", () => {
    const marker = join(dir, "strict-ran");
    const env = { CORDON_LANDLOCK_ABI_MAX: "2" };
    const refused = cordon([...modeArgs("landlock"), "--strict", "--", "touch", marker], { env });
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toContain("truncate");
    expect(refused.stderr).toContain("--allow-degraded");
    expect(existsSync(marker)).toBe(false);
    const accepted = cordon(
      [
        ...modeArgs("landlock"),
        "-q",
        "--strict",
        "-w",
        dir,
        ...["truncate", "ioctl-dev", "scopes", "unix-sockets", "metadata", "process-isolation"].flatMap((name) => [
          "--allow-degraded",
          name,
        ]),
        "--",
        "touch",
        marker,
      ],
      { env },
    );
    expect(accepted.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  test("--strict in bwrap mode on this kernel refuses nothing", () => {
    expect(cordon(["--mode", "bwrap", "--strict", "-q", "--", "true"]).exitCode).toBe(0);
  });

  test("each ABI from 1 to 7 reports exactly the rights it lacks", () => {
    const expected: Record<number, string[]> = {
      1: ["refer", "truncate", "ioctl-dev", "tcp-ports", "scopes"],
      2: ["truncate", "ioctl-dev", "tcp-ports", "scopes"],
      3: ["ioctl-dev", "tcp-ports", "scopes"],
      4: ["ioctl-dev", "scopes"],
      5: ["scopes"],
      6: [],
      7: [],
    };
    for (const [abi, names] of Object.entries(expected)) {
      const report = join(dir, `abi-${abi}.json`);
      const result = cordon([...modeArgs("landlock"), "-q", "--report", report, "--", "true"], {
        env: { CORDON_LANDLOCK_ABI_MAX: abi },
      });
      expect(result.exitCode).toBe(0);
      const record = read(report);
      expect(record.landlockAbi).toBe(Number(abi));
      const landlockGaps = record.degraded
        .map((gap) => gap.name)
        .filter((name) => ["refer", "truncate", "ioctl-dev", "tcp-ports", "scopes"].includes(name));
      expect(`ABI ${abi}: ${landlockGaps.sort().join(",")}`).toBe(`ABI ${abi}: ${[...names].sort().join(",")}`);
    }
  });
});
