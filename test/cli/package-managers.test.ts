// Package managers under cordon (issue 16, item 14): a cache of their own in
// the project (--cache), and told they are offline when the network is off,
// so an install fails at once with the tool's own words instead of retrying.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cordon, missingTool } from "../helpers/cordon.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync("/var/tmp/cordon-pm-");
  dirs.push(dir);
  return dir;
}

const printVariables = ["sh", "-c", 'echo "$npm_config_cache|$npm_config_offline|$GOPROXY|$GOMODCACHE"'];
/** None of the printed variables from the caller: `npm test` itself sets npm_config_cache for its scripts. */
const CLEAN = { npm_config_cache: undefined, npm_config_offline: undefined, GOPROXY: undefined, GOMODCACHE: undefined };

test("--cache npm --cache go point the tools into the project; without the network they are offline", () => {
  const dir = project();
  const result = cordon(["-w", ".", "--cache", "npm", "--cache", "go", "--", ...printVariables], {
    cwd: dir,
    env: CLEAN,
  });
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toBe(`${dir}/.cache/npm|true|off|${dir}/.cache/go/mod\n`);
});

test("with --net nothing says offline; a variable the caller or policy sets wins", () => {
  const dir = project();
  expect(cordon(["--net", "--", ...printVariables], { cwd: dir, env: CLEAN }).stdout).toBe("|||\n");
  const own = cordon(["--env", "npm_config_offline=false", "--", ...printVariables], { cwd: dir, env: CLEAN });
  expect(own.stdout).toBe("|false|off|\n");
  const caller = cordon(["--", ...printVariables], { cwd: dir, env: { ...CLEAN, GOPROXY: "https://proxy.example" } });
  expect(caller.stdout).toBe("|true|https://proxy.example|\n");
  // --cache replaces the caller's cache (npm sets one for every script it runs); --env still wins over it.
  const cached = cordon(["-w", ".", "--cache", "npm", "--", ...printVariables], {
    cwd: dir,
    env: { ...CLEAN, npm_config_cache: "/elsewhere" },
  });
  expect(cached.stdout).toBe(`${dir}/.cache/npm|true|off|\n`);
});

test("--cache without a write root is refused, naming the fix", () => {
  const result = cordon(["--cache", "npm", "--", "true"], { cwd: project() });
  expect(result.exitCode).toBe(125);
  expect(result.stderr).toContain("--cache npm needs a write root");
  expect(result.stderr).toContain("-w .");
});

test("--cache with an unknown tool is refused with the list", () => {
  const result = cordon(["-w", ".", "--cache", "maven", "--", "true"], { cwd: project() });
  expect(result.exitCode).toBe(125);
  expect(result.stderr).toContain("npm, pip, uv, go, cargo");
});

test.skipIf(missingTool("npm") !== undefined)(
  "npm install of an uncached package without the network fails at once with npm's ENOTCACHED, and " +
    "npm ci of a project without dependencies works, its cache in the project",
  () => {
    const dir = project();
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", version: "1.0.0" }));
    const install = cordon(["-w", ".", "--cache", "npm", "--", "npm", "install", "left-pad@1.3.0"], { cwd: dir });
    expect(install.exitCode).not.toBe(0);
    expect(install.stderr).toContain("ENOTCACHED");
    const ci = cordon(["-w", ".", "--cache", "npm", "--", "npm", "install", "--no-audit", "--no-fund"], { cwd: dir });
    expect(ci.stderr).toBe("");
    expect(ci.exitCode).toBe(0);
  },
);
