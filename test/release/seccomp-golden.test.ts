// The aarch64 seccomp program, byte for byte, against the reviewed listing in
// test/release/golden/. Nothing on an x86 machine would otherwise notice a
// change to what the arm64 builds load.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { GOLDEN_PATH, goldenListing } from "../../scripts/golden-seccomp.ts";

test("the aarch64 seccomp programs match test/release/golden/seccomp-aarch64.txt", () => {
  const committed = readFileSync(GOLDEN_PATH, "utf8");
  const current = goldenListing();
  if (current !== committed) {
    const a = committed.split("\n");
    const b = current.split("\n");
    const first = b.findIndex((line, i) => line !== a[i]);
    throw new Error(
      `the aarch64 seccomp program drifted from the golden listing (first difference at line ${first + 1}:\n` +
        `  golden:  ${a[first] ?? "<end>"}\n  current: ${b[first] ?? "<end>"})\n` +
        "If the change is deliberate, run `bun scripts/golden-seccomp.ts` and review the diff of the golden file.",
    );
  }
  expect(current).toBe(committed);
});
