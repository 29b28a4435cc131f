import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;

// scripts/build.ts defines CORDON_TARGET (for example "linux-x64-musl") at
// compile time; running from source (`bun src/main.ts`, tests) leaves it undefined.
declare const CORDON_TARGET: string | undefined;

/** The platform this binary was built for, or "dev" when running from source. */
const TARGET: string = typeof CORDON_TARGET === "string" ? CORDON_TARGET : "dev";

/** What `cordon --version` prints, e.g. "cordon 0.1.0 (linux-x64-musl)". */
export const VERSION_LINE = `cordon ${VERSION} (${TARGET})`;
