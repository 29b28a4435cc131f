// Built-in profiles. A policy file can define more under `profiles`.
import type { PolicyLayer } from "./schema.ts";

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
      "workspace, and the environment starts from an allow-list (PATH, HOME, locale, TERM, CI, the runner's " +
      "non-secret variables; see the README) instead of the caller's whole environment",
    layer: { write: ["."], denyWrite: [".git"], env: { allowList: true } },
  },
};

export const DEFAULT_PROFILE = "readonly";
