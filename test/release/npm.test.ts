// `npm pack`, install the tarball into an empty directory, and run cordon
// through npx, as a user of the npm package would.
import { afterAll, beforeAll, expect } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };
import { REPO, missingTool, run } from "../helpers/cordon.ts";
import { releaseTest } from "./release-helpers.ts";

const reasons = [
  missingTool("npm"),
  missingTool("npx"),
  missingTool("node"),
  existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed",
];
const ready = reasons.every((reason) => reason === undefined);

let dir = "";
let project = "";

beforeAll(() => {
  if (!ready) return;
  dir = mkdtempSync(join(tmpdir(), "cordon-npm-"));
  // prepack builds this machine's binary into dist/npm (not dist/, whose
  // release artifacts other tests check).
  const pack = run(["npm", "pack", "--silent", "--pack-destination", dir], { cwd: REPO, timeoutMs: 300_000 });
  if (pack.exitCode !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = readdirSync(dir).find((name) => name.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball: ${pack.stdout}`);
  project = join(dir, "project");
  run(["mkdir", project]);
  writeFileSync(join(project, "package.json"), "{}\n");
  const install = run(["npm", "install", "--no-audit", "--no-fund", join(dir, tarball)], {
    cwd: project,
    timeoutMs: 300_000,
  });
  if (install.exitCode !== 0) throw new Error(`npm install failed: ${install.stderr}`);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function npx(args: string[], env: Record<string, string> = {}) {
  return run(["npx", "--no-install", "cordon", ...args], { cwd: project, env, timeoutMs: 120_000 });
}

releaseTest("npm package: npx cordon --version runs the packed binary", reasons, () => {
  const result = npx(["--version"]);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toMatch(
    new RegExp(`^cordon ${packageJson.version.replaceAll(".", "\\.")} \\(linux-(x64|arm64)(-musl)?\\)\\n$`),
  );
});

releaseTest("npm package: npx cordon -- true exits 0", reasons, () => {
  const result = npx(["-q", "--", "true"]);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(0);
});

releaseTest("npm package: the sandboxed command writes its write root and nothing else", reasons, () => {
  const outside = mkdtempSync(join(REPO, "dist", ".npm-outside-"));
  // A write root beside node_modules/: the project itself would hold cordon's package (see the next test).
  const work = join(project, "work");
  mkdirSync(work, { recursive: true });
  try {
    const script = `touch work/ok && touch ${outside}/escaped`;
    const result = npx(["-q", "-w", "work", "--", "sh", "-c", script]);
    expect(result.exitCode).toBe(1);
    expect(existsSync(join(work, "ok"))).toBe(true);
    expect(existsSync(join(outside, "escaped"))).toBe(false);
    // Without cordon the same script does write there.
    expect(run(["sh", "-c", script], { cwd: project }).exitCode).toBe(0);
    expect(existsSync(join(outside, "escaped"))).toBe(true);
  } finally {
    rmSync(outside, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
});

releaseTest("npm package: a write root holding the package is refused; accepted by name it runs", reasons, () => {
  // The sandboxed command could rewrite bin/cordon.cjs, and the next npx cordon would run it unsandboxed.
  const launcher = join(project, "node_modules", "cordon", "bin", "cordon.cjs");
  const before = readFileSync(launcher, "utf8");
  const rewrite = `echo 'require("fs").writeFileSync("/tmp/cordon-npm-trojan", "")' > ${launcher}`;
  const refused = npx(["-q", "-w", ".", "--", "sh", "-c", rewrite]);
  expect(refused.exitCode).toBe(125);
  expect(refused.stderr).toContain(`cordon's npm package ${join(project, "node_modules", "cordon")} lies inside`);
  expect(refused.stderr).toContain("npm install -g cordon");
  expect(refused.stderr).toContain("--allow-degraded cordon-writable");
  expect(readFileSync(launcher, "utf8")).toBe(before);

  const accepted = npx([
    "-q",
    "-w",
    ".",
    "--allow-degraded",
    "cordon-writable",
    "--",
    "sh",
    "-c",
    "echo ${CORDON_NPM_PACKAGE-unset}",
  ]);
  expect(accepted.exitCode).toBe(0);
  // The launcher's word to cordon never reaches the command.
  expect(accepted.stdout).toBe("unset\n");
});

releaseTest("npm package: exit status and signal deaths pass through the wrapper", reasons, () => {
  expect(npx(["-q", "--", "sh", "-c", "exit 7"]).exitCode).toBe(7);
  // cordon reports a command killed by SIGTERM as 143; the wrapper keeps it.
  expect(npx(["-q", "--", "sh", "-c", "kill -TERM $$"]).exitCode).toBe(143);
});

releaseTest("npm package: BUN_BE_BUN and BUN_OPTIONS cannot turn cordon into bun", reasons, () => {
  // The binary itself obeys BUN_BE_BUN: it would be the bun CLI, not cordon.
  const binary = join(
    project,
    "node_modules/cordon/dist/npm",
    readdirSync(join(project, "node_modules/cordon/dist/npm")).find((n) => n.startsWith("cordon-"))!,
  );
  const raw = run([binary, "--version"], { env: { BUN_BE_BUN: "1" } });
  expect(raw.stdout).not.toStartWith("cordon ");
  const result = npx(["-q", "--", "sh", "-c", "touch /etc/cordon-npm-escape"], {
    BUN_BE_BUN: "1",
    BUN_OPTIONS: "--preload /nonexistent",
  });
  expect(result.exitCode).not.toBe(0);
  expect(existsSync("/etc/cordon-npm-escape")).toBe(false);
  expect(npx(["--version"], { BUN_BE_BUN: "1" }).stdout).toStartWith("cordon ");
});

releaseTest("npm package: an argument that is not UTF-8 is refused, never passed on decoded", reasons, () => {
  // Bun.spawn takes strings: the raw byte reaches the launcher through the shell's printf. (npx
  // itself is a Node program and decodes arguments before cordon's launcher sees them.)
  const script = `./node_modules/.bin/cordon -w . --deny-read "$(printf 'sec\\351.env')" -- true`;
  const result = run(["sh", "-c", script], { cwd: project, timeoutMs: 120_000 });
  expect(result.exitCode).toBe(125);
  expect(result.stderr).toContain("not valid UTF-8");
  expect(readdirSync(project).some((name) => name.includes("\uFFFD"))).toBe(false);
});
