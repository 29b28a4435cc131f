// Stage 2 of the real binary, fed a hand-made launch plan: a rule path found by
// walking the tree must not be followed through a symlink swapped in after
// planning. Stage 2 refuses (125) and the command never runs. An entry that
// vanished since planning is skipped: with no rule it gets no rights.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { encodeSockFilters } from "../../ffi/seccomp.ts";
import { HOST_ARCH } from "../../ffi/syscalls.ts";
import { fsMask, fsRightsAt } from "../../src/landlock/abi.ts";
import { probeLandlockAbi } from "../../src/host/landlock.ts";
import { rightsForGrant } from "../../src/landlock/rules.ts";
import { encodeLaunch, type WirePathRule } from "../../src/launch/wire.ts";
import { assembleSeccompProgram } from "../../src/seccomp/assemble.ts";
import { seccompSpecFor } from "../../src/seccomp/profile.ts";
import { CORDON, requireBinary, scratchDir } from "../helpers/cordon.ts";

const status = probeLandlockAbi();
const noLandlock = status.available ? undefined : "Landlock is not available";
const ABI = 1;
const HANDLED = fsMask(fsRightsAt(ABI));

describe.skipIf(noLandlock !== undefined)("stage 2 opens walked rule paths without following symlinks", () => {
  let dir: string;
  beforeAll(() => {
    requireBinary();
    dir = scratchDir("cordon-walked-");
    mkdirSync(join(dir, "real"));
    mkdirSync(join(dir, "target"));
    symlinkSync(join(dir, "target"), join(dir, "swapped"));
    symlinkSync(dir, join(dir, "via"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs stage 2 with a read rule on / and one walked write rule; the command leaves a marker. */
  async function stage2(
    walkedPath: string,
    marker: string,
    noSymlinks = true,
    identity?: { dev: string; ino: string },
  ) {
    const rules: WirePathRule[] = [
      { path: "/", access: rightsForGrant("read", "dir", HANDLED).toString(), optional: false, followSymlinks: false },
      {
        path: walkedPath,
        access: rightsForGrant("write", "dir", HANDLED).toString(),
        optional: false,
        followSymlinks: !noSymlinks,
        ...identity,
      },
    ];
    const message = encodeLaunch({
      header: {
        version: 1,
        landlock: {
          abi: ABI,
          handledFs: HANDLED.toString(),
          handledNet: "0",
          scoped: "0",
          restrictFlags: 0,
          pathRules: rules,
          netRules: [],
        },
        mountChecks: [],
        denyAnchors: [],
        denyMounts: [],
        socketCovers: [],
        preserveFds: 0,
        parentDeathSignal: 0,
        newSession: false,
        rlimits: [],
        cgroupFds: [],
      },
      seccomp: encodeSockFilters(
        assembleSeccompProgram(seccompSpecFor({ arch: HOST_ARCH, network: "all", mode: "landlock" })),
      ),
      argv: ["/bin/sh", "-c", `echo ran > ${marker}`].map((arg) => new TextEncoder().encode(arg)),
      envp: [new TextEncoder().encode("PATH=/usr/bin:/bin")],
    });
    const file = join(dir, "launch");
    writeFileSync(file, message);
    const fd = openSync(file, "r");
    try {
      const child = Bun.spawn({
        cmd: [CORDON, "__cordon-stage2", "3"],
        env: {},
        stdio: ["ignore", "pipe", "pipe", fd],
      });
      const exitCode = await child.exited;
      return { exitCode, stderr: await new Response(child.stderr).text() };
    } finally {
      closeSync(fd);
      rmSync(file, { force: true });
    }
  }

  test("a real directory gets its rule, and the command runs", async () => {
    const marker = join(dir, "real", "marker");
    const result = await stage2(join(dir, "real"), marker);
    expect(result.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  test("a path that became a symlink is refused", async () => {
    // The attack: opened the ordinary way, the rule lands on the link's target.
    const followed = join(dir, "target", "followed");
    expect((await stage2(join(dir, "swapped"), followed, false)).exitCode).toBe(0);
    expect(existsSync(followed)).toBe(true);
    const marker = join(dir, "target", "marker");
    const result = await stage2(join(dir, "swapped"), marker);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("became a symlink");
    expect(existsSync(marker)).toBe(false);
  });

  test("a symlink in an earlier component is refused too", async () => {
    const marker = join(dir, "real", "marker-via");
    const result = await stage2(join(dir, "via", "real"), marker);
    expect(result.exitCode).toBe(125);
    expect(existsSync(marker)).toBe(false);
  });

  // Vanishing entries are normal in a busy /tmp or $HOME; a skipped rule grants nothing.
  test("a path that disappeared is skipped, and grants nothing", async () => {
    const marker = join(dir, "marker-missing");
    const result = await stage2(join(dir, "missing"), marker);
    expect(result.stderr).not.toContain("sandbox setup failed");
    expect(result.exitCode).not.toBe(0);
    expect(result.exitCode).not.toBe(125);
    expect(existsSync(marker)).toBe(false);
  });

  // A write root resolved by stage 1 and then replaced by another directory
  // (renamed away, a new one put in its place) must not receive the grant.
  test("a write root replaced by another directory since planning is refused", async () => {
    const root = join(dir, "root");
    mkdirSync(root);
    const seen = statSync(root, { bigint: true });
    const identity = { dev: seen.dev.toString(), ino: seen.ino.toString() };
    const ok = join(root, "ok");
    expect((await stage2(root, ok, true, identity)).exitCode).toBe(0);
    expect(existsSync(ok)).toBe(true);
    renameSync(root, join(dir, "root-moved"));
    mkdirSync(root);
    const marker = join(root, "marker");
    const result = await stage2(root, marker, true, identity);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("replaced since");
    expect(existsSync(marker)).toBe(false);
  });
});
