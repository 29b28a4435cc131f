// The git directories whose config files may hold a CI checkout token: the
// repository the working directory and each write root lie in (as git
// discovers it, upwards), every repository below the write roots (a second
// `path:` checkout, a vendored clone), and every submodule's git directory
// under `.git/modules`, where actions/checkout writes the same extraheader.
// The search below the write roots is bounded (GIT_SEARCH) so that a tree of
// 100,000 directories costs a fixed amount; explain and the README state the
// bound as something not covered beyond it.
import { readdirSync, type Dirent } from "node:fs";
import { dirname, join } from "node:path";
import { CordonError } from "../errors.ts";
import { commonDirOf, gitDirOf } from "./git.ts";
import { lstatOrUndefined } from "./paths.ts";

export const GIT_SEARCH = {
  /** How many directories deep below a write root a repository is found (`a/b/.git` is 2 deep). */
  depth: 4,
  /** Directories read in all, submodule directories included; the rest is not searched. */
  directories: 5_000,
  /** Trees that hold installed or generated files, not checkouts: never searched. */
  skip: ["node_modules", ".venv", "venv", "__pycache__", ".tox", ".cache"],
} as const;

const SKIPPED = new Set<string>(GIT_SEARCH.skip);

/**
 * The git directory a `.git` file points to (a linked worktree, a submodule),
 * plus its common directory, read as git reads them (policy/git.ts). A
 * pointer to a path that is not UTF-8 leads nowhere cordon can name.
 */
function linkedGitDirs(dotGitFile: string): string[] {
  try {
    const gitDir = gitDirOf({ path: dotGitFile, kind: "file" });
    return gitDir ? [...new Set([gitDir, commonDirOf(gitDir)])] : [];
  } catch (error) {
    if (error instanceof CordonError) return [];
    throw error;
  }
}

/** What a `.git` entry stands for: itself when a directory, what it points to when a file; never a symlink. */
function gitDirsAt(dotGit: string): string[] | undefined {
  const stat = lstatOrUndefined(dotGit);
  if (stat?.isDirectory()) return [dotGit];
  if (stat?.isFile()) return linkedGitDirs(dotGit);
  return undefined;
}

/**
 * The git directory of the repository `dir` lies in, as git discovers it: the
 * nearest `.git` directory, or the `gitdir:` a `.git` file names (a linked
 * worktree), plus the common directory a worktree shares with its main
 * repository, where the repository's config lives.
 */
export function gitDirsOf(dir: string): string[] {
  for (let at = dir; ; at = dirname(at)) {
    const found = gitDirsAt(at === "/" ? "/.git" : `${at}/.git`);
    if (found) return found;
    if (at === "/") return [];
  }
}

/** Counts the directories read, so that the whole search stops at GIT_SEARCH.directories. */
class SearchBudget {
  private left: number = GIT_SEARCH.directories;

  list(dir: string): Dirent[] {
    if (this.left <= 0) return [];
    this.left -= 1;
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  }
}

/**
 * Submodules' git directories: `<git dir>/modules/<name>`, where a name may
 * hold slashes (`modules/libs/a`) and a submodule's own submodules nest
 * (`modules/a/modules/b`). A directory with a HEAD is a git directory.
 */
function submoduleDirs(gitDir: string, budget: SearchBudget, levels = 0): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number) => {
    for (const entry of budget.list(dir)) {
      if (!entry.isDirectory() || depth > GIT_SEARCH.depth * 2) continue;
      const child = join(dir, entry.name);
      if (lstatOrUndefined(join(child, "HEAD"))?.isFile()) {
        found.push(child);
        if (levels < GIT_SEARCH.depth) found.push(...submoduleDirs(child, budget, levels + 1));
      } else {
        visit(child, depth + 1);
      }
    }
  };
  if (lstatOrUndefined(join(gitDir, "modules"))?.isDirectory()) visit(join(gitDir, "modules"), 0);
  return found;
}

/** Every `.git` below `root` within GIT_SEARCH, not following symlinks, not entering git directories. */
function repositoriesBelow(root: string, budget: SearchBudget): string[] {
  const found: string[] = [];
  let level = [root];
  for (let depth = 0; depth <= GIT_SEARCH.depth && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      for (const entry of budget.list(dir)) {
        const path = join(dir, entry.name);
        if (entry.name === ".git") found.push(...(gitDirsAt(path) ?? []));
        else if (entry.isDirectory() && !SKIPPED.has(entry.name)) next.push(path);
      }
    }
    level = next;
  }
  return found;
}

/**
 * The git directories whose configs the checkout-token default covers: each
 * start directory's own repository, every repository below the write roots
 * within GIT_SEARCH, and all their submodules' git directories.
 */
export function gitDirsFor(starts: readonly string[], writeRoots: readonly string[]): string[] {
  const budget = new SearchBudget();
  const all = new Set<string>();
  const add = (gitDir: string) => {
    if (all.has(gitDir)) return;
    all.add(gitDir);
    for (const module of submoduleDirs(gitDir, budget)) all.add(module);
  };
  // The start directories' own repositories first: the budget never runs out before them.
  starts.flatMap(gitDirsOf).forEach(add);
  writeRoots.flatMap((root) => repositoriesBelow(root, budget)).forEach(add);
  return [...all];
}
