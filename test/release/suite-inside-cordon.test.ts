// Issue 16, item 13: `cordon -w . -- npm test` on cordon's own clone gives a
// clean answer. Inside cordon, scripts/test.ts runs the test files that do
// not start cordon, says why it skips the others, and ends with its summary.
import { expect, test } from "bun:test";
import { CORDON, cordon, REPO } from "../helpers/cordon.ts";

test("the suite run inside cordon says what it skips and why, and what it runs passes", () => {
  // CORDON_BIN: no build inside the sandbox. The binary lies in the write root (cordon's own clone), so the
  // run accepts that by name, as a developer trying this would.
  const result = cordon(
    ["-w", REPO, "--allow-degraded", "cordon-writable", "-q", "--env", `CORDON_BIN=${CORDON}`, "--"].concat([
      process.execPath,
      "scripts/test.ts",
    ]),
    { cwd: REPO },
  );
  expect(result.stdout).toMatch(
    /^inside cordon \(an ancestor process is cordon or bwrap\): running the \d+ test files/,
  );
  expect(result.stdout).toMatch(/\n\d+ passed, 0 failed, \d+ skipped \(and \d+ files skipped inside cordon\)\n$/);
  expect(result.exitCode).toBe(0);
}, 120_000);
