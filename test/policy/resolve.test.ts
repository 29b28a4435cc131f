// Deny entries resolved against this host (src/policy/resolve.ts): one
// component at a time, never through a symlink inside a write root, with the
// hard-link count of each file and placeholders (by their look) seen as missing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, linkSync, lstatSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CordonError } from "../../src/errors.ts";
import { applyLayer } from "../../src/policy/compose.ts";
import { resolvePolicy } from "../../src/policy/resolve.ts";
import { EMPTY_POLICY, type PolicyLayer } from "../../src/policy/schema.ts";
import { scratchDir } from "../helpers/cordon.ts";

// base/
//   ws/                the write root
//     a/file.txt
//     alias -> a       a symlink the command could have planted
//     dangling -> nowhere
//     ph/              stands for another run's placeholder
//   outside/
//     real/secret
//     alias -> real    a symlink outside every write root
//     home/            an empty home: no secure default applies
let base: string;
const at = (...parts: string[]) => join(base, ...parts);

beforeAll(() => {
  base = realpathSync(scratchDir("cordon-resolve-"));
  mkdirSync(at("ws", "a"), { recursive: true });
  writeFileSync(at("ws", "a", "file.txt"), "x");
  symlinkSync("a", at("ws", "alias"));
  symlinkSync("nowhere", at("ws", "dangling"));
  mkdirSync(at("ws", "ph"));
  mkdirSync(at("outside", "real"), { recursive: true });
  mkdirSync(at("outside", "home"));
  writeFileSync(at("outside", "real", "secret"), "s");
  symlinkSync("real", at("outside", "alias"));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

const resolve = (layer: PolicyLayer) =>
  resolvePolicy(applyLayer(EMPTY_POLICY, { write: [at("ws")], ...layer }), {
    cwd: at("ws"),
    home: at("outside", "home"),
    env: {},
  });

const errorOf = (thunk: () => unknown): CordonError => {
  try {
    thunk();
  } catch (error) {
    expect(error).toBeInstanceOf(CordonError);
    return error as CordonError;
  }
  throw new Error("expected a CordonError");
};

describe("resolvePolicy: symlinks on the way to a write root", () => {
  test("a chain of symlinks is walked link by link: one inside a write root is refused", () => {
    // outside/to-ws-alias -> ws/alias -> a: realpath of the first would hide the planted second.
    const outer = at("outside", "to-ws-alias");
    symlinkSync(at("ws", "alias"), outer);
    try {
      const error = errorOf(() =>
        resolvePolicy(applyLayer(EMPTY_POLICY, { write: [at("ws"), outer] }), {
          cwd: at("ws"),
          home: at("outside", "home"),
          env: {},
        }),
      );
      expect(error.message).toContain(`resolves through the symlink ${at("ws", "alias")}`);
    } finally {
      rmSync(outer);
    }
  });
});

describe("resolvePolicy: symlinks on the way to a deny path", () => {
  test("through a symlink inside a write root: refused, naming the symlink and the root", () => {
    for (const layer of [{ denyWrite: ["alias/file.txt"] }, { denyRead: [at("ws", "alias", "later")] }]) {
      const error = errorOf(() => resolve(layer));
      expect(error.message).toContain(`the symlink ${at("ws", "alias")}`);
      expect(error.message).toContain(`inside the write root ${at("ws")}`);
      expect(error.options.hint).toContain("real path");
    }
  });

  test("through a symlink outside every write root: followed, to the canonical path", () => {
    const policy = resolve({ denyRead: [at("outside", "alias", "secret"), at("outside", "alias", "gone")] });
    expect(policy.denyRead).toEqual([
      { path: at("outside", "real", "secret"), kind: "file", origin: at("outside", "alias", "secret"), links: 1 },
      {
        path: at("outside", "real", "gone"),
        kind: "missing",
        origin: at("outside", "alias", "gone"),
        existing: at("outside", "real"),
      },
    ]);
  });

  test("a symlink as the last component: the link itself, then what it points to", () => {
    expect(resolve({ denyWrite: ["alias"] }).denyWrite).toEqual([
      { path: at("ws", "alias"), kind: "symlink", origin: "alias" },
      { path: at("ws", "a"), kind: "dir", origin: "alias" },
    ]);
    expect(resolve({ denyRead: [at("outside", "alias")] }).denyRead).toEqual([
      { path: at("outside", "alias"), kind: "symlink", origin: at("outside", "alias") },
      { path: at("outside", "real"), kind: "dir", origin: at("outside", "alias") },
    ]);
  });

  // Suspected bug (src/policy/resolve.ts, symlinkEntry, through canonicalMaybeMissing): a
  // dangling link's "target" comes back as the link's own path, so the plan puts a
  // placeholder where the symlink is (mkdir fails: EEXIST, then ELOOP) and the run is
  // refused with "cannot create a placeholder", e.g. `--deny-write .env` with
  // .env -> .env.local not written yet.
  test("a dangling symlink as the last component: the link, and its missing target", () => {
    expect(resolve({ denyWrite: ["dangling"] }).denyWrite).toEqual([
      { path: at("ws", "dangling"), kind: "symlink", origin: "dangling" },
      { path: at("ws", "nowhere"), kind: "missing", origin: "dangling", existing: at("ws") },
    ]);
  });

  // Suspected bug (src/policy/resolve.ts, DenyResolver.resolve: `current = realpathSync(next)`):
  // a symlink outside the write roots is followed all the way with realpath, so when its
  // target goes through a symlink inside a write root (planted by an earlier run), that one
  // is followed too, and the protection lands on the decoy the plant points to, which is
  // what the resolver's own comment says it must refuse.
  test("a symlink outside the write roots that leads through one inside is refused", () => {
    const outer = at("outside", "to-ws-alias");
    symlinkSync(at("ws", "alias"), outer);
    try {
      expect(errorOf(() => resolve({ denyWrite: [join(outer, "file.txt")] })).message).toContain(
        `the symlink ${at("ws", "alias")}`,
      );
    } finally {
      rmSync(outer);
    }
  });

  // Suspected bug (src/policy/resolve.ts, DenyResolver.resolve: `current = realpathSync(next)`):
  // a dangling symlink on the way, outside the write roots, throws node's raw ENOENT instead
  // of resolving to a missing path (as before 861e1cb, through canonicalMaybeMissing) or a
  // CordonError: `--deny-read ~/mnt/backup/keys` with ~/mnt pointing at an unmounted disk.
  test("a dangling symlink on the way outside the write roots: the path is missing", () => {
    const outer = at("outside", "unmounted");
    symlinkSync(at("outside", "disk"), outer);
    try {
      const policy = resolve({ denyRead: [join(outer, "keys")] });
      expect(policy.denyRead).toEqual([
        {
          path: at("outside", "disk", "keys"),
          kind: "missing",
          origin: join(outer, "keys"),
          existing: at("outside"),
        },
      ]);
    } finally {
      rmSync(outer);
    }
  });
});

describe("resolvePolicy: which entries stay", () => {
  test("a missing read-denied path outside the write roots is kept: the host could create it", () => {
    expect(resolve({ denyRead: [at("outside", "later", "key")] }).denyRead).toEqual([
      {
        path: at("outside", "later", "key"),
        kind: "missing",
        origin: at("outside", "later", "key"),
        existing: at("outside"),
      },
    ]);
  });

  test("a path both write- and read-denied is read-denied only; so is a write-denied path inside a hidden one", () => {
    const policy = resolve({ denyWrite: ["a", "a/file.txt", "ph"], denyRead: ["a"] });
    expect(policy.denyRead).toEqual([{ path: at("ws", "a"), kind: "dir", origin: "a" }]);
    expect(policy.denyWrite).toEqual([{ path: at("ws", "ph"), kind: "dir", origin: "ph" }]);
  });
});

describe("resolvePolicy: hard links", () => {
  test("each denied file carries its link count; directories carry none", () => {
    const linked = at("ws", "a", "linked.txt");
    const other = at("outside", "other-name.txt");
    writeFileSync(linked, "x");
    linkSync(linked, other);
    try {
      const policy = resolve({ denyWrite: ["a/linked.txt", "a/file.txt", "a"] });
      expect(policy.denyWrite).toEqual([
        { path: linked, kind: "file", origin: "a/linked.txt", links: 2 },
        { path: at("ws", "a", "file.txt"), kind: "file", origin: "a/file.txt", links: 1 },
        { path: at("ws", "a"), kind: "dir", origin: "a" },
      ]);
    } finally {
      rmSync(other);
      rmSync(linked);
    }
  });
});

describe("resolvePolicy: placeholders are recognised by their look alone", () => {
  // Records under $TMPDIR are only cleanup hints: a sandboxed command that can write there could
  // forge one that turns the user's directory into a "missing" path (adversarial review, issue 12).
  test("an empty directory of ours with mode 0555 is a path that does not exist", () => {
    chmodSync(at("ws", "ph"), 0o555);
    try {
      const policy = resolve({ denyWrite: ["ph/hooks/new"], denyRead: ["ph"] });
      expect(policy.denyWrite).toEqual([
        { path: at("ws", "ph", "hooks", "new"), kind: "missing", origin: "ph/hooks/new", existing: at("ws") },
      ]);
      expect(policy.denyRead).toEqual([{ path: at("ws", "ph"), kind: "missing", origin: "ph", existing: at("ws") }]);
    } finally {
      chmodSync(at("ws", "ph"), 0o755);
    }
  });

  test("another mode, or any content, makes it the user's own directory", () => {
    expect(resolve({ denyRead: ["ph"] }).denyRead).toEqual([{ path: at("ws", "ph"), kind: "dir", origin: "ph" }]);
    chmodSync(at("ws", "a"), 0o555);
    try {
      expect(resolve({ denyRead: ["a"] }).denyRead).toEqual([{ path: at("ws", "a"), kind: "dir", origin: "a" }]);
    } finally {
      chmodSync(at("ws", "a"), 0o755);
    }
  });
});
