// Built-in profiles. A policy file can define more under `profiles`.
import type { PolicyLayer } from "./schema.ts";

/** Tokens CI systems hand to jobs; a sandboxed test has no business reading them. */
const CI_SECRET_VARIABLES = [
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "ACTIONS_RUNTIME_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  "ACTIONS_ID_TOKEN_REQUEST_URL",
  "ACTIONS_CACHE_URL",
  "ACTIONS_RUNTIME_URL",
  "CI_JOB_TOKEN",
  "CI_REGISTRY_PASSWORD",
  "NPM_TOKEN",
  "NODE_AUTH_TOKEN",
];

export const BUILTIN_PROFILES: Record<string, { description: string; layer: PolicyLayer }> = {
  readonly: {
    description: "nothing writable but the private TMPDIR; no network (the default)",
    layer: {},
  },
  workspace: {
    description: "the working directory writable, its .git write-denied; no network",
    layer: { write: ["."], denyWrite: [".git"] },
  },
  ci: {
    description:
      "workspace, plus CI tokens removed from the environment ($GITHUB_TOKEN, " +
      "$ACTIONS_*, $CI_JOB_TOKEN, $NPM_TOKEN...)",
    layer: { write: ["."], denyWrite: [".git"], env: { unset: CI_SECRET_VARIABLES } },
  },
};

export const DEFAULT_PROFILE = "readonly";
