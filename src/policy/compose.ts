// Combines a profile, a policy file and the flags into one Policy.
// Lists add up; network, tmp, mode, protectGit and each limit are overridden by the later layer; env
// changes accumulate. Flags come last, so they add to or override the file.
import { CordonError } from "../errors.ts";
import { applyLimits } from "./limits.ts";
import { BUILTIN_PROFILES, DEFAULT_PROFILE } from "./profiles.ts";
import { EMPTY_POLICY, type Policy, type PolicyFile, type PolicyLayer } from "./schema.ts";

export function applyLayer(base: Policy, layer: PolicyLayer): Policy {
  return {
    write: [...base.write, ...(layer.write ?? [])],
    denyWrite: [...base.denyWrite, ...(layer.denyWrite ?? [])],
    denyRead: [...base.denyRead, ...(layer.denyRead ?? [])],
    network: layer.network ?? base.network,
    tmp: layer.tmp ?? base.tmp,
    allowConnect: [...new Set([...base.allowConnect, ...(layer.allowConnect ?? [])])],
    allowBind: [...new Set([...base.allowBind, ...(layer.allowBind ?? [])])],
    allowSockets: [...new Set([...base.allowSockets, ...(layer.allowSockets ?? [])])],
    env: {
      clear: base.env.clear || (layer.env?.clear ?? false),
      allowList: base.env.allowList || (layer.env?.allowList ?? false),
      set: { ...base.env.set, ...(layer.env?.set ?? {}) },
      unset: [...base.env.unset, ...(layer.env?.unset ?? [])],
    },
    mode: layer.mode ?? base.mode,
    allowDegraded: [...new Set([...base.allowDegraded, ...(layer.allowDegraded ?? [])])],
    reveal: [...new Set([...base.reveal, ...(layer.reveal ?? [])])],
    protectGit: layer.protectGit ?? base.protectGit,
    protectFiles: [...new Set([...base.protectFiles, ...(layer.protectFiles ?? [])])],
    releaseFiles: [...new Set([...base.releaseFiles, ...(layer.releaseFiles ?? [])])],
    caches: [...new Set([...base.caches, ...(layer.caches ?? [])])],
    limits: applyLimits(base.limits, layer.limits),
  };
}

function findProfile(name: string, file: PolicyFile | undefined): PolicyLayer {
  const own = file?.profiles?.[name];
  if (own) return own;
  const builtin = BUILTIN_PROFILES[name];
  if (builtin) return builtin.layer;
  const known = [...Object.keys(file?.profiles ?? {}), ...Object.keys(BUILTIN_PROFILES)];
  throw new CordonError(`unknown profile ${JSON.stringify(name)}; known profiles: ${known.join(", ")}`);
}

export function composePolicy(input: { profile?: string; file?: PolicyFile; flags: PolicyLayer }): Policy {
  const policy = composeLayers(input);
  if (policy.network === "all" && policy.allowConnect.length + policy.allowBind.length > 0) {
    throw new CordonError(
      "allowConnect/allowBind (--allow-connect, --allow-bind) restrict a network that " +
        'is otherwise none; they conflict with network "all" (--net)',
    );
  }
  return policy;
}

function composeLayers(input: { profile?: string; file?: PolicyFile; flags: PolicyLayer }): Policy {
  const profileName = input.profile ?? input.file?.profile ?? DEFAULT_PROFILE;
  let policy = applyLayer(EMPTY_POLICY, findProfile(profileName, input.file));
  if (input.file) {
    const { profile: _profile, profiles: _profiles, ...fields } = input.file;
    policy = applyLayer(policy, fields);
  }
  return applyLayer(policy, input.flags);
}
