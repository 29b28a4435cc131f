// -v after a failed run: the paths protectGit and protectFiles keep
// read-only, each with its rule. cordon never reads the command's output
// (that would make its stderr a pipe of cordon's), so it cannot tell which
// path the command was refused; it names the protected ones most commands
// hit, configs first, and points at explain for the rest. Pure.
import { escapeControls } from "../bytes.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";

/** How many paths the hint names before pointing at explain. */
const SHOWN = 4;

type ProtectingPolicy = Pick<ResolvedPolicy, "git" | "projectFiles">;

/** The rule behind a protected path, in the words of the policy. */
function ruleOf(what: string): string {
  return what.startsWith("project file") ? "protectFiles" : "protectGit";
}

/** Lines naming the write-protected git and project paths that exist, with their rule; none when nothing is. */
export function protectedPathLines(policy: ProtectingPolicy): string[] {
  const existing = [...policy.git.protect, ...policy.projectFiles].filter((entry) => entry.kind !== "missing");
  // `git config`, `git remote add` and `git submodule add` are what commands run into most: configs first.
  const ordered = [
    ...existing.filter((entry) => entry.path.endsWith("/config")),
    ...existing.filter((entry) => !entry.path.endsWith("/config")),
  ];
  if (ordered.length === 0) return [];
  const lines = ordered
    .slice(0, SHOWN)
    .map((entry) => escapeControls(`${entry.path} is write-protected by ${ruleOf(entry.what)} (${entry.what})`));
  const more = ordered.length - SHOWN;
  if (more > 0) lines.push(`and ${more} more protected paths: \`cordon explain\` lists them`);
  return lines;
}
