// Package managers' caches and offline defaults (src/policy/caches.ts).
import { expect, test } from "bun:test";
import { cacheRoot, cacheVariables, OFFLINE_VARIABLES, offlineVariables } from "../../src/policy/caches.ts";

test("each tool's cache goes under <root>/.cache/<tool>; cargo's through CARGO_HOME", () => {
  expect(cacheVariables(["npm", "pip", "uv", "go", "cargo"], "/ws")).toEqual({
    npm_config_cache: "/ws/.cache/npm",
    PIP_CACHE_DIR: "/ws/.cache/pip",
    UV_CACHE_DIR: "/ws/.cache/uv",
    GOMODCACHE: "/ws/.cache/go/mod",
    GOCACHE: "/ws/.cache/go/build",
    CARGO_HOME: "/ws/.cache/cargo",
  });
  expect(cacheVariables([], "/ws")).toEqual({});
});

test("the cache root is the write root holding the working directory, else the first", () => {
  expect(cacheRoot("/b/src", ["/a", "/b"])).toBe("/b");
  expect(cacheRoot("/elsewhere", ["/a", "/b"])).toBe("/a");
  expect(cacheRoot("/elsewhere", [])).toBeUndefined();
});

test("offline variables the caller set stay the caller's", () => {
  expect(offlineVariables({})).toEqual(OFFLINE_VARIABLES);
  const { npm_config_offline, ...rest } = OFFLINE_VARIABLES;
  expect(npm_config_offline).toBe("true");
  expect(offlineVariables({ npm_config_offline: "false" })).toEqual(rest);
});
