// An architecture fitness test: imports run one way, from the CLI down to
// ffi/, and nothing imports in a cycle. The layers, lowest first (README,
// "Layout"); a module may import its own folder and any lower layer only.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { REPO } from "./helpers/cordon.ts";

const LAYERS: string[][] = [
  ["ffi"],
  ["src/errors.ts", "src/version.ts", "src/bytes.ts"],
  ["src/policy"],
  ["src/landlock", "src/seccomp"],
  ["src/host"],
  ["src/plan"],
  ["src/launch"],
  ["src/stage1", "src/stage2"],
  ["src/diagnostics"],
  ["src/cli"],
  ["src/main.ts"],
];

/** Every import of a module: static, type-only and dynamic alike. */
const IMPORT =
  /(?:^\s*import\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?|^\s*export\s+[^'"]*?\s+from\s+|\bimport\()["']([^"']+)["']/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => relative(REPO, join(entry.parentPath, entry.name)));
}

function unitOf(file: string): { unit: string; rank: number } {
  for (const [rank, units] of LAYERS.entries()) {
    const unit = units.find((candidate) => file === candidate || file.startsWith(`${candidate}/`));
    if (unit) return { unit, rank };
  }
  throw new Error(`${file} belongs to no layer: add its folder to LAYERS and to the README's layout`);
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  return [...text.matchAll(IMPORT)]
    .map(([, spec]) => spec!)
    .filter((spec) => spec.startsWith(".") && spec.endsWith(".ts"))
    .map((spec) => relative(REPO, resolve(REPO, dirname(file), spec)));
}

const files = [...sourceFiles("ffi"), ...sourceFiles("src")];

test("every module imports only its own folder and lower layers", () => {
  const violations: string[] = [];
  for (const file of files) {
    const from = unitOf(file);
    for (const target of importsOf(file)) {
      const to = unitOf(target);
      if (to.unit !== from.unit && to.rank >= from.rank) violations.push(`${file} -> ${target}`);
    }
  }
  expect(violations).toEqual([]);
});

test("no module imports itself through a cycle", () => {
  const graph = new Map(files.map((file) => [file, importsOf(file)]));
  const cycles: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "visiting") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "visiting");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of files) visit(file, []);
  expect(cycles).toEqual([]);
});
