// The policy model, defined once. Types, validation and error messages come from here.
import * as v from "valibot";

export const MODES = ["auto", "bwrap", "landlock"] as const;
export const NETWORK = ["none", "all"] as const;

const Path = v.pipe(
  v.string("must be a path"),
  v.minLength(1, "must not be empty"),
  v.check((path) => !path.includes("\0"), "must not contain a NUL byte"),
);

export const PolicySchema = v.strictObject({
  /** Directories the command may write; everything else is read-only. */
  writeRoots: v.optional(v.array(Path), []),
  /** Existing paths inside write roots that stay read-only (e.g. ".git"). */
  denyWrite: v.optional(v.array(Path), []),
  /** Existing paths that are hidden: a directory shows up empty, a file reads as empty. */
  denyRead: v.optional(v.array(Path), []),
  /** "none" (default): only AF_UNIX sockets. "all": the host network. */
  network: v.optional(v.picklist(NETWORK, 'must be "none" or "all"'), "none"),
  /** "auto" (default): bwrap where user namespaces work, else landlock-only when that loses nothing. */
  mode: v.optional(v.picklist(MODES, 'must be "auto", "bwrap" or "landlock"'), "auto"),
});

export type Policy = v.InferOutput<typeof PolicySchema>;
export type PolicyInput = v.InferInput<typeof PolicySchema>;
