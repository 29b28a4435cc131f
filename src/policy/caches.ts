// Package managers in the sandbox. Their caches live in the home directory
// (~/.npm, ~/.cache/pip, ~/go/pkg/mod, ~/.cargo/registry), which is read-only
// there, and sharing the host's cache would let a sandboxed command poison
// what the user's own installs trust. So:
// - `caches` (`--cache TOOL`) points each named tool at a cache of its own
//   inside the write root that holds the working directory
//   (`<root>/.cache/<tool>`): kept between runs of the project, shared with
//   nothing else;
// - without the network, the tools are told they are offline, so an install
//   fails at once with the tool's own message (or works from a cache) instead
//   of retrying for a minute.
// Pure: names and paths in, variables out.
import { isWithin } from "./paths.ts";

export const CACHE_TOOLS = ["npm", "pip", "uv", "go", "cargo"] as const;
export type CacheTool = (typeof CACHE_TOOLS)[number];

/** The variables that move each tool's cache into `dir`. */
const CACHE_VARIABLES: Record<CacheTool, (dir: string) => Record<string, string>> = {
  npm: (dir) => ({ npm_config_cache: dir }),
  pip: (dir) => ({ PIP_CACHE_DIR: dir }),
  uv: (dir) => ({ UV_CACHE_DIR: dir }),
  go: (dir) => ({ GOMODCACHE: `${dir}/mod`, GOCACHE: `${dir}/build` }),
  // cargo has no cache variable of its own: CARGO_HOME moves its config and installed binaries too.
  cargo: (dir) => ({ CARGO_HOME: dir }),
};

/** What each tool reads as "offline": it then fails at once, or installs from its cache. */
export const OFFLINE_VARIABLES: Readonly<Record<string, string>> = {
  npm_config_offline: "true",
  PIP_NO_INDEX: "1",
  UV_OFFLINE: "1",
  GOPROXY: "off",
  CARGO_NET_OFFLINE: "true",
};

/** The write root a project cache goes in: the one holding the working directory, else the first. */
export function cacheRoot(cwd: string, writeRoots: readonly string[]): string | undefined {
  return writeRoots.find((root) => isWithin(cwd, root)) ?? writeRoots[0];
}

/** The variables for `tools`' caches under `root`/.cache. */
export function cacheVariables(tools: readonly CacheTool[], root: string): Record<string, string> {
  return Object.assign({}, ...tools.map((tool) => CACHE_VARIABLES[tool](`${root}/.cache/${tool}`)));
}

/** The offline variables the caller has not set already. */
export function offlineVariables(caller: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(OFFLINE_VARIABLES).filter(([name]) => caller[name] === undefined));
}
