// Stage 2 runs before every sandboxed command: its static import graph (what
// the bundle evaluates on that path; everything else is behind a dynamic
// import) must not reach the CLI, validation or logging libraries, or async I/O.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { REPO } from "../helpers/cordon.ts";

const STATIC_IMPORT = /^\s*import\s+(?!type\b)(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm;

function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith("/")) return;
    for (const [, spec] of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
      visit(spec!.startsWith(".") ? resolve(dirname(file), spec!) : spec!);
    }
  };
  visit(entry);
  return seen;
}

test("main.ts reaches stage 2 without citty, valibot, consola or any CLI, policy or diagnostics module", () => {
  const graph = [...staticGraph(resolve(REPO, "src/main.ts"))];
  expect(graph).toContain(resolve(REPO, "src/stage2/main.ts"));
  const forbidden = graph.filter(
    (module) =>
      ["citty", "consola", "valibot"].includes(module) ||
      /\/src\/(cli|policy|diagnostics|plan)\//.test(module) ||
      module === "node:fs/promises",
  );
  expect(forbidden).toEqual([]);
});
