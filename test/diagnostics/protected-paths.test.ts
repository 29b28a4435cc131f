// -v's lines after a failed run (src/diagnostics/protected-paths.ts): the
// protected paths that exist, configs first, each with its rule.
import { expect, test } from "bun:test";
import { protectedPathLines } from "../../src/diagnostics/protected-paths.ts";
import { NO_GIT } from "../../src/policy/resolve.ts";

const entry = (path: string, what: string, kind: "file" | "dir" | "missing" = "file") => ({
  path,
  kind,
  origin: `git: ${what}`,
  what,
  ifMissing: "placeholder" as const,
});

test("configs first, then the rest, project files named by their own rule; missing paths left out", () => {
  const git = {
    ...NO_GIT,
    enabled: true,
    protect: [
      entry("/w/.git/hooks", "hooks of /w/.git", "dir"),
      entry("/w/.git/config", "config of /w/.git"),
      entry("/w/.git/commondir", "commondir of /w/.git", "missing"),
    ],
  };
  const projectFiles = [entry("/w/.vscode", "project file .vscode (protectFiles)", "dir")];
  expect(protectedPathLines({ git, projectFiles })).toEqual([
    "/w/.git/config is write-protected by protectGit (config of /w/.git)",
    "/w/.git/hooks is write-protected by protectGit (hooks of /w/.git)",
    "/w/.vscode is write-protected by protectFiles (project file .vscode (protectFiles))",
  ]);
});

test("past four paths, one line points at explain; nothing protected, no line", () => {
  const protect = Array.from({ length: 6 }, (_, n) => entry(`/w/r${n}/.git/config`, `config of /w/r${n}/.git`));
  const lines = protectedPathLines({ git: { ...NO_GIT, enabled: true, protect }, projectFiles: [] });
  expect(lines).toHaveLength(5);
  expect(lines[4]).toBe("and 2 more protected paths: `cordon explain` lists them");
  expect(protectedPathLines({ git: NO_GIT, projectFiles: [] })).toEqual([]);
});
