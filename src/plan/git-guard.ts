// How a run keeps what git executes or trusts from changing (protectGit).
// Pure. bwrap mode prevents: each such path becomes a write-denied mount, so
// the command gets EROFS, while the rest of .git stays writable and commits
// work. Landlock-only mode cannot say "the index may be replaced but the
// config may not": both are entries of one directory, and Landlock's rights
// only add up. There stage 1 records each path before the run and restores
// it after the run, when no sandboxed process is left (the sweep). Either
// way, after the run stage 1 looks for repositories that appeared during it.
import { isWithin } from "../policy/paths.ts";
import type { GitProtectedPath, ResolvedPath, ResolvedPolicy } from "../policy/resolve.ts";
import type { DotGit } from "../policy/git.ts";

/** The sandbox modes (plan/sandbox.ts), named here so that this module imports nothing of the plan. */
type SandboxMode = "bwrap" | "landlock";

export interface GuardedPath {
  path: string;
  /** What it is to git. */
  what: string;
}

export interface GitGuardPlan {
  enabled: boolean;
  /** Write-denied by mounts for the run (bwrap mode). */
  prevented: GuardedPath[];
  /** Recorded before the run and restored after it: landlock-only mode, and paths bwrap cannot hold. */
  repaired: GuardedPath[];
  /** After the run: the search for repositories that appeared during it. */
  scan: {
    roots: string[];
    maxDepth: number;
    skipped: readonly string[];
    /** The `.git` entries found before the run. */
    known: DotGit[];
    /** Configs and hook directories already guarded: a new worktree of a known repository shares them. */
    guarded: string[];
  };
}

/** How each mode holds a protected path; explain says the same words. */
export const GIT_GUARD_WORDS: Record<SandboxMode, string> = {
  bwrap: "prevented: read-only mounts for the run (EROFS)",
  landlock:
    "repaired: recorded before the run and restored after it (Landlock cannot protect entries of .git " +
    "that git itself must replace)",
};

const guarded = (entry: GitProtectedPath): GuardedPath => ({ path: entry.path, what: entry.what });

/**
 * Whether bwrap mode can hold this path with a mount (or a placeholder where
 * it is missing). Not a symlink (`.git/hooks -> ../scripts`): a mount lands
 * on its target, which is protected on its own, and holding the link itself
 * would cost every directory above it, up to the write root, the right to
 * create entries. The link is repaired after the run instead.
 */
function mountable(entry: GitProtectedPath): boolean {
  if (entry.kind === "symlink") return false;
  return entry.kind !== "missing" || entry.ifMissing === "placeholder";
}

/**
 * The plan for `mode`. A file that bwrap mode already presents as a
 * read-only copy (`copies`: a `.git/config` with a checkout token) needs
 * nothing more: a second mount there would find the copy, not the file
 * stage 1 recorded.
 */
export function gitGuardFor(
  policy: Pick<ResolvedPolicy, "git" | "writeRoots" | "projectFiles">,
  mode: SandboxMode,
  copies: readonly string[] = [],
): GitGuardPlan {
  const { git, writeRoots } = policy;
  const redacted = new Set(copies);
  const inWriteRoot = (entry: GitProtectedPath) =>
    writeRoots.some((root) => isWithin(entry.path, root)) && !redacted.has(entry.path);
  // The project files (protectFiles) are held the same way: Landlock could only deny them by taking
  // from the write root itself the right to create or remove any entry at its top.
  const relevant = [...git.protect, ...policy.projectFiles].filter(inWriteRoot);
  // A missing path marked "skip" (a repository's config) has nothing to hold.
  const holdable = relevant.filter((entry) => entry.kind !== "missing" || entry.ifMissing !== "skip");
  const prevented = mode === "bwrap" ? holdable.filter(mountable) : [];
  const repaired = mode === "bwrap" ? holdable.filter((entry) => !mountable(entry)) : holdable;
  return {
    enabled: git.enabled,
    prevented: prevented.map(guarded),
    repaired: repaired.map(guarded),
    scan: {
      roots: git.enabled ? [...writeRoots] : [],
      maxDepth: git.search.maxDepth,
      skipped: git.search.skipped,
      known: git.repositories,
      guarded: git.protect.map((entry) => entry.path),
    },
  };
}

/** The write-denied paths bwrap mode mounts: the policy's own, plus the git paths it prevents. */
export function denyWriteWithGit(
  policy: Pick<ResolvedPolicy, "denyWrite" | "git" | "projectFiles">,
  plan: GitGuardPlan,
): ResolvedPath[] {
  const prevented = new Set(plan.prevented.map((entry) => entry.path));
  const own = new Set(policy.denyWrite.map((entry) => `${entry.kind}:${entry.path}`));
  const added = [...policy.git.protect, ...policy.projectFiles].filter(
    (entry) => prevented.has(entry.path) && !own.has(`${entry.kind}:${entry.path}`),
  );
  return [
    ...policy.denyWrite,
    ...added.map(({ path, kind, origin, existing, links }) => ({
      path,
      kind,
      origin,
      ...(existing === undefined ? {} : { existing }),
      ...(links === undefined ? {} : { links }),
    })),
  ];
}
