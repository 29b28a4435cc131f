// The stage protocol: how stage 1 starts stage 2 and what it hands over.
//
// Stage 2 is this same binary, started as `cordon __cordon-stage2 LAUNCH_FD
// [STATUS_FD STDERR_FD]`. The launch message comes through an inherited
// descriptor: never argv or the environment, so it stays out of `ps` and
// carries any bytes. In bwrap mode, bwrap's fd 2 is a memory file stage 1
// reads (bwrap's own messages are cordon's to interpret), and the caller's
// real stderr waits at STDERR_FD: stage 2 puts it back on fd 2 first thing,
// so its own errors and the command's stderr reach the user unchanged.
// Layout: four sections, each a u32 length then bytes: JSON header,
// seccomp program, argv (NUL-separated), envp (NUL-separated).
import { joinNul, splitNul } from "../bytes.ts";
import type { DenyAction } from "../plan/deny-mounts.ts";

/** argv[1] that selects stage 2; nothing else in the binary runs then. */
export const STAGE2_ARGUMENT = "__cordon-stage2";

/**
 * Where each descriptor sits in the child. Preserved descriptors keep
 * 3..3+N-1; cordon's own sit just above them. Landlock-only mode uses the
 * first two; bwrap mode all six.
 */
export interface Slots {
  /** The launch message (read by stage 2). */
  launch: number;
  /** This very binary, which stage 2 is exec'd through. */
  exe: number;
  /** Stage 2 marks here that it started (bwrap mode). */
  status: number;
  /** bwrap's --info-fd: the sandbox's child pid. */
  info: number;
  /** bwrap's --args: its own arguments, NUL-separated. */
  args: number;
  /** The caller's stderr, which stage 2 moves back onto fd 2 (bwrap mode). */
  stderr: number;
}

export function slotsFor(preserveFds: number): Slots {
  const first = 3 + preserveFds;
  return { launch: first, exe: first + 1, status: first + 2, info: first + 3, args: first + 4, stderr: first + 5 };
}

export interface WirePathRule {
  path: string;
  access: string;
  optional: boolean;
  /** Follow symlinks when opening it (device nodes only); otherwise none in any component. */
  followSymlinks: boolean;
  /** dev and ino (decimal) the file must still have: a grant must not move to a swapped-in path. */
  dev?: string;
  ino?: string;
}

export interface WireLandlock {
  abi: number;
  handledFs: string;
  handledNet: string;
  scoped: string;
  restrictFlags: number;
  pathRules: WirePathRule[];
  netRules: { port: number; access: string }[];
}

/** Stage 2 checks, before exec, that a planned bind is really at `path` (dev and ino as decimal strings). */
export interface WireMountCheck {
  path: string;
  dev: string;
  ino: string;
  readOnly: boolean;
}

/** One path component below an anchor, with the identity stage 1 recorded (decimal strings). */
export interface WireComponent {
  name: string;
  dev: string;
  ino: string;
}

/** What stage 2 mounts at one path, by descriptor (the actions are defined in plan/deny-mounts.ts). */
export type WireDenyAction = DenyAction;

export interface WireDenyMount {
  /** The absolute path, for messages: stage 2 never resolves it as a string. */
  path: string;
  action: WireDenyAction;
  /** The directory the walk starts from: a write root, or "/" outside every write root. */
  anchor: string;
  /** Every component from the anchor down to the path, each checked on the way. */
  components: WireComponent[];
}

/** A walk's starting point and the identity it must have in the sandbox (decimal strings). */
export interface WireAnchor {
  path: string;
  dev: string;
  ino: string;
}

export interface LaunchHeader {
  version: 1;
  landlock: WireLandlock;
  /**
   * bwrap mode: anchors and the mounts stage 2 applies, shallowest first (a
   * path's ancestors come before it). Empty in landlock-only mode.
   */
  denyAnchors: WireAnchor[];
  denyMounts: WireDenyMount[];
  /** bwrap mode: host socket files stage 2 covers with an empty file, each path's bytes in hex. */
  socketCovers: string[];
  /** bwrap mode: mounts stage 2 verifies before exec (dev and ino as decimal strings). */
  mountChecks: WireMountCheck[];
  /** Descriptors 3..3+N-1 reach the command; everything above is closed. */
  preserveFds: number;
  /** Signal delivered to the command when its parent (stage 1) dies; 0 for none. */
  parentDeathSignal: number;
  /** Stage 1's pid: if it died before the signal was armed, stage 2 must not go on. */
  parentPid?: number;
  /** Stage 2 calls setsid(2) before exec: the command is not interactive on the user's terminal. */
  newSession: boolean;
  /** Descriptors of cgroup.procs that stage 2 writes "0" to, joining the sandbox's cgroups, first thing. */
  cgroupFds: number[];
  /** setrlimit(2) before exec, each soft and hard (decimal strings), lowered to an inherited lower hard limit. */
  rlimits: WireRlimit[];
}

export interface WireRlimit {
  resource: number;
  soft: string;
  hard: string;
}

export interface Launch {
  header: LaunchHeader;
  seccomp: Uint8Array;
  argv: Uint8Array[];
  envp: Uint8Array[];
}

const NUL = 0;

export function encodeLaunch(launch: Launch): Uint8Array {
  for (const item of [...launch.argv, ...launch.envp]) {
    if (item.includes(NUL)) throw new Error("an argument or environment entry contains a NUL byte");
  }
  const sections = [
    new TextEncoder().encode(JSON.stringify(launch.header)),
    launch.seccomp,
    joinNul(launch.argv),
    joinNul(launch.envp),
  ];
  const total = sections.reduce((sum, section) => sum + 4 + section.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const section of sections) {
    view.setUint32(offset, section.length, true);
    out.set(section, offset + 4);
    offset += 4 + section.length;
  }
  return out;
}

export function decodeLaunch(bytes: Uint8Array): Launch {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; i < 4; i++) {
    if (offset + 4 > bytes.length) throw new Error("launch message is truncated");
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > bytes.length) throw new Error("launch message is truncated");
    sections.push(bytes.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  const header = JSON.parse(new TextDecoder().decode(sections[0])) as LaunchHeader;
  if (header.version !== 1) throw new Error(`launch message version ${String(header.version)} is not supported`);
  return { header, seccomp: sections[1]!, argv: splitNul(sections[2]!), envp: splitNul(sections[3]!) };
}
