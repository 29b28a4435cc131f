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
import { redact, type IncludeRewrite, type Redaction } from "./redact.ts";

export interface PlannedRedaction {
  path: string;
  secret: SecretName;
  /** What the copy leaves out, by key: never a value. */
  removed: string[];
  /**
   * - "copy": bwrap binds the copy read-only over the file.
   * - "hidden": landlock-only mode hides the file; `variables` point the tool at the copy.
   * - "hidden whole": landlock-only mode hides the file and no variable can point the tool at a copy
   *   (Maven's settings.xml, gradle.properties, ~/.yarnrc.yml): its settings are lost for the run.
   * - "refused": landlock-only mode cannot keep this secret from the command; the run is refused.
   * - "unchanged": nothing secret in it, so nothing is done.
   * - "helpers only": landlock-only mode leaves a .git/config as it is when it only names credential
   *   helpers: no secret is in the file itself (a helper's store is a secure default of its own, or a
   *   daemon the command could ask without the config line), so refusing would protect nothing.
   * - "out of sight": the sandbox replaces the directory it lies in (a private /tmp).
   */
  how: "copy" | "hidden" | "hidden whole" | "refused" | "unchanged" | "helpers only" | "out of sight";
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

type File = RedactionInput["policy"]["redact"][number];

/**
 * The include rewrite of a git config's copy: an include cordon resolved
 * keeps its path (bwrap binds the included file's copy over it) or takes
 * `pathOf` its target (landlock-only mode: the copy lives elsewhere, so every
 * path becomes absolute, or the included file's own copy); one it did not
 * resolve (the file changed since), a hidden or a planted one, is dropped.
 */
function includeRewrite(file: File, pathOf?: (path: string) => string): IncludeRewrite | undefined {
  if (!file.includes) return undefined;
  const byWritten = new Map(file.includes.map((include) => [include.written, include]));
  return (written) => {
    const include = byWritten.get(written);
    if (!include || include.dropped) return undefined;
    return pathOf ? pathOf(include.path) : written;
  };
}

function textOf(input: RedactionInput, file: File, includes?: IncludeRewrite): string {
  return redact(file.format, input.sources.get(file.path), includes).text;
}

function bwrapPlan(input: RedactionInput, redactions: PlannedRedaction[]): RedactionPlan {
  const plan: RedactionPlan = { redactions, copies: [], binds: [], hidden: [], env: {} };
  redactions.forEach((redaction, index) => {
    if (redaction.how !== "copy") return;
    const file = input.policy.redact[index]!;
    const copy = join(copiesDir(input.stateDir), String(index), basename(redaction.path));
    redaction.copy = copy;
    plan.copies.push({ path: copy, text: textOf(input, file, includeRewrite(file)) });
    plan.binds.push({ source: copy, dest: redaction.path });
  });
  return plan;
}

/**
 * landlock-only mode: a file reached by an include is copied when it, or a
 * file it includes, has a secret: git refuses to run at all when an include
 * names a file it may not read, so every includer up the chain must point to
 * a copy instead.
 */
function includedNeedingCopies(files: readonly File[], changed: readonly boolean[]): Set<string> {
  const needs = new Set(files.filter((file, index) => file.includedBy && changed[index]).map((file) => file.path));
  const byPath = new Map(files.map((file) => [file.path, file]));
  for (let grew = true; grew;) {
    grew = false;
    for (const file of files) {
      if (!file.includedBy || needs.has(file.path)) continue;
      if (file.includes?.some((include) => needs.has(include.path) && byPath.has(include.path))) {
        needs.add(file.path);
        grew = true;
      }
    }
  }
  return needs;
}

/**
 * landlock-only mode: one copy per secret, since one variable replaces all
 * of a tool's files (GIT_CONFIG_GLOBAL stands for both ~/.gitconfig and
 * $XDG_CONFIG_HOME/git/config): their redacted texts, in the order the tool
 * reads them. A file reached by an include gets a copy of its own, and every
 * include in the copies names an absolute path: a relative one would resolve
 * in the state directory.
 */
function landlockPlan(input: RedactionInput, redactions: PlannedRedaction[]): RedactionPlan {
  const plan: RedactionPlan = { redactions, copies: [], binds: [], hidden: [], env: {} };
  const files = input.policy.redact;
  const secrets = [...new Set(redactions.filter((r) => r.how === "hidden").map((r) => r.secret))];
  for (const secret of secrets) {
    const treatment = SECRETS[secret].redact!.landlock;
    if (treatment === "refuse" || treatment === "hide") continue;
    const copies = new Map<string, string>();
    redactions.forEach((redaction, index) => {
      if (redaction.secret !== secret || !files[index]!.includedBy || redaction.how !== "hidden") return;
      const copy = join(copiesDir(input.stateDir), secret, `include-${index}`, basename(redaction.path));
      copies.set(redaction.path, copy);
      redaction.copy = copy;
      plan.hidden.push(redaction.path);
    });
    const text = (file: File) =>
      textOf(
        input,
        file,
        includeRewrite(file, (path) => copies.get(path) ?? path),
      );
    for (const file of files) {
      const copy = copies.get(file.path);
      if (copy && file.secret === secret) plan.copies.push({ path: copy, text: text(file) });
    }
    const own = files.filter((file) => file.secret === secret && !file.includedBy);
    if (own.length === 0) continue;
    const copy = join(copiesDir(input.stateDir), secret, basename(own[0]!.path));
    plan.copies.push({ path: copy, text: own.map(text).join("\n") });
    const variables = Object.fromEntries(
      treatment.env.map((name) => [name, treatment.directory ? dirname(copy) : copy] as const),
    );
    Object.assign(plan.env, variables);
    for (const redaction of redactions) {
      if (redaction.secret !== secret || redaction.how !== "hidden" || copies.has(redaction.path)) continue;
      redaction.copy = copy;
      redaction.variables = variables;
      plan.hidden.push(redaction.path);
    }
  }
  return plan;
}

/** How one file reaches the command, from what its redaction removed. */
function howOf(input: RedactionInput, file: File, result: Redaction, copiedInclude: boolean): PlannedRedaction["how"] {
  if (result.removed.length === 0 && !copiedInclude) return "unchanged";
  const inRoot = input.policy.writeRoots.some((root) => isWithin(file.path, root));
  if (input.bwrap && !inRoot && input.replaced.some((dir) => isWithin(file.path, dir))) return "out of sight";
  if (input.bwrap) return "copy";
  if (SECRETS[file.secret].redact!.landlock === "hide") return "hidden whole";
  if (SECRETS[file.secret].redact!.landlock !== "refuse") return "hidden";
  return result.removed.length > result.pointers.length ? "refused" : "helpers only";
}

export function redactionPlanFor(input: RedactionInput): RedactionPlan {
  const files = input.policy.redact;
  // What each copy removes does not depend on where its includes end up: judge with the bwrap rewrite.
  const results = files.map((file) => redact(file.format, input.sources.get(file.path), includeRewrite(file)));
  const copiedIncludes = input.bwrap
    ? new Set<string>()
    : includedNeedingCopies(
        files,
        results.map((result) => result.removed.length > 0),
      );
  const redactions = files.map((file, index): PlannedRedaction => ({
    path: file.path,
    secret: file.secret,
    removed: results[index]!.removed,
    how: howOf(input, file, results[index]!, copiedIncludes.has(file.path)),
  }));
  if (input.bwrap) return bwrapPlan(input, redactions);
  const plan = landlockPlan(input, redactions);
  plan.hidden.push(...redactions.filter((r) => r.how === "hidden whole").map((r) => r.path));
  return plan;
}
