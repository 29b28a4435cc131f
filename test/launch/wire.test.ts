// The stage1 -> stage2 launch message: any bytes in, the same bytes out.
import { describe, expect, test } from "bun:test";
import { decodeLaunch, encodeLaunch, type Launch, type LaunchHeader } from "../../src/launch/wire.ts";

const HEADER: LaunchHeader = {
  version: 1,
  landlock: {
    abi: 7,
    handledFs: "65535",
    handledNet: "3",
    scoped: "3",
    restrictFlags: 1,
    pathRules: [
      { path: "/", access: "13", optional: false, followSymlinks: false },
      { path: "/dev/null", access: "32774", optional: true, followSymlinks: false },
    ],
    netRules: [{ port: 443, access: "2" }],
  },
  mountChecks: [],
  denyAnchors: [],
  denyMounts: [],
  socketCovers: [],
  preserveFds: 0,
  parentDeathSignal: 9,
  newSession: true,
  rlimits: [{ resource: 1, soft: "1048576", hard: "1048576" }],
  cgroupFds: [7, 8],
};

const bytes = (text: string) => new TextEncoder().encode(text);

function launch(argv: Uint8Array[], envp: Uint8Array[] = [bytes("PATH=/usr/bin")]): Launch {
  return { header: HEADER, seccomp: Uint8Array.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]), argv, envp };
}

function roundTrip(value: Launch): Launch {
  return decodeLaunch(encodeLaunch(value));
}

const asArrays = (items: Uint8Array[]) => items.map((item) => [...item]);

describe("launch message", () => {
  test("header, seccomp program, argv and envp survive a round trip", () => {
    const original = launch([bytes("sh"), bytes("-c"), bytes("echo hi")]);
    const decoded = roundTrip(original);
    expect(decoded.header).toEqual(HEADER);
    expect([...decoded.seccomp]).toEqual([...original.seccomp]);
    expect(asArrays(decoded.argv)).toEqual(asArrays(original.argv));
    expect(asArrays(decoded.envp)).toEqual(asArrays(original.envp));
  });

  test("non-UTF-8 bytes, newlines, empty strings and every byte but NUL are kept exactly", () => {
    const everyByte = Uint8Array.from({ length: 255 }, (_, i) => i + 1);
    const argv = [
      bytes("printf"),
      Uint8Array.from([0xff, 0xfe, 0x80, 0xc3, 0x28]),
      bytes("line one\nline two\r\n"),
      new Uint8Array(0),
      everyByte,
      bytes("héllo ✓"),
    ];
    const envp = [Uint8Array.from([0x41, 0x3d, 0xff, 0x0a]), bytes("EMPTY=")];
    const decoded = roundTrip(launch(argv, envp));
    expect(asArrays(decoded.argv)).toEqual(asArrays(argv));
    expect(asArrays(decoded.envp)).toEqual(asArrays(envp));
  });

  test("10,000 arguments, in order", () => {
    const argv = [bytes("true"), ...Array.from({ length: 10_000 }, (_, i) => bytes(`arg-${i}`))];
    const decoded = roundTrip(launch(argv));
    expect(decoded.argv.length).toBe(10_001);
    expect(new TextDecoder().decode(decoded.argv[10_000])).toBe("arg-9999");
    expect(asArrays(decoded.argv)).toEqual(asArrays(argv));
  });

  test("an empty environment stays empty", () => {
    expect(roundTrip(launch([bytes("true")], [])).envp).toEqual([]);
  });

  test("a NUL byte in an argument or environment entry is refused", () => {
    expect(() => encodeLaunch(launch([bytes("a\0b")]))).toThrow(/NUL/);
    expect(() => encodeLaunch(launch([bytes("true")], [Uint8Array.from([0x41, 0x3d, 0])]))).toThrow(/NUL/);
  });

  test("a truncated message is refused at every length", () => {
    const encoded = encodeLaunch(launch([bytes("sh"), bytes("-c"), bytes("true")]));
    for (let length = 0; length < encoded.length; length++) {
      expect(() => decodeLaunch(encoded.subarray(0, length))).toThrow();
    }
  });

  test("another message version is refused", () => {
    const other = { ...launch([bytes("true")]), header: { ...HEADER, version: 2 } as unknown as LaunchHeader };
    expect(() => decodeLaunch(encodeLaunch(other))).toThrow(/version 2/);
  });

  test("decoding works on a view into a larger buffer", () => {
    const encoded = encodeLaunch(launch([bytes("true")]));
    const padded = new Uint8Array(encoded.length + 16);
    padded.set(encoded, 8);
    expect(asArrays(decodeLaunch(padded.subarray(8, 8 + encoded.length)).argv)).toEqual([[...bytes("true")]]);
  });
});
