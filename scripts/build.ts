// Builds dist/cordon: one self-contained binary that is both stage 1 and stage 2.
// Usage: bun scripts/build.ts [--target bun-linux-x64] [--outfile dist/cordon]
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    outfile: { type: "string", default: "dist/cordon" },
  },
});

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

mkdirSync("dist", { recursive: true });
const command = [
  process.execPath, "build", ...COMPILE_FLAGS,
  ...(values.target ? [`--target=${values.target}`] : []),
  "src/main.ts", "--outfile", values.outfile!,
];
const build = Bun.spawnSync(command, { stdio: ["inherit", "inherit", "inherit"] });
process.exit(build.exitCode ?? 1);
