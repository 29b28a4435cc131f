import packageJson from "../package.json" with { type: "json" };

export const VERSION: string = packageJson.version;

// scripts/build.ts defines CORDON_TARGET (for example "linux-x64-musl") and
// CORDON_TEST_HOOKS at compile time; running from source (`bun src/main.ts`,
// unit tests) leaves both undefined.
declare const CORDON_TARGET: string | undefined;
declare const CORDON_TEST_HOOKS: boolean | undefined;

/** The platform this binary was built for, or "dev" when running from source. */
const TARGET: string = typeof CORDON_TARGET === "string" ? CORDON_TARGET : "dev";

/**
 * Whether this build honours test hooks (CORDON_LANDLOCK_ABI_MAX): `npm run
 * build` (the binary the test suite runs) and source do; release builds do
 * not, and their minifier drops the hooks' code.
 */
export const TEST_HOOKS: boolean = typeof CORDON_TEST_HOOKS === "boolean" ? CORDON_TEST_HOOKS : true;

/** What `cordon --version` prints, e.g. "cordon 0.1.0 (linux-x64-musl)". */
export const VERSION_LINE = `cordon ${VERSION} (${TARGET}${TEST_HOOKS ? ", development build" : ""})`;
