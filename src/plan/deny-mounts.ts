// bwrap mode's deny paths, as mounts that stage 2 applies itself, by
// descriptor, inside the sandbox's namespaces. Pure. Each mount names the
// directory its walk starts from (the anchor) and every component below it,
// so that stage 2 can prove, one identity at a time, that it covers the very
// object the policy named, with no path string resolved twice.
import { isWithin } from "../policy/paths.ts";
import type { ResolvedPolicy } from "../policy/resolve.ts";
import { depthOf } from "./mounts.ts";

/**
 * - "pin": a writable bind of a directory onto itself. A mount point cannot
 *   be renamed or removed (EBUSY), so nothing below it can be moved away
 *   from its protection and replaced by an unprotected copy.
 * - "read-only": a read-only bind of the file or directory onto itself.
 * - "hide-dir" / "hide-file": an empty, read-only stand-in over it.
 */
export type DenyAction = "pin" | "read-only" | "hide-dir" | "hide-file";

export interface DenyMount {
  path: string;
  action: DenyAction;
  /** The outermost write root (or read-only rebound directory) strictly above `path`, or "/". */
  anchor: string;
  /** Each path from just below the anchor down to `path` itself. */
  components: string[];
}

/** Where a deny path must not exist during the run: the first missing component gets a placeholder. */
export interface Placeholder {
  path: string;
  /** The deny entry it stands for. */
  for: string;
}

export interface DenyMountPlan {
  mounts: DenyMount[];
  placeholders: Placeholder[];
  /** Deny paths that need no mount, and why (explain prints these). */
  covered: { path: string; reason: string }[];
  /**
   * Missing read-denied paths with no placeholder: the sandbox cannot create
   * them, but the host could during the run. Landlock must give them no rights.
   */
  landlockReadDenies: string[];
}

interface DenyMountInput {
  policy: Pick<ResolvedPolicy, "writeRoots" | "denyWrite" | "denyRead">;
  /** Directories the sandbox replaces with its own (/tmp, /dev/shm, /run...): host files there are out of sight. */
  replaced: readonly string[];
  /** Host directories bwrap binds back in read-only below a replaced one (a working directory under /tmp). */
  reboundReadOnly: readonly string[];
  /** Host sockets bwrap already covers with an empty file. */
  coveredSockets: ReadonlySet<string>;
}

/** Why a missing deny path outside every write root needs no mount: nothing there is writable. */
export const OUTSIDE_WRITE_ROOTS = "outside every write root";

/** Stronger actions win where two land on one path. */
const STRENGTH: Record<DenyAction, number> = { pin: 0, "read-only": 1, "hide-file": 2, "hide-dir": 2 };

function childPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** The first component of `path` below its deepest existing ancestor `existing`. */
function firstMissing(path: string, existing: string): string {
  const rest = path.slice(existing === "/" ? 1 : existing.length + 1);
  return childPath(existing, rest.split("/")[0]!);
}

/** Every path from just below `anchor` down to `path`. */
function componentsBelow(anchor: string, path: string): string[] {
  const rest = path.slice(anchor === "/" ? 1 : anchor.length + 1).split("/");
  const components: string[] = [];
  let at = anchor;
  for (const name of rest) {
    at = childPath(at, name);
    components.push(at);
  }
  return components;
}

export function denyMountsFor(input: DenyMountInput): DenyMountPlan {
  const { writeRoots, denyWrite, denyRead } = input.policy;
  const outermost = (dirs: readonly string[], path: string) =>
    dirs.filter((dir) => isWithin(path, dir) && path !== dir).sort((a, b) => a.length - b.length)[0];
  const outermostRoot = (path: string) => outermost(writeRoots, path);
  // A walk starts from a bind mount that bwrap made of the host's own directory, or from /.
  const anchorOf = (path: string) => outermost([...writeRoots, ...input.reboundReadOnly], path) ?? "/";
  const targets = new Map<string, DenyAction>();
  const placeholders: Placeholder[] = [];
  const covered: DenyMountPlan["covered"] = [];
  const landlockReadDenies: string[] = [];
  const add = (path: string, action: DenyAction) => {
    const current = targets.get(path);
    if (current === undefined || STRENGTH[action] > STRENGTH[current]) targets.set(path, action);
  };

  // A missing path below a read-only or hidden directory cannot be created: it needs nothing more.
  const sealedDirs = [...denyWrite, ...denyRead].filter((deny) => deny.kind === "dir").map((deny) => deny.path);
  const sealedBy = (path: string) => sealedDirs.find((dir) => isWithin(path, dir) && path !== dir);

  for (const [deny, list] of [
    ...denyWrite.map((deny) => [deny, "write"] as const),
    ...denyRead.map((deny) => [deny, "read"] as const),
  ]) {
    // A mount would follow a symlink; Landlock keeps the link itself in place.
    if (deny.kind === "symlink") continue;
    const root = outermostRoot(deny.path);
    const hiddenBy = anchorOf(deny.path) === "/" && input.replaced.find((dir) => isWithin(deny.path, dir));
    if (hiddenBy) {
      covered.push({ path: deny.path, reason: `the sandbox has its own ${hiddenBy}` });
      continue;
    }
    if (input.coveredSockets.has(deny.path)) {
      covered.push({ path: deny.path, reason: "a host socket, already covered by an empty file" });
      continue;
    }
    if (deny.kind === "missing") {
      const sealed = sealedBy(deny.path);
      if (sealed || !root) {
        const reason = sealed ? `below ${sealed}, which the sandbox cannot change` : OUTSIDE_WRITE_ROOTS;
        covered.push({ path: deny.path, reason });
        if (list === "read") landlockReadDenies.push(deny.path);
      } else {
        const placeholder = firstMissing(deny.path, deny.existing ?? root);
        if (!placeholders.some((known) => known.path === placeholder)) {
          placeholders.push({ path: placeholder, for: deny.path });
        }
        add(placeholder, "hide-dir");
      }
      continue;
    }
    if (list === "write") add(deny.path, "read-only");
    else add(deny.path, deny.kind === "file" ? "hide-file" : "hide-dir");
  }

  // Pin every directory between a write root and a deny path.
  for (const path of [...targets.keys()]) {
    const root = outermostRoot(path);
    if (!root) continue;
    for (const ancestor of componentsBelow(root, path).slice(0, -1)) add(ancestor, "pin");
  }

  const mounts = [...targets].map(([path, action]): DenyMount => {
    const anchor = anchorOf(path);
    return { path, action, anchor, components: componentsBelow(anchor, path) };
  });
  // Shallowest first: a path's ancestors are mounted before it, and its walk goes through them.
  mounts.sort((a, b) => depthOf(a.path) - depthOf(b.path) || (a.path < b.path ? -1 : 1));
  return { mounts, placeholders, covered, landlockReadDenies };
}
