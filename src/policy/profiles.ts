// Built-in profiles. A policy file can define more under `profiles`.
import { PROJECT_FILES, type PolicyLayer } from "./schema.ts";

export const BUILTIN_PROFILES: Record<string, { description: string; layer: PolicyLayer }> = {
  readonly: {
    description: "nothing writable but the private TMPDIR; no network (the default)",
    layer: {},
  },
  workspace: {
    description:
      "the working directory writable; in every repository there, what git executes or trusts (hooks, config, " +
      "info/, the core.hooksPath directory...) protected, the rest of .git writable so commits work; .vscode, " +
      ".idea, .mcp.json, .claude and .envrc protected at its top; no network",
    layer: { write: ["."], protectGit: true, protectFiles: [...PROJECT_FILES] },
  },
  ci: {
    description:
      "workspace, and the environment starts from an allow-list (PATH, HOME, locale, TERM, CI, the runner's " +
      "non-secret variables; see the README) instead of the caller's whole environment",
    layer: { write: ["."], protectGit: true, protectFiles: [...PROJECT_FILES], env: { allowList: true } },
  },
};

export const DEFAULT_PROFILE = "readonly";
