// Shared pieces of the release tests: where the artifacts are, and tests that
// skip loudly with their reason in the name (bun's skipIf takes no message).
import { test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../helpers/cordon.ts";
import type { ReleaseTarget } from "../../scripts/build.ts";

export const DIST = join(REPO, "dist");

export function artifact(target: ReleaseTarget): string {
  return join(DIST, `cordon-${target}`);
}

/** Why the release binary for `target` cannot be tested, or undefined. */
export function missingArtifact(target: ReleaseTarget): string | undefined {
  return existsSync(artifact(target)) ? undefined : `dist/cordon-${target} is missing: run \`npm run build:release\``;
}

export function missingFile(path: string, hint: string): string | undefined {
  return existsSync(path) ? undefined : `${path} is missing (${hint})`;
}

export function releaseTest(
  name: string,
  reasons: (string | undefined)[],
  fn: () => void | Promise<void>,
  timeoutMs = 60_000,
): void {
  const reason = reasons.find((r) => r !== undefined);
  if (reason) test.skip(`${name} [skipped: ${reason}]`, fn);
  else test(name, fn, timeoutMs);
}
