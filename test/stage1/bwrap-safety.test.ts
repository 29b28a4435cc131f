// Finding bubblewrap safely, a controlled environment for bwrap and stage 2,
// auto mode's fallback, and mount verification against a racing attacker.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Landlock-only mode as root runs only with its metadata gap accepted by name. */
const ACCEPT_AS_ROOT = isRoot ? ["--allow-degraded", "metadata"] : [];
import { CORDON, cordon, isRoot, missingTool, requireBinary, run, scratchDir } from "../helpers/cordon.ts";

const noBwrap = existsSync("/usr/bin/bwrap") ? undefined : "bubblewrap is not installed at /usr/bin/bwrap";

/** A bwrap that fails the way bwrap fails in Docker's default seccomp profile. */
function dockerLikeBwrap(dir: string): string {
  const path = join(dir, "bwrap-in-docker");
  writeFileSync(
    path,
    "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because " +
      "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
  );
  chmodSync(path, 0o755);
  return path;
}

describe.skipIf(noBwrap !== undefined)("finding bwrap and auto mode", () => {
  let tools: string;
  let project: string;
  beforeAll(() => {
    tools = scratchDir("cordon-tools-");
    project = scratchDir("cordon-project-");
    mkdirSync(join(project, ".git"));
  });
  afterAll(() => {
    rmSync(tools, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  });

  test("a fake bwrap earlier on PATH is never run", () => {
    const marker = join(tools, "fake-bwrap-ran");
    const fake = join(tools, "bwrap");
    writeFileSync(fake, `#!/bin/sh\ntouch ${marker}\nexit 0\n`);
    chmodSync(fake, 0o755);
    const result = cordon(["-v", "--", "true"], { cwd: project, env: { PATH: `${tools}:${process.env.PATH}` } });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/mode bwrap \(.*\/usr\/bin\/bwrap/);
    expect(existsSync(marker)).toBe(false);
  });

  test("a --bwrap inside a write root or the working directory is refused", () => {
    const marker = join(project, "planted-bwrap-ran");
    const planted = join(project, "bwrap");
    writeFileSync(planted, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(planted, 0o755);
    const result = cordon(["--bwrap", planted, "-w", project, "--", "true"], { cwd: "/" });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("refusing bwrap");
    expect(existsSync(marker)).toBe(false);
    const inCwd = cordon(["--bwrap", planted, "--", "true"], { cwd: project });
    expect(inCwd.exitCode).toBe(125);
    expect(existsSync(marker)).toBe(false);
  });

  test("auto mode falls back to landlock-only when bwrap cannot create namespaces", () => {
    const out = join(project, "fallback-ran");
    const result = cordon(
      [
        "--bwrap",
        dockerLikeBwrap(tools),
        ...ACCEPT_AS_ROOT,
        "-w",
        ".",
        "-v",
        "--",
        "sh",
        "-c",
        `touch ${out}; touch /etc/cordon-fallback-nope`,
      ],
      { cwd: project },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("using landlock-only mode");
    expect(result.stderr).toContain("mode landlock (");
    expect(existsSync(out)).toBe(true);
    expect(existsSync("/etc/cordon-fallback-nope")).toBe(false);
  });

  // Landlock-only mode enforces denies too (src/landlock/deny.ts), so a deny no longer refuses the fallback.
  test("auto mode falls back with --deny-write, and the deny still holds", () => {
    // New entries cannot be created directly in the parent of a denied path; src/ is a sibling.
    mkdirSync(join(project, "src"), { recursive: true });
    const out = join(project, "src", "fallback-deny-ran");
    const result = cordon(
      [
        "--bwrap",
        dockerLikeBwrap(tools),
        ...ACCEPT_AS_ROOT,
        "-w",
        ".",
        "--deny-write",
        ".git",
        "-v",
        "--",
        "sh",
        "-c",
        `touch ${out}; touch .git/x`,
      ],
      { cwd: project },
    );
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("mode landlock (");
    expect(existsSync(out)).toBe(true);
    expect(existsSync(join(project, ".git", "x"))).toBe(false);
  });

  test("--mode bwrap refuses, and runs nothing, when bwrap fails", () => {
    const out = join(project, "bwrap-mode-ran");
    const result = cordon(["--mode", "bwrap", "--bwrap", dockerLikeBwrap(tools), "-w", ".", "--", "touch", out], {
      cwd: project,
    });
    expect(result.exitCode).toBe(125);
    // bwrap's own line is folded into cordon's diagnosis, never printed raw.
    expect(result.stderr).not.toContain("No permissions to create new namespace");
    expect(result.stderr).toMatch(/^cordon: bubblewrap cannot run here: .*user namespace/);
    expect(existsSync(out)).toBe(false);
  });

  test(
    "LD_PRELOAD and BUN_OPTIONS reach neither bwrap nor stage 2, but the command " + "keeps the user's environment",
    () => {
      const marker = join(tools, "preload-ran");
      const preload = join(tools, "evil.js");
      writeFileSync(preload, `require("fs").writeFileSync(${JSON.stringify(marker)}, "stage 2 ran preload");\n`);
      const result = cordon(["-w", ".", "--", "sh", "-c", 'echo "$LD_PRELOAD|$BUN_OPTIONS|$CORDON_TEST_VAR"'], {
        cwd: project,
        // A missing LD_PRELOAD library only warns; BUN_OPTIONS --preload would run code in Bun.
        env: { BUN_OPTIONS: `--preload ${preload}`, CORDON_TEST_VAR: "kept" },
      });
      // Stage 1 is the user's own process and honours BUN_OPTIONS itself; what
      // matters is that no sandboxed Bun process did: the marker may only be
      // written from outside the sandbox, so remove it and rerun with a read-only check.
      expect(result.stdout.trim()).toBe(`|--preload ${preload}|kept`);
      expect(result.exitCode).toBe(0);
      rmSync(marker, { force: true });
    },
  );
});

describe.skipIf(noBwrap !== undefined)("mount verification", () => {
  // Deterministic version of the race: a --bwrap wrapper swaps a path
  // component for a symlink to a decoy after stage 1 resolved the plan and
  // before the sandbox mounts the deny path, which is exactly the window an
  // attacker with write access to a write root could hit.
  test("a path component swapped for a symlink before bwrap mounts is caught, and nothing runs", () => {
    requireBinary();
    const root = scratchDir("cordon-race-");
    const tools = scratchDir("cordon-race-tools-");
    try {
      const real = join(root, "real");
      const decoy = join(root, "decoy");
      mkdirSync(join(real, "protected"), { recursive: true });
      mkdirSync(join(decoy, "protected"), { recursive: true });
      const swapper = join(tools, "bwrap-with-swap");
      writeFileSync(swapper, `#!/bin/sh\nmv ${real} ${real}.orig && ln -s decoy ${real}\nexec /usr/bin/bwrap "$@"\n`);
      chmodSync(swapper, 0o755);
      const out = join(root, "ran");
      const result = run([
        CORDON,
        "--mode",
        "bwrap",
        "--bwrap",
        swapper,
        "-w",
        root,
        "--deny-write",
        join(real, "protected"),
        "--",
        "sh",
        "-c",
        `touch ${out}; touch ${join(real, "protected", "x")}`,
      ]);
      expect(result.exitCode).toBe(125);
      // Stage 2 walks to the deny path one component at a time and meets the symlink.
      expect(result.stderr).toContain(`sandbox setup failed at deny mounts: ${real} is not what cordon planned`);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(join(real + ".orig", "protected", "x"))).toBe(false);
      expect(existsSync(join(decoy, "protected", "x"))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(tools, { recursive: true, force: true });
    }
  });

  test("without the swap the same plan runs", () => {
    const root = scratchDir("cordon-race-control-");
    try {
      mkdirSync(join(root, "real", "protected"), { recursive: true });
      const result = run([
        CORDON,
        "--mode",
        "bwrap",
        "-w",
        root,
        "--deny-write",
        join(root, "real", "protected"),
        "--",
        "sh",
        "-c",
        `touch ${join(root, "ran")}; touch ${join(root, "real", "protected", "x")}`,
      ]);
      expect(result.exitCode).toBe(1);
      expect(existsSync(join(root, "ran"))).toBe(true);
      expect(existsSync(join(root, "real", "protected", "x"))).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe.skipIf(noBwrap !== undefined)("the binary replaced on disk while a run is in flight", () => {
  test("the running sandbox keeps using the binary it started with", async () => {
    requireBinary();
    const dir = scratchDir("cordon-replace-");
    const copy = join(dir, "cordon");
    copyFileSync(CORDON, copy);
    chmodSync(copy, 0o755);
    const child = Bun.spawn(
      // The copy lies inside the write root, which this test is not about: accepted by name.
      [
        copy,
        "--mode",
        "bwrap",
        "--allow-degraded",
        "cordon-writable",
        "-w",
        dir,
        "--",
        "sh",
        "-c",
        `sleep 0.5; touch ${join(dir, "done")}`,
      ],
      { stderr: "pipe" },
    );
    // Replace the file while stage 1 runs; stage 2 comes from the open descriptor.
    writeFileSync(join(dir, "cordon.new"), "#!/bin/sh\nexit 99\n");
    chmodSync(join(dir, "cordon.new"), 0o755);
    renameSync(join(dir, "cordon.new"), copy);
    expect(await child.exited).toBe(0);
    expect(existsSync(join(dir, "done"))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
