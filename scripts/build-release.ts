// Cross-compiles the release binaries into dist/ and writes dist/SHA256SUMS.
// Usage: bun scripts/build-release.ts [--targets linux-x64,linux-arm64-musl]
//        [--host] [--out DIR]
// --targets (or CORDON_RELEASE_TARGETS in the environment) picks targets; --host
// means this machine's target only unless CORDON_RELEASE_TARGETS says otherwise
// (npm's prepack uses it: see docs/npm.md). --out defaults to dist.
// Bun fetches each foreign target's runtime from the npm registry on first use
// (about 35 MB compressed each) and caches it.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { compileCordon, hostTarget, isReleaseTarget, RELEASE_TARGETS, type ReleaseTarget } from "./build.ts";

export const DIST = "dist";

export function releaseFileName(target: ReleaseTarget): string {
  return `cordon-${target}`;
}

/** One `sha256sum` line: hex digest, two spaces, file name. */
export function checksumLine(path: string): string {
  const digest = createHash("sha256").update(readFileSync(path)).digest("hex");
  return `${digest}  ${basename(path)}\n`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { targets: { type: "string" }, host: { type: "boolean" }, out: { type: "string", default: DIST } },
  });
  const out = values.out ?? DIST;
  const list = values.targets ?? process.env.CORDON_RELEASE_TARGETS;
  const requested = list ? list.split(",") : values.host ? [hostTarget()] : [...RELEASE_TARGETS];
  const unknown = requested.filter((name) => !isReleaseTarget(name));
  if (unknown.length > 0) {
    process.stderr.write(
      `build-release: unknown target ${unknown.join(", ")}; expected ${RELEASE_TARGETS.join(", ")}\n`,
    );
    process.exit(2);
  }
  const targets = requested.filter(isReleaseTarget);
  // A stale SHA256SUMS must never vouch for binaries from another build.
  rmSync(join(out, "SHA256SUMS"), { force: true });
  const lines: string[] = [];
  for (const target of targets) {
    const outfile = join(out, releaseFileName(target));
    const started = performance.now();
    const status = compileCordon(target, outfile, "release");
    if (status !== 0) {
      process.stderr.write(`build-release: building ${target} failed\n`);
      process.exit(status);
    }
    process.stdout.write(`build-release: ${outfile} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    lines.push(checksumLine(outfile));
  }
  writeFileSync(join(out, "SHA256SUMS"), lines.join(""));
  process.stdout.write(`build-release: ${join(out, "SHA256SUMS")} lists ${lines.length} binaries\n`);
}
