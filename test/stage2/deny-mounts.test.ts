// Stage 2's deny mounts, for real: a probe script runs applyDenyMounts inside
// bwrap with the capabilities cordon gives stage 2, drops them as stage 2
// does, then attacks the result. As root and as nobody.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  openSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { O_CLOEXEC, O_PATH } from "../../ffi/constants.ts";
import { closeFd, fstatx, openPath } from "../../ffi/libc.ts";
import type { WireAnchor, WireComponent, WireDenyAction, WireDenyMount } from "../../src/launch/wire.ts";
import { applyDenyMounts } from "../../src/stage2/deny-mounts.ts";
import type { Attempt, ProbeOutput, ProbeSpec } from "../helpers/deny-mounts-probe.ts";
import { encodeSockFilters } from "../../ffi/seccomp.ts";
import { HOST_ARCH } from "../../ffi/syscalls.ts";
import { probeLandlockAbi } from "../../src/host/landlock.ts";
import { fsMask, fsRightsAt } from "../../src/landlock/abi.ts";
import { rightsForGrant } from "../../src/landlock/rules.ts";
import { encodeLaunch, STAGE2_ARGUMENT } from "../../src/launch/wire.ts";
import { assembleSeccompProgram } from "../../src/seccomp/assemble.ts";
import { seccompSpecFor } from "../../src/seccomp/profile.ts";
import { commandLine, CORDON, isRoot, NOBODY, REPO, requireBinary, run, scratchDir } from "../helpers/cordon.ts";

const BWRAP = "/usr/bin/bwrap";
const BUN = join(REPO, "node_modules/.bin/bun");
const PROBE = join(REPO, "test/helpers/deny-mounts-probe.ts");
const noBwrap = existsSync(BWRAP) ? undefined : `${BWRAP} is not installed`;
const noLandlock = probeLandlockAbi().available ? undefined : "Landlock is not available";
const ABI = 1;
const HANDLED = fsMask(fsRightsAt(ABI));

function identity(path: string): { dev: string; ino: string } {
  const stat = lstatSync(path, { bigint: true });
  return { dev: stat.dev.toString(), ino: stat.ino.toString() };
}

function anchorOf(path: string): WireAnchor {
  return { path, ...identity(path) };
}

/** A mount as stage 1 would plan it: every component from the anchor down, with the identity it has now. */
function planned(anchor: string, relative: string, action: WireDenyAction): WireDenyMount {
  const components: WireComponent[] = [];
  let path = anchor;
  for (const name of relative === "" ? [] : relative.split("/")) {
    path = join(path, name);
    components.push({ name, ...identity(path) });
  }
  return { path, action, anchor, components };
}

interface Sandbox {
  /** The write root, bound writable. */
  root: string;
  /** Further writable binds (nested write roots), each a bwrap mount point. */
  nested?: string[];
  asNobody: boolean;
  /** bwrap's capability options; cordon's by default. */
  caps?: string[];
}

const CORDON_CAPS = ["--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"];

/** Runs the probe under bwrap as cordon starts stage 2, and returns what it printed. */
function probe(sandbox: Sandbox, spec: ProbeSpec): ProbeOutput {
  const specDir = scratchDir("cordon-dm-spec-", sandbox.asNobody ? NOBODY : undefined);
  try {
    const specFile = join(specDir, "spec.json");
    writeFileSync(specFile, JSON.stringify(spec));
    const binds = [sandbox.root, ...(sandbox.nested ?? [])].flatMap((dir) => ["--bind", dir, dir]);
    const argv = [
      BWRAP,
      ...["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"],
      ...(sandbox.caps ?? CORDON_CAPS),
      ...["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"],
      // A checkout under /tmp (CI's clean clone) would vanish under the tmpfs with the Bun it runs.
      ...["--ro-bind", REPO, REPO],
      ...binds,
      ...["--ro-bind", specDir, specDir],
      ...[BUN, PROBE, specFile],
    ];
    const result = run(argv, { asNobody: sandbox.asNobody, env: { BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" } });
    if (result.exitCode !== 0) throw new Error(`probe exited ${result.exitCode}: ${result.stderr}`);
    return JSON.parse(result.stdout) as ProbeOutput;
  } finally {
    rmSync(specDir, { recursive: true, force: true });
  }
}

/** A fixture write root: .git with hooks, .env, a deep tree, secrets, a nested write root. */
function makeFixture(owner: number | undefined): string {
  const root = scratchDir("cordon-dm-", owner);
  const files: Record<string, string> = {
    ".git/config": "cfg",
    ".git/hooks/pre-commit": "hook",
    ".env": "SECRET",
    "deep/a/b/c/f": "deep",
    "secrets/key": "KEY",
    "sub/file": "sub",
    "sub2/file": "sub2",
    "swap/inner/file": "inner",
    "other/inner/file": "decoy",
    "nest/sub/file": "nested",
    "nest/sub/secret/key": "KEY",
  };
  for (const [relative, content] of Object.entries(files)) {
    mkdirSync(join(root, relative, ".."), { recursive: true });
    writeFileSync(join(root, relative), content);
  }
  if (owner !== undefined) run(["chown", "-R", `${owner}:${owner}`, root]);
  return root;
}

const USERS = [
  { who: isRoot ? "root" : "the calling user", asNobody: false, skip: undefined },
  { who: "nobody", asNobody: true, skip: isRoot ? undefined : "needs root to become nobody" },
] as const;

for (const { who, asNobody, skip } of USERS) {
  describe.skipIf(noBwrap !== undefined || skip !== undefined)(`deny mounts by descriptor (${who})`, () => {
    let root: string;
    const owner = asNobody ? NOBODY : undefined;
    beforeAll(() => {
      root = makeFixture(owner);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    const at = (relative: string) => join(root, relative);

    /** A planner's mounts: .git read-only with its hooks hidden, .env and secrets hidden, deep/a/b/c read-only. */
    function protectingMounts(): WireDenyMount[] {
      return [
        planned(root, ".git", "read-only"),
        planned(root, ".env", "hide-file"),
        planned(root, "secrets", "hide-dir"),
        planned(root, "deep", "pin"),
        planned(root, ".git/hooks", "hide-dir"),
        planned(root, "deep/a", "pin"),
        planned(root, "deep/a/b", "pin"),
        planned(root, "deep/a/b/c", "read-only"),
      ];
    }

    const attacks: [string, Attempt, (result: string) => void][] = [
      ["write into a read-only directory", { op: "write", path: ".git/config" }, (r) => expect(r).toBe("EROFS")],
      ["create in a read-only directory", { op: "write", path: ".git/new" }, (r) => expect(r).toBe("EROFS")],
      ["rename the read-only target", { op: "rename", path: ".git", to: ".git-old" }, (r) => expect(r).toBe("EBUSY")],
      ["list a hidden directory", { op: "readdir", path: ".git/hooks" }, (r) => expect(r).toBe("entries:")],
      ["create in a hidden directory", { op: "mkdir", path: ".git/hooks/x" }, (r) => expect(r).toBe("EROFS")],
      ["read a hidden file", { op: "read", path: ".env" }, (r) => expect(r).toBe("read:")],
      ["write a hidden file", { op: "append", path: ".env" }, (r) => expect(["EROFS", "EACCES"]).toContain(r)],
      ["unlink a hidden file", { op: "unlink", path: ".env" }, (r) => expect(r).toBe("EBUSY")],
      ["list a hidden top-level directory", { op: "readdir", path: "secrets" }, (r) => expect(r).toBe("entries:")],
      ["create in a hidden top-level directory", { op: "write", path: "secrets/x" }, (r) => expect(r).toBe("EROFS")],
      [
        "rename a pinned ancestor (depth 1)",
        { op: "rename", path: "deep", to: "deep-z" },
        (r) => expect(r).toBe("EBUSY"),
      ],
      [
        "rename a pinned ancestor (depth 2)",
        { op: "rename", path: "deep/a", to: "deep/z" },
        (r) => expect(r).toBe("EBUSY"),
      ],
      [
        "rename a pinned ancestor (depth 3)",
        { op: "rename", path: "deep/a/b", to: "deep/a/z" },
        (r) => expect(r).toBe("EBUSY"),
      ],
      [
        "rename the deep target",
        { op: "rename", path: "deep/a/b/c", to: "deep/a/b/z" },
        (r) => expect(r).toBe("EBUSY"),
      ],
      ["write below the deep target", { op: "write", path: "deep/a/b/c/f" }, (r) => expect(r).toBe("EROFS")],
      ["pinned ancestors stay writable", { op: "write", path: "deep/a/new" }, (r) => expect(r).toBe("ok")],
      ["mkdir in a pinned ancestor", { op: "mkdir", path: "deep/a/b/newdir" }, (r) => expect(r).toBe("ok")],
      ["the write root stays writable", { op: "write", path: "plain" }, (r) => expect(r).toBe("ok")],
    ];

    describe("a planner's mounts, then the attacks", () => {
      let output: ProbeOutput;
      beforeAll(() => {
        output = probe(
          { root, asNobody },
          { anchors: [anchorOf(root)], mounts: protectingMounts(), cwd: root, attempts: attacks.map(([, a]) => a) },
        );
      });

      test("applies without error and leaves no descriptor open", () => {
        expect(output.setupError).toBeUndefined();
        expect(output.leakedFds).toBe(0);
      });
      attacks.forEach(([name, attempt, check], i) => {
        test(`${name}: ${JSON.stringify(attempt)}`, () => check(output.results[i]!));
      });
      test("the host files are untouched", () => {
        expect(readFileSync(at(".git/config"), "utf8")).toBe("cfg");
        expect(readFileSync(at(".env"), "utf8")).toBe("SECRET");
        expect(readFileSync(at("deep/a/b/c/f"), "utf8")).toBe("deep");
        expect(existsSync(at("deep/a/new"))).toBe(true);
      });
    });

    test("relative paths from a working directory below a new mount reach the new mount", () => {
      const output = probe(
        { root, asNobody },
        {
          anchors: [anchorOf(root)],
          mounts: protectingMounts(),
          cwd: at("deep/a/b"),
          attempts: [{ op: "write", path: "c/f" }, { op: "rename", path: "c", to: "z" }, { op: "cwd" }],
        },
      );
      expect(output.setupError).toBeUndefined();
      expect(output.results).toEqual(["EROFS", "EBUSY", `cwd:${at("deep/a/b")}`]);
    });

    test("the stand-in fallback for kernels before 6.15 hides the same, and leaves nothing in /tmp", () => {
      const output = probe(
        { root, asNobody },
        {
          anchors: [anchorOf(root)],
          mounts: protectingMounts(),
          options: { attachStandIn: true },
          attempts: [
            { op: "read", path: at(".env") },
            { op: "readdir", path: at("secrets") },
            { op: "mkdir", path: at("secrets/x") },
            { op: "readdir", path: at(".git/hooks") },
            { op: "readdir", path: "/tmp" },
          ],
        },
      );
      expect(output.setupError).toBeUndefined();
      expect(output.leakedFds).toBe(0);
      expect(output.results.slice(0, 4)).toEqual(["read:", "entries:", "EROFS", "entries:"]);
      expect(output.results[4]).not.toContain("cordon-stand-in");
    });

    test("a target that is a bwrap mount point: a nested write root, and an anchor itself", () => {
      const nested = [at("sub"), at("sub2")];
      const output = probe(
        { root, nested, asNobody },
        {
          anchors: [anchorOf(root), anchorOf(at("sub2"))],
          mounts: [planned(root, "sub", "read-only"), planned(at("sub2"), "", "read-only")],
          attempts: [
            { op: "write", path: at("sub/file") },
            { op: "write", path: at("sub2/file") },
            { op: "rename", path: at("sub"), to: at("sub-z") },
            { op: "write", path: at("plain2") },
          ],
        },
      );
      expect(output.setupError).toBeUndefined();
      expect(output.results).toEqual(["EROFS", "EROFS", "EBUSY", "ok"]);
    });

    test("a mount over an anchor's ancestor: walks from the anchor go through it (it covers the nested root)", () => {
      const sub = at("nest/sub");
      const output = probe(
        { root, nested: [sub], asNobody },
        {
          anchors: [anchorOf(root), anchorOf(sub)],
          // Deepest first on purpose: stage 2 orders them itself.
          mounts: [planned(sub, "secret", "hide-dir"), planned(root, "nest", "read-only")],
          attempts: [
            { op: "readdir", path: join(sub, "secret") },
            { op: "write", path: join(sub, "file") },
          ],
        },
      );
      expect(output.setupError).toBeUndefined();
      // AT_RECURSIVE copies the nested write root into the read-only clone: read-only too.
      expect(output.results).toEqual(["entries:", "EROFS"]);
    });

    describe("fails closed", () => {
      const setupError = (mounts: WireDenyMount[], anchors = [anchorOf(root)], caps?: string[]) =>
        probe({ root, asNobody, caps }, { anchors, mounts, attempts: [] }).setupError;

      test("an anchor that is not the recorded directory", () => {
        const wrong = { ...anchorOf(root), ino: identity(at("deep")).ino };
        expect(setupError([planned(root, ".git", "read-only")], [wrong])).toMatch(
          `${root} is not what cordon planned (it changed while the sandbox was set up)`,
        );
      });

      test("a component that is not the recorded directory", () => {
        const mount = planned(root, "deep/a/b/c", "read-only");
        mount.components[1] = { ...mount.components[1]!, ino: identity(at("deep/a/b")).ino };
        expect(setupError([mount])).toMatch(`${at("deep/a")} is not what cordon planned`);
      });

      test("a target that is not the recorded file", () => {
        const mount = planned(root, ".env", "hide-file");
        mount.components[0] = { ...mount.components[0]!, ino: identity(at(".git/config")).ino };
        expect(setupError([mount])).toMatch(`${at(".env")} is not what cordon planned`);
      });

      test("a component swapped for a symlink after planning (ELOOP)", () => {
        const mount = planned(root, "swap/inner", "read-only");
        renameSync(at("swap"), at("swap-real"));
        symlinkSync(at("other"), at("swap"));
        try {
          expect(setupError([mount])).toMatch(
            new RegExp(`^${at("swap")} is not what cordon planned .*ELOOP`.replaceAll("/", "\\/")),
          );
        } finally {
          rmSync(at("swap"));
          renameSync(at("swap-real"), at("swap"));
        }
      });

      test("a target swapped for a symlink after planning (ELOOP)", () => {
        const mount = planned(root, "swap/inner", "read-only");
        renameSync(at("swap/inner"), at("swap/inner-real"));
        symlinkSync(at("other/inner"), at("swap/inner"));
        try {
          expect(setupError([mount])).toMatch(`${at("swap/inner")} is not what cordon planned`);
          expect(setupError([mount])).toMatch("ELOOP");
        } finally {
          rmSync(at("swap/inner"));
          renameSync(at("swap/inner-real"), at("swap/inner"));
        }
      });

      test("a component that vanished (ENOENT)", () => {
        const mount = planned(root, "deep/a", "pin");
        mount.components[1] = { ...mount.components[1]!, name: "gone" };
        expect(setupError([mount])).toMatch(`${at("deep/gone")} is not what cordon planned`);
      });

      test('a name that is not one component ("..")', () => {
        const mount = planned(root, "deep", "pin");
        mount.components[0] = { ...mount.components[0]!, name: ".." };
        expect(setupError([mount])).toMatch("the plan names a path component");
      });

      test("a directory stand-in over a file", () => {
        expect(setupError([planned(root, ".env", "hide-dir")])).toMatch(`cannot mount over ${at(".env")}`);
      });

      test("a mount with no anchor", () => {
        expect(setupError([planned(root, "deep", "pin")], [])).toMatch("the plan names no anchor");
      });

      test("without CAP_SYS_ADMIN (bwrap's old --cap-drop ALL)", () => {
        expect(setupError([planned(root, "deep", "pin")], undefined, ["--cap-drop", "ALL"])).toMatch(
          "cannot make a mount namespace of its own",
        );
      });
    });

    test("1,000 read-only mounts, and 1,000 hidden paths", () => {
      const many = join(root, "many");
      mkdirSync(many);
      const names = Array.from({ length: 1000 }, (_, i) => `d${String(i).padStart(4, "0")}`);
      for (const name of names) mkdirSync(join(many, name));
      if (owner !== undefined) run(["chown", "-R", `${owner}:${owner}`, many]);
      const mounts = [planned(root, "many", "pin"), ...names.map((name) => planned(root, `many/${name}`, "read-only"))];
      const readOnly = probe(
        { root, asNobody },
        { anchors: [anchorOf(root)], mounts, attempts: [{ op: "write", path: join(many, "d0999/x") }] },
      );
      const hidden = probe(
        { root, asNobody },
        {
          anchors: [anchorOf(root)],
          mounts: mounts.map((mount, i) => (i === 0 ? mount : { ...mount, action: "hide-dir" })),
          attempts: [{ op: "mkdir", path: join(many, "d0500/x") }],
        },
      );
      const ms = (output: ProbeOutput) => output.applyMs.toFixed(1);
      console.log(`${who}: 1,000 read-only mounts in ${ms(readOnly)} ms, 1,000 hidden in ${ms(hidden)} ms`);
      expect([readOnly.setupError, hidden.setupError]).toEqual([undefined, undefined]);
      expect([...readOnly.results, ...hidden.results]).toEqual(["EROFS", "EROFS"]);
      expect(readOnly.applyMs).toBeLessThan(2000);
    });
  });
}

describe.skipIf(noBwrap !== undefined || noLandlock !== undefined)("the compiled stage 2", () => {
  let root: string;
  beforeAll(() => {
    requireBinary();
    root = makeFixture(isRoot ? NOBODY : undefined);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const SCRIPT = [
    "grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
    'echo x 2>&1 >"$1/.git/config"',
    'echo "env:$(cat "$1/.env")"',
  ].join("; ");

  /** Runs dist/cordon's stage 2 under bwrap with a launch message that carries deny mounts. */
  function stage2(asNobody: boolean, caps = CORDON_CAPS) {
    const everything = rightsForGrant("write", "dir", HANDLED).toString();
    const message = encodeLaunch({
      header: {
        version: 1,
        landlock: {
          ...{ abi: ABI, handledFs: HANDLED.toString(), handledNet: "0", scoped: "0", restrictFlags: 0 },
          pathRules: [{ path: "/", access: everything, optional: false, followSymlinks: false }],
          netRules: [],
        },
        mountChecks: [],
        denyAnchors: [anchorOf(root)],
        denyMounts: [planned(root, ".git", "read-only"), planned(root, ".env", "hide-file")],
        socketCovers: [],
        preserveFds: 0,
        parentDeathSignal: 0,
        newSession: false,
        rlimits: [],
        cgroupFds: [],
      },
      seccomp: encodeSockFilters(
        assembleSeccompProgram(seccompSpecFor({ arch: HOST_ARCH, network: "none", mode: "bwrap" })),
      ),
      argv: ["/bin/sh", "-c", SCRIPT, "sh", root].map((arg) => new TextEncoder().encode(arg)),
      envp: [new TextEncoder().encode("PATH=/usr/bin:/bin")],
    });
    const dir = scratchDir("cordon-dm-launch-");
    const file = join(dir, "launch");
    writeFileSync(file, message);
    const fd = openSync(file, "r");
    try {
      const argv = commandLine(
        [
          BWRAP,
          ...["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", ...caps],
          ...["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--ro-bind", REPO, REPO],
          ...["--bind", root, root],
          ...[CORDON, STAGE2_ARGUMENT, "3"],
        ],
        asNobody,
      );
      const result = Bun.spawnSync(argv, { env: {}, stdio: ["ignore", "pipe", "pipe", fd] });
      return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const { who, asNobody } of [
    { who: "the calling user", asNobody: false },
    ...(isRoot ? [{ who: "nobody", asNobody: true }] : []),
  ]) {
    test(`applies them before dropping every capability, ambient and bounding too (${who})`, () => {
      const result = stage2(asNobody);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      for (const set of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) {
        expect(result.stdout).toContain(`${set}:\t0000000000000000`);
      }
      expect(result.stdout).toContain("NoNewPrivs:\t1");
      expect(result.stdout).toContain("Read-only file system");
      expect(result.stdout).toContain("env:\n");
      expect(readFileSync(join(root, ".git/config"), "utf8")).toBe("cfg");
    });
  }

  test("without CAP_SYS_ADMIN it refuses (125) and the command does not run", () => {
    const result = stage2(false, ["--cap-drop", "ALL"]);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain("sandbox setup failed at deny mounts: cannot make a mount namespace of its own");
    expect(result.stdout).toBe("");
  });
});

describe("without a sandbox", () => {
  test("no mounts: nothing happens, not even a new mount namespace", () => {
    const before = readlinkSync("/proc/self/ns/mnt");
    applyDenyMounts([], []);
    expect(readlinkSync("/proc/self/ns/mnt")).toBe(before);
  });

  test("a path planned twice is refused before anything is mounted", () => {
    const anchors = [{ path: "/x", dev: "1", ino: "2" }];
    const mount: WireDenyMount = {
      path: "/x/y",
      action: "pin",
      anchor: "/x",
      components: [{ name: "y", dev: "1", ino: "3" }],
    };
    // The same path again, reached from another anchor.
    const again: WireDenyMount = {
      ...mount,
      anchor: "/",
      components: [{ name: "x", dev: "1", ino: "2" }, mount.components[0]!],
    };
    const before = readlinkSync("/proc/self/ns/mnt");
    expect(() => applyDenyMounts([...anchors, { path: "/", dev: "1", ino: "1" }], [mount, again])).toThrow(
      "/x/y is planned twice",
    );
    expect(readlinkSync("/proc/self/ns/mnt")).toBe(before);
  });

  test("statx's dev and ino are what node's lstat gives (stage 1 records those)", () => {
    for (const path of ["/", "/proc", "/dev", "/dev/shm", "/tmp", REPO]) {
      const fd = openPath(path, O_PATH | O_CLOEXEC);
      try {
        const found = fstatx(fd);
        const stat = lstatSync(path, { bigint: true });
        expect({ path, dev: found.dev, ino: found.ino }).toEqual({ path, dev: stat.dev, ino: stat.ino });
      } finally {
        closeFd(fd);
      }
    }
  });
});
