// Built-in profiles. A policy file can define more under `profiles`.
import type { PolicyLayer } from "./schema.ts";

export const BUILTIN_PROFILES: Record<string, { description: string; layer: PolicyLayer }> = {
  readonly: {
    description: "nothing writable but the private TMPDIR; no network (the default)",
    layer: {},
  },
  workspace: {
    description:
      "the working directory writable; in every repository there, what git executes or trusts (hooks, config, " +
      "info/, the core.hooksPath directory...) protected, the rest of .git writable so commits work; no network",
    layer: { write: ["."], protectGit: true },
  },
  ci: {
    description:
      "workspace, and the environment starts from an allow-list (PATH, HOME, locale, TERM, CI, the runner's " +
      "non-secret variables; see the README) instead of the caller's whole environment",
    layer: { write: ["."], protectGit: true, env: { allowList: true } },
  },
};

export const DEFAULT_PROFILE = "readonly";
