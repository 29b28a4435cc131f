// The launch message stage 1 hands to stage 2 through an inherited
// descriptor: never argv or the environment, so it stays out of `ps` and
// carries any bytes. Layout: four sections, each a u32 length then bytes:
// JSON header, seccomp program, argv (NUL-separated), envp (NUL-separated).

export interface WirePathRule {
  path: string;
  access: string;
  optional: boolean;
  /** Open without following a symlink in any component: every canonical path but devices. */
  noSymlinks?: boolean;
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
export interface MountCheck {
  path: string;
  dev: string;
  ino: string;
  readOnly: boolean;
}

export interface LaunchHeader {
  version: 1;
  landlock: WireLandlock;
  /** bwrap mode: mounts stage 2 verifies before exec (dev and ino as decimal strings). */
  mountChecks: MountCheck[];
  /** Descriptors 3..3+N-1 reach the command; everything above is closed. */
  preserveFds: number;
  /** Signal delivered to the command when its parent (stage 1) dies; 0 for none. */
  parentDeathSignal: number;
  /** Stage 1's pid: if it died before the signal was armed, stage 2 must not go on. */
  parentPid?: number;
}

export interface Launch {
  header: LaunchHeader;
  seccomp: Uint8Array;
  argv: Uint8Array[];
  envp: Uint8Array[];
}

const NUL = 0;

function joinNul(items: Uint8Array[]): Uint8Array {
  const total = items.reduce((sum, item) => sum + item.length + 1, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const item of items) {
    out.set(item, offset);
    offset += item.length + 1;
  }
  return out;
}

function splitNul(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === NUL) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

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
