// The formatting contract: every TypeScript line in src/, ffi/, test/ and
// scripts/ fits in 120 columns (prettier's printWidth, which prettier itself
// cannot enforce on long string literals), and prettier has nothing to change.
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./helpers/cordon.ts";

const MAX_COLUMNS = 120;
const FOLDERS = ["src", "ffi", "test", "scripts"];
const PRETTIER = join(REPO, "node_modules", ".bin", "prettier");

test(`no line in ${FOLDERS.join(", ")} is longer than ${MAX_COLUMNS} columns`, async () => {
  const long: string[] = [];
  for (const folder of FOLDERS) {
    for (const file of new Bun.Glob("**/*.ts").scanSync({ cwd: join(REPO, folder) })) {
      const lines = (await Bun.file(join(REPO, folder, file)).text()).split("\n");
      lines.forEach((line, index) => {
        // Columns are characters (code points), not UTF-16 units or bytes.
        const columns = [...line].length;
        if (columns > MAX_COLUMNS) long.push(`${folder}/${file}:${index + 1} (${columns} columns)`);
      });
    }
  }
  expect(long.sort()).toEqual([]);
});

test.skipIf(!existsSync(PRETTIER))(
  `prettier --check ${FOLDERS.join(" ")} passes`,
  () => {
    const result = Bun.spawnSync([PRETTIER, "--check", ...FOLDERS], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    // prettier names each file it would reformat on a "[warn]" line.
    const unformatted = `${result.stdout.toString()}${result.stderr.toString()}`
      .split("\n")
      .filter((line) => line.startsWith("[warn]") && !line.includes("Code style issues"));
    expect({ exitCode: result.exitCode, unformatted }).toEqual({ exitCode: 0, unformatted: [] });
  },
  60_000,
);
