// landlockRulesFor over every ABI, with a fake ABI passed in: the kernel on
// the test machine does not matter here.
import { describe, expect, test } from "bun:test";
import { ACCESS_FS } from "../../ffi/landlock.ts";
import { landlockRulesFor, rightsForGrant, type LandlockIntent, type LandlockPlan } from "../../src/landlock/rules.ts";

const ABIS = [1, 2, 3, 4, 5, 6, 7, 8, 9];

// Independent of ffi/: the bits of landlock(7).
const BIT = {
  EXECUTE: 1n,
  WRITE_FILE: 2n,
  READ_FILE: 4n,
  READ_DIR: 8n,
  REMOVE_DIR: 16n,
  REMOVE_FILE: 32n,
  MAKE_CHAR: 64n,
  MAKE_DIR: 128n,
  MAKE_REG: 256n,
  MAKE_SOCK: 512n,
  MAKE_FIFO: 1024n,
  MAKE_BLOCK: 2048n,
  MAKE_SYM: 4096n,
  REFER: 8192n,
  TRUNCATE: 16384n,
  IOCTL_DEV: 32768n,
  RESOLVE_UNIX: 65536n,
} as const;
const FILE_ONLY = BIT.EXECUTE | BIT.WRITE_FILE | BIT.READ_FILE | BIT.TRUNCATE | BIT.IOCTL_DEV | BIT.RESOLVE_UNIX;
const ALL_FS = 0x1ffffn;

function intent(overrides: Partial<LandlockIntent> = {}): LandlockIntent {
  return {
    readRoots: [{ path: "/", kind: "dir" }],
    writeRoots: [
      { path: "/work/project", kind: "dir" },
      { path: "/tmp/cordon-x", kind: "dir" },
      { path: "/work/single-file", kind: "file" },
    ],
    devices: [
      { path: "/dev/null", kind: "file" },
      { path: "/dev/pts", kind: "dir" },
    ],
    network: { allow: false, connectPorts: [], bindPorts: [] },
    ...overrides,
  };
}

const plans: [number, LandlockPlan][] = ABIS.map((abi) => [abi, landlockRulesFor(intent(), abi)]);

function ruleFor(plan: LandlockPlan, path: string) {
  const rule = plan.pathRules.find((r) => r.path === path);
  if (!rule) throw new Error(`no rule for ${path}`);
  return rule;
}

describe.each(plans)("landlockRulesFor at ABI %d", (abi, plan) => {
  test("records the ABI and restrict flags", () => {
    expect(plan.abi).toBe(abi);
    expect(plan.restrictFlags).toBe(abi >= 8 ? 9 : abi >= 7 ? 1 : 0);
  });

  test("every right is masked to the ABI", () => {
    for (const rule of plan.pathRules) expect(rule.access & ~plan.handledFs).toBe(0n);
    expect(plan.handledFs & ~ALL_FS).toBe(0n);
    expect((plan.handledFs & BIT.REFER) !== 0n).toBe(abi >= 2);
    expect((plan.handledFs & BIT.TRUNCATE) !== 0n).toBe(abi >= 3);
    expect((plan.handledFs & BIT.IOCTL_DEV) !== 0n).toBe(abi >= 5);
    expect((plan.handledFs & BIT.RESOLVE_UNIX) !== 0n).toBe(abi >= 9);
  });

  test("connecting to a unix socket file: write roots and allowed sockets only (ABI 9+)", () => {
    const withSocket = landlockRulesFor(intent({ sockets: [{ path: "/run/user/1/bus", kind: "file" }] }), abi);
    expect(ruleFor(withSocket, "/").access & BIT.RESOLVE_UNIX).toBe(0n);
    expect(ruleFor(withSocket, "/dev/pts").access & BIT.RESOLVE_UNIX).toBe(0n);
    expect((ruleFor(withSocket, "/work/project").access & BIT.RESOLVE_UNIX) !== 0n).toBe(abi >= 9);
    if (abi >= 9) expect(ruleFor(withSocket, "/run/user/1/bus").access).toBe(BIT.RESOLVE_UNIX);
    else expect(withSocket.pathRules.some((rule) => rule.path === "/run/user/1/bus")).toBe(false);
  });

  test("rules on files carry only file rights", () => {
    for (const path of ["/work/single-file", "/dev/null"]) {
      const rule = ruleFor(plan, path);
      expect(rule.access).not.toBe(0n);
      expect(rule.access & ~FILE_ONLY).toBe(0n);
    }
  });

  test("the read root gets read and execute only", () => {
    expect(ruleFor(plan, "/").access).toBe(BIT.EXECUTE | BIT.READ_FILE | BIT.READ_DIR);
    expect(ruleFor(plan, "/").grant).toBe("read");
    expect(ruleFor(plan, "/").optional).toBe(false);
  });

  test(
    "write roots never get MAKE_CHAR, MAKE_BLOCK or IOCTL_DEV; they do get REFER " + "from ABI 2 and TRUNCATE from 3",
    () => {
      for (const path of ["/work/project", "/tmp/cordon-x"]) {
        const rule = ruleFor(plan, path);
        expect(rule.grant).toBe("write");
        expect(rule.optional).toBe(false);
        expect(rule.access & (BIT.MAKE_CHAR | BIT.MAKE_BLOCK | BIT.IOCTL_DEV)).toBe(0n);
        for (const right of [
          BIT.WRITE_FILE,
          BIT.MAKE_REG,
          BIT.MAKE_DIR,
          BIT.REMOVE_FILE,
          BIT.REMOVE_DIR,
          BIT.MAKE_SYM,
          BIT.MAKE_FIFO,
          BIT.MAKE_SOCK,
          BIT.READ_DIR,
        ]) {
          expect(rule.access & right).toBe(right);
        }
        expect((rule.access & BIT.REFER) !== 0n).toBe(abi >= 2);
        expect((rule.access & BIT.TRUNCATE) !== 0n).toBe(abi >= 3);
      }
    },
  );

  test("devices are optional and may use device ioctls from ABI 5, never create nodes", () => {
    for (const path of ["/dev/null", "/dev/pts"]) {
      const rule = ruleFor(plan, path);
      expect(rule.grant).toBe("device");
      expect(rule.optional).toBe(true);
      expect(rule.access & (BIT.MAKE_CHAR | BIT.MAKE_BLOCK | BIT.MAKE_REG)).toBe(0n);
      expect((rule.access & BIT.IOCTL_DEV) !== 0n).toBe(abi >= 5);
    }
    expect(ruleFor(plan, "/dev/pts").access & BIT.READ_DIR).toBe(BIT.READ_DIR);
  });

  test("network: TCP handled from ABI 4 with no port open; scopes from ABI 6", () => {
    expect(plan.handledNet).toBe(abi >= 4 ? 3n : 0n);
    expect(plan.netRules).toEqual([]);
    expect(plan.scoped).toBe(abi >= 6 ? 3n : 0n);
  });

  test("what the ABI cannot give is recorded as degradations", () => {
    const features = plan.degradations.map((d) => d.feature);
    expect(features.includes("REFER")).toBe(abi < 2);
    expect(features.includes("TRUNCATE")).toBe(abi < 3);
    expect(features.includes("TCP port rules")).toBe(abi < 4);
    expect(features.includes("IOCTL_DEV")).toBe(abi < 5);
    expect(features.includes("scopes")).toBe(abi < 6);
    for (const d of plan.degradations) {
      expect(d.layer).toBe("landlock");
      expect(d.consequence.length).toBeGreaterThan(0);
      if (d.since !== undefined) expect(d.since).toBeGreaterThan(abi);
    }
    // TRUNCATE missing weakens security (read-only files can be emptied); REFER missing does not.
    if (abi < 3) expect(plan.degradations.find((d) => d.feature === "TRUNCATE")?.weakensSecurity).toBe(true);
    if (abi < 2) expect(plan.degradations.find((d) => d.feature === "REFER")?.weakensSecurity).toBe(false);
  });
});

describe("network intent", () => {
  test("allowed network handles no TCP right at any ABI", () => {
    for (const abi of ABIS) {
      const plan = landlockRulesFor(intent({ network: { allow: true, connectPorts: [443], bindPorts: [] } }), abi);
      expect(plan.handledNet).toBe(0n);
      expect(plan.netRules).toEqual([]);
    }
  });

  test("ports become net rules from ABI 4, merged per port and sorted", () => {
    const withPorts = intent({ network: { allow: false, connectPorts: [443, 80], bindPorts: [8080, 443] } });
    expect(landlockRulesFor(withPorts, 3).netRules).toEqual([]);
    expect(
      landlockRulesFor(withPorts, 3).degradations.find((d) => d.feature === "TCP port rules")?.weakensSecurity,
    ).toBe(true);
    expect(landlockRulesFor(withPorts, 4).netRules).toEqual([
      { port: 80, access: 2n },
      { port: 443, access: 3n },
      { port: 8080, access: 1n },
    ]);
  });
});

describe("rightsForGrant", () => {
  test("a file never gets a directory right, whatever the grant", () => {
    for (const grant of ["read", "write", "device"] as const) {
      expect(rightsForGrant(grant, "file", ALL_FS) & ~FILE_ONLY).toBe(0n);
    }
  });

  test("rights outside the handled set are dropped", () => {
    expect(rightsForGrant("write", "dir", ACCESS_FS.WRITE_FILE | ACCESS_FS.MAKE_CHAR)).toBe(BIT.WRITE_FILE);
    expect(rightsForGrant("read", "dir", 0n)).toBe(0n);
  });

  test("a rule with no right left is omitted, not added empty", () => {
    const plan = landlockRulesFor(intent({ devices: [{ path: "/dev/null", kind: "file" }] }), 1);
    for (const rule of plan.pathRules) expect(rule.access).not.toBe(0n);
  });
});

describe("identities of walked rules", () => {
  // Outside the write roots (and under bwrap's own /proc, /tmp, /dev) the host's listing is not
  // what the sandbox sees; only inside a write root can a command swap what a rule names.
  test("a walked rule carries the listed identity inside a write root, and none elsewhere", () => {
    const listed = (name: string, ino: bigint) => ({ name, kind: "dir" as const, identity: { dev: 1n, ino } });
    const listing: Record<string, ReturnType<typeof listed>[]> = {
      "/": [listed("proc", 1n), listed("ws", 2n), listed("home", 3n)],
      "/home": [listed("u", 4n)],
      "/home/u": [listed(".config", 7n), listed(".gh", 8n)],
      "/ws": [listed("a", 5n), listed("secret", 6n)],
    };
    const plan = landlockRulesFor(
      intent({
        writeRoots: [{ path: "/ws", kind: "dir" }],
        exclusions: [
          { path: "/home/u/.gh", deny: "read" },
          { path: "/ws/secret", deny: "read" },
        ],
        listDirectory: (dir) => listing[dir],
      }),
      7,
    );
    const walked = plan.pathRules.filter((rule) => rule.walked);
    expect(walked.find((rule) => rule.path === "/ws/a")?.identity).toEqual({ dev: 1n, ino: 5n });
    for (const path of ["/proc", "/home/u/.config"]) {
      const rule = walked.find((candidate) => candidate.path === path);
      expect(rule).toBeDefined();
      expect(rule?.identity).toBeUndefined();
    }
  });
});
