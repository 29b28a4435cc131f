// Names of the guarantees that can be weaker than a policy asks, on some
// hosts or in some modes. `allowDegraded` and `--allow-degraded` accept them
// by name; `--strict` refuses any other weakened guarantee.
export const DEGRADATIONS = [
  "refer", "truncate", "ioctl-dev", "tcp-ports", "scopes", "unix-sockets", "metadata", "process-isolation", "deny-costs",
] as const;

export type DegradationName = (typeof DEGRADATIONS)[number];
