// The -v hint lines: which denied path the command complained about, and the rule behind it.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { deniedPaths, hintLines, ruleFor } from "../../src/diagnostics/hints.ts";
import { NO_GIT } from "../../src/policy/resolve.ts";
import { cordon, scratchDir } from "../helpers/cordon.ts";

const policy = {
  cwd: "/proj",
  writeRoots: ["/proj"],
  denyWrite: [{ path: "/proj/.git", kind: "dir" as const, origin: ".git" }],
  denyRead: [{ path: "/home/u/.ssh", kind: "dir" as const, origin: "default:ssh" }],
  projectFiles: [],
  git: {
    ...NO_GIT,
    protect: [
      {
        path: "/proj/sub/.git/config",
        kind: "file" as const,
        origin: "git: config of /proj/sub/.git",
        what: "config of /proj/sub/.git",
        ifMissing: "skip" as const,
      },
    ],
  },
};

describe("hints", () => {
  test("paths are found in the usual messages", () => {
    const stderr = [
      "touch: cannot touch '/etc/nope': Read-only file system",
      "sh: 1: cannot create .git/x: Permission denied",
      "PermissionError: [Errno 13] Permission denied: '/usr/x'",
      "mkdir: cannot create directory ‘/opt/d’: Permission denied",
      "cat: /home/u/.ssh/id_rsa: Permission denied",
      "all good here",
    ].join("\n");
    expect(deniedPaths(stderr)).toEqual(["/etc/nope", ".git/x", "/usr/x", "/opt/d", "/home/u/.ssh/id_rsa"]);
  });

  test("each path names the rule responsible", () => {
    expect(ruleFor("/etc/nope", policy)).toContain("outside every write root; -w /etc");
    expect(ruleFor(".git/x", policy)).toContain("write-denied by --deny-write .git");
    expect(ruleFor("/home/u/.ssh/id_rsa", policy)).toContain('the secure default "ssh" (--reveal ssh)');
    expect(ruleFor("sub/.git/config", policy)).toContain(
      "/proj/sub/.git/config is write-protected by protectGit (config of /proj/sub/.git)",
    );
  });

  test("at most three hints, each marked as coming from the command's output", () => {
    const lines = hintLines(
      ["a", "b", "c", "d"].map((n) => `touch: cannot touch '/etc/${n}': Permission denied`).join("\n"),
      policy,
    );
    expect(lines.length).toBe(3);
    for (const line of lines) expect(line.startsWith("hint (the path comes from the command's output): ")).toBe(true);
  });

  test("a real run with -v and a piped stderr adds the hint; without -v nothing is added", () => {
    const dir = scratchDir("cordon-hints-");
    try {
      mkdirSync(join(dir, ".git"));
      const args = ["-w", dir, "--deny-write", join(dir, ".git"), "--", "touch", join(dir, ".git", "x")];
      const verbose = cordon(["-v", ...args], { cwd: dir });
      expect(verbose.exitCode).toBe(1);
      expect(verbose.stderr).toContain(
        `cordon: hint (the path comes from the command's output): ` +
          `${join(dir, ".git", "x")} is write-denied by --deny-write`,
      );
      const quiet = cordon(args, { cwd: dir });
      expect(quiet.exitCode).toBe(1);
      expect(quiet.stderr).not.toContain("cordon: hint");
      expect(existsSync(join(dir, ".git", "x"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
