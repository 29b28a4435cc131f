// Serializes the parts of a SandboxPlan that stage 2 applies. A pure copy:
// every security property (which paths may be symlinks, which identity each
// must have, the parent-death signal) was decided by the planner. The only
// values added here are the identities of what the run created on the host,
// which exist only once the executor has created them.
import { basename } from "node:path";
import { encodeSockFilters } from "../../ffi/seccomp.ts";
import type { MountCheck, SandboxPlan } from "../plan/sandbox.ts";
import type { ExpectedIdentity, Identity } from "../policy/paths.ts";
import { encodeLaunch, type WireMountCheck, type WirePathRule } from "./wire.ts";

export interface LaunchInput {
  plan: SandboxPlan;
  /** The identity of each path the executor created (plan.hostState.created). */
  created: ReadonlyMap<string, Identity>;
  argv: Uint8Array[];
  envp: Uint8Array[];
  preserveFds: number;
  /** Stage 1's pid: if it died before the parent-death signal was armed, stage 2 must not go on. */
  parentPid: number;
  /** Where stage 2 finds a descriptor of each sandbox cgroup's cgroup.procs, to join it (none: no cgroup). */
  cgroupSlots?: number[];
}

function identityFields(path: string, expected: ExpectedIdentity, created: ReadonlyMap<string, Identity>) {
  const identity = expected === "created" ? created.get(path) : expected;
  if (!identity) throw new Error(`${path} was planned as created by this run, but was not`);
  return { dev: identity.dev.toString(), ino: identity.ino.toString() };
}

function mountCheck(check: MountCheck, created: ReadonlyMap<string, Identity>): WireMountCheck {
  return { path: check.path, readOnly: check.readOnly, ...identityFields(check.source, check.identity, created) };
}

export function launchMessageFor(input: LaunchInput): Uint8Array {
  const { plan, created } = input;
  const { landlock } = plan;
  const pathRules = landlock.pathRules.map((rule): WirePathRule => ({
    path: rule.path,
    access: rule.access.toString(),
    optional: rule.optional,
    followSymlinks: rule.followSymlinks,
    ...(rule.identity ? identityFields(rule.path, rule.identity, created) : {}),
  }));
  return encodeLaunch({
    header: {
      version: 1,
      landlock: {
        abi: landlock.abi,
        handledFs: landlock.handledFs.toString(),
        handledNet: landlock.handledNet.toString(),
        scoped: landlock.scoped.toString(),
        restrictFlags: landlock.restrictFlags,
        pathRules,
        netRules: landlock.netRules.map((rule) => ({ port: rule.port, access: rule.access.toString() })),
      },
      mountChecks: plan.mountChecks.map((check) => mountCheck(check, created)),
      denyAnchors: plan.denyAnchors.map((anchor) => ({
        path: anchor.path,
        ...identityFields(anchor.path, anchor.identity, created),
      })),
      denyMounts: plan.denyMounts.map((mount) => ({
        path: mount.path,
        action: mount.action,
        anchor: mount.anchor,
        components: mount.components.map((component) => ({
          name: basename(component.path),
          ...identityFields(component.path, component.identity, created),
        })),
      })),
      socketCovers: plan.socketCovers.map((cover) => cover.hex),
      preserveFds: input.preserveFds,
      parentDeathSignal: plan.parentDeathSignal,
      parentPid: input.parentPid,
      newSession: plan.terminal.session === "new",
      cgroupFds: input.cgroupSlots ?? [],
      rlimits: plan.limits.rlimits.map((rlimit) => ({
        resource: rlimit.resource,
        soft: rlimit.soft.toString(),
        hard: rlimit.hard.toString(),
      })),
    },
    seccomp: encodeSockFilters(plan.seccomp),
    argv: input.argv,
    envp: input.envp,
  });
}
