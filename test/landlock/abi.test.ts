// What each Landlock ABI can enforce, and the struct encoders of ffi/landlock.ts.
import { describe, expect, test } from "bun:test";
import {
  ACCESS_FS,
  encodeNetPortAttr,
  encodePathBeneathAttr,
  encodeRulesetAttr,
  RESTRICT_SELF,
} from "../../ffi/landlock.ts";
import {
  effectiveAbi,
  fsMask,
  fsRightsAt,
  fsRightsOf,
  NEWEST_KNOWN_ABI,
  netRightsAt,
  restrictFlagsAt,
  scopesAt,
} from "../../src/landlock/abi.ts";

const ABIS = [1, 2, 3, 4, 5, 6, 7, 8];

describe("rights per ABI", () => {
  test("filesystem rights as bits, from landlock(7)", () => {
    // Hard-coded: 13 bits at ABI 1, REFER at 2, TRUNCATE at 3, IOCTL_DEV at 5.
    const expected: Record<number, bigint> = {
      1: 0x1fffn,
      2: 0x3fffn,
      3: 0x7fffn,
      4: 0x7fffn,
      5: 0xffffn,
      6: 0xffffn,
      7: 0xffffn,
      8: 0xffffn,
    };
    for (const abi of ABIS)
      expect(`${abi}: 0x${fsMask(fsRightsAt(abi)).toString(16)}`).toBe(`${abi}: 0x${expected[abi]!.toString(16)}`);
    expect(fsRightsAt(0)).toEqual([]);
  });

  test("TCP rights from ABI 4, scopes from ABI 6", () => {
    for (const abi of ABIS) {
      expect(netRightsAt(abi)).toEqual(abi >= 4 ? ["BIND_TCP", "CONNECT_TCP"] : []);
      expect(scopesAt(abi)).toEqual(abi >= 6 ? ["ABSTRACT_UNIX_SOCKET", "SIGNAL"] : []);
    }
  });

  test("restrict_self flags: LOG_SAME_EXEC_OFF from 7, TSYNC from 8", () => {
    for (const abi of [0, 1, 2, 3, 4, 5, 6]) expect(restrictFlagsAt(abi)).toBe(0);
    expect(restrictFlagsAt(7)).toBe(1);
    expect(restrictFlagsAt(8)).toBe(1 | 8);
    expect(RESTRICT_SELF.LOG_SAME_EXEC_OFF).toBe(1);
    expect(RESTRICT_SELF.TSYNC).toBe(8);
  });

  test("fsRightsOf inverts fsMask", () => {
    for (const abi of ABIS) expect(fsRightsOf(fsMask(fsRightsAt(abi)))).toEqual(fsRightsAt(abi));
    expect(fsRightsOf(ACCESS_FS.REFER | ACCESS_FS.EXECUTE)).toEqual(["EXECUTE", "REFER"]);
  });
});

describe("effectiveAbi", () => {
  test("a kernel newer than cordon is treated as the newest known ABI", () => {
    expect(NEWEST_KNOWN_ABI).toBe(9);
    expect(effectiveAbi(10, undefined)).toBe(9);
    expect(effectiveAbi(42, undefined)).toBe(9);
    expect(effectiveAbi(7, undefined)).toBe(7);
  });

  test("the test cap only lowers, and never below 0", () => {
    expect(effectiveAbi(7, 3)).toBe(3);
    expect(effectiveAbi(7, 0)).toBe(0);
    expect(effectiveAbi(3, 7)).toBe(3);
    expect(effectiveAbi(7, -2)).toBe(0);
  });
});

describe("struct landlock_ruleset_attr", () => {
  test("8 bytes before ABI 4, 16 until ABI 6, 24 from ABI 6", () => {
    const sizes = ABIS.map((abi) => encodeRulesetAttr(1n, 2n, 3n, abi).length);
    expect(sizes).toEqual([8, 8, 8, 16, 16, 24, 24, 24]);
  });

  test("little-endian u64 fields: handled_access_fs, handled_access_net, scoped", () => {
    const bytes = encodeRulesetAttr(0x0102030405060708n, 0x3n, 0x2n, 6);
    expect([...bytes.subarray(0, 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect([...bytes.subarray(8, 16)]).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    expect([...bytes.subarray(16, 24)]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
    // The 8-byte form carries no net or scope field at all.
    expect([...encodeRulesetAttr(0xffffn, 3n, 3n, 3)]).toEqual([0xff, 0xff, 0, 0, 0, 0, 0, 0]);
  });
});

describe("struct landlock_path_beneath_attr", () => {
  test("packed: 12 bytes, u64 allowed_access then s32 parent_fd", () => {
    const bytes = encodePathBeneathAttr(0x7fffn, 5);
    expect(bytes.length).toBe(12);
    expect([...bytes]).toEqual([0xff, 0x7f, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
    expect([...encodePathBeneathAttr(1n, -1).subarray(8)]).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});

describe("struct landlock_net_port_attr", () => {
  test("16 bytes: u64 allowed_access then u64 port", () => {
    const bytes = encodeNetPortAttr(2n, 443);
    expect(bytes.length).toBe(16);
    expect([...bytes]).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0xbb, 0x01, 0, 0, 0, 0, 0, 0]);
  });
});
