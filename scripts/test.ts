// Runs the whole suite with `bun test` and ends with a plain
// "N passed, N failed, N skipped" line read from the JUnit report, since
// bun's own summary is not in a format CI reads.
// Usage: bun scripts/test.ts [bun test arguments...]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectNesting } from "../src/host/system.ts";

// The suite runs the real binary: build it first unless CORDON_BIN names one.
if (!process.env.CORDON_BIN) {
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts"], { stdio: ["inherit", "inherit", "inherit"] });
  if (build.exitCode !== 0) {
    process.stdout.write("0 passed, 1 failed (the build failed)\n");
    process.exit(1);
  }
}

/**
 * Whether this process runs inside cordon (or bare bwrap): an ancestor
 * process has that name, the evidence cordon's nesting diagnosis uses.
 * There the files that run cordon itself cannot work: they need user
 * namespaces, root or another user, and /var/tmp. Another kind of sandbox
 * (a CI container) does not shrink the suite: its tests skip one by one.
 */
function insideCordon(): boolean {
  const { kind } = detectNesting();
  if (kind !== "cordon" && kind !== "bwrap") return false;
  // And the sandbox's own marks, which a process merely named bwrap does not give: no-new-privileges and a
  // seccomp filter. Without both, the whole suite runs (a silent reduction could hide failures in CI).
  const status = readFileSync("/proc/self/status", "utf8");
  return /^NoNewPrivs:\s*1$/m.test(status) && /^Seccomp:\s*2$/m.test(status);
}

/** Test files that start the compiled binary, or the helpers that do. */
function runsCordon(file: string): boolean {
  return /helpers\/(cordon|attacks|git-scene|tty|private-mounts)\.ts|dist\/cordon/.test(readFileSync(file, "utf8"));
}

let selected = process.argv.slice(2);
let skippedFiles = 0;
if (insideCordon() && selected.length === 0) {
  const files = [...new Bun.Glob("test/**/*.test.ts").scanSync(".")].sort();
  selected = files.filter((file) => !runsCordon(file)).map((file) => `./${file}`);
  skippedFiles = files.length - selected.length;
  process.stdout.write(
    `inside cordon (an ancestor process is cordon or bwrap): running the ${selected.length} test files ` +
      `that do not start cordon; the other ${skippedFiles} need user namespaces, root or another user, ` +
      "and /var/tmp, which a sandbox takes away: run `npm test` outside one for those\n",
  );
}

const dir = mkdtempSync(join(tmpdir(), "cordon-junit-"));
const report = join(dir, "junit.xml");
const result = Bun.spawnSync(
  [process.execPath, "test", "--timeout=60000", "--reporter=junit", `--reporter-outfile=${report}`, ...selected],
  { stdio: ["inherit", "inherit", "inherit"] },
);

function count(xml: string, attribute: string): number {
  const match = new RegExp(`<testsuites[^>]*\\s${attribute}="(\\d+)"`).exec(xml);
  return match ? Number(match[1]) : 0;
}

let summary = "0 passed, 1 failed (no test report was written)";
try {
  const xml = readFileSync(report, "utf8");
  const tests = count(xml, "tests");
  const failed = count(xml, "failures") + count(xml, "errors");
  const skipped = count(xml, "skipped");
  summary = `${tests - failed - skipped} passed, ${failed} failed, ${skipped} skipped`;
  if (skippedFiles > 0) summary += ` (and ${skippedFiles} files skipped inside cordon)`;
  if (tests === 0) summary = "0 passed, 1 failed (no test ran)";
} catch {
  // Keep the failing summary.
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${summary}\n`);
process.exit(result.exitCode === 0 && !summary.includes("(no test") ? 0 : 1);
