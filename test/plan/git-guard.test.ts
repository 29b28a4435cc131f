// The plan of protectGit (src/plan/git-guard.ts): bwrap mode prevents with
// mounts what it can hold, landlock-only mode repairs everything.
import { describe, expect, test } from "bun:test";
import { denyWriteWithGit, gitGuardFor } from "../../src/plan/git-guard.ts";
import { NO_GIT, type GitProtectedPath, type GitProtection } from "../../src/policy/resolve.ts";

const entry = (path: string, kind: GitProtectedPath["kind"], ifMissing: GitProtectedPath["ifMissing"]) => ({
  path,
  kind,
  origin: `git: ${path}`,
  what: path,
  ifMissing,
  ...(kind === "missing" ? { existing: "/w/.git" } : {}),
});

const git: GitProtection = {
  ...NO_GIT,
  enabled: true,
  repositories: [{ path: "/w/.git", kind: "dir" }],
  protect: [
    entry("/w/.git/hooks", "dir", "placeholder"),
    entry("/w/.git/config", "file", "skip"),
    entry("/w/.git/config.worktree", "missing", "placeholder"),
    entry("/w/.git/commondir", "missing", "repair"),
    entry("/w/.git/info/attributes", "missing", "repair"),
    entry("/elsewhere/.git/config", "file", "skip"),
  ],
};
const projectFiles = [{ ...entry("/w/.vscode", "dir", "placeholder"), what: "project file .vscode (protectFiles)" }];
const policy = { git, writeRoots: ["/w"], denyWrite: [], projectFiles: [] };

describe("gitGuardFor", () => {
  test("bwrap mode mounts what exists and what a placeholder can hold; what git would choke on is repaired", () => {
    const plan = gitGuardFor(policy, "bwrap");
    expect(plan.prevented.map((p) => p.path)).toEqual(["/w/.git/hooks", "/w/.git/config", "/w/.git/config.worktree"]);
    expect(plan.repaired.map((p) => p.path)).toEqual(["/w/.git/commondir", "/w/.git/info/attributes"]);
  });

  test("landlock-only mode repairs every path in the write roots", () => {
    const plan = gitGuardFor(policy, "landlock");
    expect(plan.prevented).toEqual([]);
    expect(plan.repaired.map((p) => p.path)).toEqual([
      "/w/.git/hooks",
      "/w/.git/config",
      "/w/.git/config.worktree",
      "/w/.git/commondir",
      "/w/.git/info/attributes",
    ]);
  });

  test("a file bwrap mode already presents as a read-only copy gets no second mount", () => {
    const plan = gitGuardFor(policy, "bwrap", ["/w/.git/config"]);
    expect(plan.prevented.map((p) => p.path)).not.toContain("/w/.git/config");
  });

  test("the scan after the run knows the repositories and every guarded path", () => {
    const plan = gitGuardFor(policy, "bwrap");
    expect(plan.scan.roots).toEqual(["/w"]);
    expect(plan.scan.known).toEqual([{ path: "/w/.git", kind: "dir" }]);
    expect(plan.scan.guarded).toContain("/w/.git/config");
  });

  test("project files are held like git's paths: prevented in bwrap mode, repaired in landlock-only mode", () => {
    const withFiles = { ...policy, projectFiles };
    expect(gitGuardFor(withFiles, "bwrap").prevented.map((p) => p.path)).toContain("/w/.vscode");
    expect(gitGuardFor(withFiles, "landlock").repaired.map((p) => p.path)).toContain("/w/.vscode");
    expect(denyWriteWithGit(withFiles, gitGuardFor(withFiles, "bwrap")).map((d) => d.path)).toContain("/w/.vscode");
  });

  test("without protectGit nothing is planned", () => {
    const plan = gitGuardFor({ git: NO_GIT, writeRoots: ["/w"], projectFiles: [] }, "landlock");
    expect(plan).toMatchObject({ enabled: false, prevented: [], repaired: [], scan: { roots: [] } });
  });
});

test("denyWriteWithGit adds the prevented paths once, without their git fields", () => {
  const plan = gitGuardFor(policy, "bwrap");
  const own = [{ path: "/w/.git/hooks", kind: "dir" as const, origin: ".git/hooks" }];
  const denies = denyWriteWithGit({ denyWrite: own, git, projectFiles: [] }, plan);
  expect(denies.map((d) => d.path)).toEqual(["/w/.git/hooks", "/w/.git/config", "/w/.git/config.worktree"]);
  expect(denies[1]).toEqual({ path: "/w/.git/config", kind: "file", origin: "git: /w/.git/config" });
});
