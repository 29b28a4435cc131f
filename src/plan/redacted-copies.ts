// How each redacted-copy file of the secure defaults reaches the command,
// per mode. Pure. bwrap mode binds the copy read-only over the file.
// landlock-only mode cannot replace a file: it hides the file and points the
// tool at the copy through the tool's own variable (NPM_CONFIG_USERCONFIG,
// GIT_CONFIG_GLOBAL, DOCKER_CONFIG), or, where no variable can stand in for
// the file (a repository's .git/config holding a checkout token), refuses.
import { basename, dirname, join } from "node:path";
import { isWithin } from "../policy/paths.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { SECRETS, type SecretName } from "../policy/secrets.ts";
import { redact } from "./redact.ts";

export interface PlannedRedaction {
  path: string;
  secret: SecretName;
  /** What the copy leaves out, by key: never a value. */
  removed: string[];
  /**
   * - "copy": bwrap binds the copy read-only over the file.
   * - "hidden": landlock-only mode hides the file; `variables` point the tool at the copy.
   * - "refused": landlock-only mode cannot keep this secret from the command; the run is refused.
   * - "unchanged": nothing secret in it, so nothing is done.
   * - "helpers only": landlock-only mode leaves a .git/config as it is when it only names credential
   *   helpers: no secret is in the file itself (a helper's store is a secure default of its own, or a
   *   daemon the command could ask without the config line), so refusing would protect nothing.
   * - "out of sight": the sandbox replaces the directory it lies in (a private /tmp).
   */
  how: "copy" | "hidden" | "refused" | "unchanged" | "helpers only" | "out of sight";
  /** Where the copy is on the host (in the run's state directory). */
  copy?: string;
  /** landlock-only mode: the variables set to the copy. */
  variables?: Record<string, string>;
}

/** A file the run writes into its state directory before the command starts. */
export interface CopyFile {
  path: string;
  text: string;
}

export interface RedactionPlan {
  redactions: PlannedRedaction[];
  copies: CopyFile[];
  /** bwrap mode: copy onto file. */
  binds: { source: string; dest: string }[];
  /** landlock-only mode: files Landlock gives no read right. */
  hidden: string[];
  /** landlock-only mode: the tools' variables, pointed at the copies. */
  env: Record<string, string>;
}

interface RedactionInput {
  policy: Pick<ResolvedPolicy, "redact" | "writeRoots">;
  sources: ReadonlyMap<string, string | undefined>;
  bwrap: boolean;
  /** Directories the sandbox replaces with its own: a file there is already out of sight. */
  replaced: readonly string[];
  stateDir: string;
}

function copiesDir(stateDir: string): string {
  return join(stateDir, "redacted");
}

function bwrapPlan(input: RedactionInput, redactions: PlannedRedaction[], texts: string[]): RedactionPlan {
  const plan: RedactionPlan = { redactions, copies: [], binds: [], hidden: [], env: {} };
  redactions.forEach((redaction, index) => {
    if (redaction.how !== "copy") return;
    const copy = join(copiesDir(input.stateDir), String(index), basename(redaction.path));
    redaction.copy = copy;
    plan.copies.push({ path: copy, text: texts[index]! });
    plan.binds.push({ source: copy, dest: redaction.path });
  });
  return plan;
}

/**
 * landlock-only mode: one copy per secret, since one variable replaces all
 * of a tool's files (GIT_CONFIG_GLOBAL stands for both ~/.gitconfig and
 * $XDG_CONFIG_HOME/git/config): their redacted texts, in the order the tool
 * reads them.
 */
function landlockPlan(input: RedactionInput, redactions: PlannedRedaction[], texts: string[]): RedactionPlan {
  const plan: RedactionPlan = { redactions, copies: [], binds: [], hidden: [], env: {} };
  const secrets = [...new Set(redactions.filter((r) => r.how === "hidden").map((r) => r.secret))];
  for (const secret of secrets) {
    const treatment = SECRETS[secret].redact!.landlock;
    if (treatment === "refuse") continue;
    const own = redactions.filter((redaction) => redaction.secret === secret);
    const copy = join(copiesDir(input.stateDir), secret, basename(own[0]!.path));
    plan.copies.push({ path: copy, text: own.map((r) => texts[redactions.indexOf(r)]!).join("\n") });
    const variables = Object.fromEntries(
      treatment.env.map((name) => [name, treatment.directory ? dirname(copy) : copy] as const),
    );
    Object.assign(plan.env, variables);
    for (const redaction of own) {
      if (redaction.how !== "hidden") continue;
      redaction.copy = copy;
      redaction.variables = variables;
      plan.hidden.push(redaction.path);
    }
  }
  return plan;
}

export function redactionPlanFor(input: RedactionInput): RedactionPlan {
  const texts: string[] = [];
  const redactions = input.policy.redact.map((file): PlannedRedaction => {
    const result = redact(file.format, input.sources.get(file.path));
    texts.push(result.text);
    const base = { path: file.path, secret: file.secret, removed: result.removed };
    if (result.removed.length === 0) return { ...base, how: "unchanged" };
    const inRoot = input.policy.writeRoots.some((root) => isWithin(file.path, root));
    if (input.bwrap && !inRoot && input.replaced.some((dir) => isWithin(file.path, dir))) {
      return { ...base, how: "out of sight" };
    }
    if (input.bwrap) return { ...base, how: "copy" };
    if (SECRETS[file.secret].redact!.landlock !== "refuse") return { ...base, how: "hidden" };
    return { ...base, how: result.removed.length > result.pointers.length ? "refused" : "helpers only" };
  });
  return input.bwrap ? bwrapPlan(input, redactions, texts) : landlockPlan(input, redactions, texts);
}
