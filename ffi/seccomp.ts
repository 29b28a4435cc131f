// seccomp and classic BPF: opcodes, return actions, struct seccomp_data
// offsets and the sock_fprog layout. <linux/filter.h>, <linux/seccomp.h>.

export const SECCOMP_SET_MODE_FILTER = 1;
export const SECCOMP_FILTER_FLAG_TSYNC = 1;

export const BPF = {
  LD_W_ABS: 0x20,
  JEQ_K: 0x15,
  JGE_K: 0x35,
  JGT_K: 0x25,
  JSET_K: 0x45,
  AND_K: 0x54,
  RET_K: 0x06,
} as const;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const SECCOMP_RET_DATA = 0x0000ffff;

/** struct seccomp_data */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  argLow: (i: number) => 16 + 8 * i,
  argHigh: (i: number) => 20 + 8 * i,
  size: 64,
} as const;

export const BPF_MAXINSNS = 4096;

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
export function encodeSockFilters(program: readonly SockFilter[]): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    view.setUint16(i * 8, insn.code, true);
    view.setUint8(i * 8 + 2, insn.jt);
    view.setUint8(i * 8 + 3, insn.jf);
    view.setUint32(i * 8 + 4, insn.k >>> 0, true);
  });
  return bytes;
}

export function decodeSockFilters(bytes: Uint8Array): SockFilter[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: SockFilter[] = [];
  for (let offset = 0; offset + 8 <= bytes.length; offset += 8) {
    program.push({
      code: view.getUint16(offset, true),
      jt: view.getUint8(offset + 2),
      jf: view.getUint8(offset + 3),
      k: view.getUint32(offset + 4, true),
    });
  }
  return program;
}

/** struct sock_fprog: u16 len, 6 bytes padding, u64 pointer. */
export function encodeSockFprog(length: number, filterPointer: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, length, true);
  view.setBigUint64(8, BigInt(filterPointer), true);
  return bytes;
}
