// The bwrap mount plan: an ordered list of typed operations, planned by a pure
// function and rendered to bwrap arguments in one place. Order is correct by
// construction: operations are sorted by the depth of their destination, so a
// deeper (more specific) path always lands on top of a shallower one.
import { BWRAP_CAPABILITY_ARGS, BWRAP_UNSHARE_ARGS } from "../host/bwrap.ts";
import type { PathKind } from "../landlock/rules.ts";
import { isWithin } from "../policy/paths.ts";
import type { TmpKind } from "../policy/schema.ts";

export type MountOp =
  | { kind: "ro-bind"; source: string; dest: string; why: MountReason }
  | { kind: "bind"; source: string; dest: string; why: MountReason }
  | { kind: "proc"; dest: string }
  | { kind: "dev"; dest: string }
  /** `size` in bytes: the private /tmp and /dev/shm have one (limits.tmpSize); the emptied runtime directories not. */
  | { kind: "tmpfs"; dest: string; size?: number };

type MountReason =
  "root" | "write-root" | "allowed-socket" | "runtime-file" | "working-directory" | "redacted-copy" | "private-tmpdir";

interface DenyPath {
  path: string;
  /** "missing": not there yet; stage 1 puts a placeholder directory there for the run. */
  kind: PathKind | "missing" | "symlink";
}

export interface MountInput {
  writeRoots: string[];
  /** Read-denied directories hide the sockets inside them. */
  denyRead: DenyPath[];
  cwd: string;
  /**
   * Existing runtime directories (/run, /var/run when not a symlink). Their
   * unix sockets (docker.sock, the session bus, systemd) would stay reachable
   * through a read-only bind, since connect(2) ignores read-only mounts, so
   * they are replaced by an empty tmpfs, whatever the network.
   */
  runtimeDirs: string[];
  /** Files under a runtime directory the sandbox still needs (the resolv.conf behind /etc/resolv.conf). */
  runtimeFiles: string[];
  /** Host sockets the policy allows: bound into the sandbox where a tmpfs would hide them. */
  allowedSockets: string[];
  /** Redacted copies of credential files, each bound read-only over its file. */
  copies?: readonly { source: string; dest: string }[];
  /**
   * Policy `tmp: "host"`: /tmp stays the host's (read-only through the root bind), and this
   * directory cordon created for the run is bound writable as the command's TMPDIR.
   */
  hostTmp?: { tmpdir: string };
  /** The size of each private tmpfs the command can write (/tmp, /dev/shm), in bytes. */
  tmpSize: number;
}

/** Private, writable places every bwrap sandbox gets by default. */
export const SANDBOX_TMPFS = ["/tmp", "/dev/shm"] as const;

/** The private tmpfs mounts for a policy's `tmp`: with "host", /tmp is left to the root's read-only bind. */
export function sandboxTmpfsFor(tmp: TmpKind): readonly string[] {
  return tmp === "host" ? SANDBOX_TMPFS.filter((dir) => dir !== "/tmp") : SANDBOX_TMPFS;
}

export function depthOf(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

// At equal depth, system mounts go first so a user bind of /tmp lands on the tmpfs.
const RANK: Record<MountOp["kind"], number> = { proc: 0, dev: 0, tmpfs: 1, bind: 2, "ro-bind": 2 };
const REASON_RANK: Record<MountReason, number> = {
  root: 0,
  "working-directory": 1,
  "write-root": 2,
  "runtime-file": 3,
  "allowed-socket": 3,
  "redacted-copy": 4,
  "private-tmpdir": 2,
};

function orderOf(op: MountOp): [number, number, number, string] {
  const reason = "why" in op ? REASON_RANK[op.why] : 0;
  return [depthOf(op.dest), RANK[op.kind], reason, op.dest];
}

function compareOps(a: MountOp, b: MountOp): number {
  const [x, y] = [orderOf(a), orderOf(b)];
  for (let i = 0; i < x.length; i++) {
    if (x[i]! < y[i]!) return -1;
    if (x[i]! > y[i]!) return 1;
  }
  return 0;
}

export function mountPlanFor(input: MountInput): MountOp[] {
  const tmpfs = input.hostTmp ? sandboxTmpfsFor("host") : SANDBOX_TMPFS;
  const ops: MountOp[] = [
    { kind: "ro-bind", source: "/", dest: "/", why: "root" },
    { kind: "proc", dest: "/proc" },
    { kind: "dev", dest: "/dev" },
    ...tmpfs.map((dest): MountOp => ({ kind: "tmpfs", dest, size: input.tmpSize })),
  ];
  for (const dest of input.runtimeDirs) ops.push({ kind: "tmpfs", dest });
  for (const root of input.writeRoots) ops.push({ kind: "bind", source: root, dest: root, why: "write-root" });
  if (input.hostTmp) {
    const { tmpdir } = input.hostTmp;
    ops.push({ kind: "bind", source: tmpdir, dest: tmpdir, why: "private-tmpdir" });
  }
  // A working directory under a private tmpfs (/tmp, or /run: a USB disk at /run/media) would otherwise vanish.
  const hiddenByTmpfs = [...tmpfs, ...input.runtimeDirs].some((tmp) => isWithin(input.cwd, tmp));
  if (hiddenByTmpfs && !input.writeRoots.some((root) => isWithin(input.cwd, root))) {
    ops.push({ kind: "ro-bind", source: input.cwd, dest: input.cwd, why: "working-directory" });
  }
  for (const copy of input.copies ?? []) {
    ops.push({ kind: "ro-bind", source: copy.source, dest: copy.dest, why: "redacted-copy" });
  }
  // Deny paths and host socket covers are not bwrap's: stage 2 mounts them by descriptor (deny-mounts.ts).
  const writable = (path: string) => input.writeRoots.some((root) => isWithin(path, root));
  const replaced = [...tmpfs, ...input.runtimeDirs];
  const readDenied = (path: string) =>
    input.denyRead.some((deny) => deny.path === path || (deny.kind !== "file" && isWithin(path, deny.path)));
  for (const file of input.runtimeFiles) {
    if (replaced.some((dir) => isWithin(file, dir)) && !readDenied(file)) {
      ops.push({ kind: "ro-bind", source: file, dest: file, why: "runtime-file" });
    }
  }
  for (const socket of input.allowedSockets) {
    if (!writable(socket)) ops.push({ kind: "ro-bind", source: socket, dest: socket, why: "allowed-socket" });
  }
  return ops.sort(compareOps);
}

export function mountArgs(ops: readonly MountOp[]): string[] {
  return ops.flatMap((op): string[] => {
    switch (op.kind) {
      case "ro-bind":
        return ["--ro-bind", op.source, op.dest];
      case "bind":
        return ["--bind", op.source, op.dest];
      case "proc":
        return ["--proc", op.dest];
      case "dev":
        return ["--dev", op.dest];
      case "tmpfs":
        // bwrap's --size applies to the --tmpfs that follows it.
        return [...(op.size === undefined ? [] : ["--size", String(op.size)]), "--tmpfs", op.dest];
    }
  });
}

/** "tcp": no network but TCP ports that Landlock allows, so bwrap keeps the host's network namespace. */
export type NetworkAccess = "none" | "tcp" | "all";

interface BwrapOptions {
  network: NetworkAccess;
  cwd: string;
}

/** Namespace and process options; mounts come from `mountArgs`. */
export function namespaceArgs(options: BwrapOptions): string[] {
  return [
    ...BWRAP_UNSHARE_ARGS,
    ...(options.network !== "none" ? ["--share-net"] : []),
    "--die-with-parent",
    ...BWRAP_CAPABILITY_ARGS,
    "--chdir",
    options.cwd,
  ];
}

/** The full bwrap argument list (read by bwrap from a descriptor), for `run` and `explain`. */
export function bwrapArguments(
  plan: { network: NetworkAccess; cwd: string; mounts: readonly MountOp[] },
  infoFd: number,
): string[] {
  return [...namespaceArgs(plan), ...mountArgs(plan.mounts), "--info-fd", String(infoFd)];
}
