// Builds dist/cordon: one self-contained binary that is both stage 1 and stage 2.
// Usage: bun scripts/build.ts [--target linux-x64|linux-arm64|linux-x64-musl|linux-arm64-musl] [--outfile dist/cordon]
// Without --target it builds for the machine it runs on. scripts/build-release.ts
// imports compileCordon to build every release target with the same flags.
import { mkdirSync, openSync, readSync, closeSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";

/** Flags every build uses; the autoload flags keep a hostile bunfig.toml or .env in the working directory inert. */
export const COMPILE_FLAGS = [
  "--compile",
  "--no-compile-autoload-bunfig",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-tsconfig",
  "--no-compile-autoload-package-json",
  "--minify",
  "--bytecode",
  "--format=esm",
];

export const RELEASE_TARGETS = ["linux-x64", "linux-arm64", "linux-x64-musl", "linux-arm64-musl"] as const;
export type ReleaseTarget = (typeof RELEASE_TARGETS)[number];

export function isReleaseTarget(name: string): name is ReleaseTarget {
  return (RELEASE_TARGETS as readonly string[]).includes(name);
}

/**
 * The target of the running Bun: its architecture, and musl when its ELF
 * interpreter is musl's loader. PT_INTERP sits in the first page of the file,
 * so scanning that page for the loader's name is enough.
 */
export function hostTarget(): ReleaseTarget {
  const arch = process.arch === "arm64" ? "arm64" : process.arch === "x64" ? "x64" : undefined;
  if (!arch) throw new Error(`cordon builds for x64 and arm64 Linux only, not ${process.arch}`);
  const head = Buffer.alloc(4096);
  const fd = openSync(process.execPath, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return head.includes("/ld-musl-") ? `linux-${arch}-musl` : `linux-${arch}`;
}

/**
 * Compiles src/main.ts for `target` into `outfile`. The target name is baked
 * in as the CORDON_TARGET constant, which `cordon --version` prints. Only a
 * development build (`npm run build`, which the test suite runs) honours test
 * hooks; release builds are compiled without them.
 */
export function compileCordon(target: ReleaseTarget, outfile: string, kind: "release" | "development"): number {
  mkdirSync(dirname(outfile), { recursive: true });
  const command = [
    process.execPath,
    "build",
    ...COMPILE_FLAGS,
    `--target=bun-${target}`,
    `--define=CORDON_TARGET=${JSON.stringify(target)}`,
    `--define=CORDON_TEST_HOOKS=${kind === "development"}`,
    "src/main.ts",
    "--outfile",
    outfile,
  ];
  const build = Bun.spawnSync(command, { stdio: ["inherit", "inherit", "inherit"] });
  return build.exitCode ?? 1;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      target: { type: "string" },
      outfile: { type: "string", default: "dist/cordon" },
    },
  });
  const target = values.target?.replace(/^bun-/, "") ?? hostTarget();
  if (!isReleaseTarget(target)) {
    process.stderr.write(`build: unknown target ${target}; expected one of ${RELEASE_TARGETS.join(", ")}\n`);
    process.exit(2);
  }
  process.exit(compileCordon(target, values.outfile ?? "dist/cordon", "development"));
}
