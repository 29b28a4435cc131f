// Reading /proc/net/unix (src/host/sockets.ts): every bound pathname socket,
// whatever bytes its path holds, in every network namespace in sight.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hostUnixSockets, socketPathCandidates, socketsInTables } from "../../src/host/sockets.ts";

const HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n";
const record = (inode: number, path?: string) => {
  const bound = path === undefined ? "" : ` ${path}`;
  return `0000000000000000: 00000002 00000000 00010000 0001 01 ${String(inode).padStart(5)}${bound}\n`;
};
const table = (...records: string[]) => HEADER + records.join("");
const bytes = (text: string) => Buffer.from(text, "latin1");
const existing =
  (...paths: string[]) =>
  (path: Buffer) =>
    paths.includes(path.toString("latin1"));
const asListed = (path: Buffer) => path;

describe("socketPathCandidates", () => {
  test("bound pathname sockets only: no unbound, abstract or relative ones", () => {
    const text = table(
      record(1),
      record(2, "@/tmp/.X11-unix/X0"),
      record(3, "relative.sock"),
      record(4, "/run/a.sock"),
    );
    expect(socketPathCandidates(text)).toEqual([["/run/a.sock"]]);
  });

  test("a path with spaces is read whole", () => {
    expect(socketPathCandidates(table(record(1, "/tmp/my dir/s p.sock")))).toEqual([["/tmp/my dir/s p.sock"]]);
  });

  test("a newline in a path continues it on the next line", () => {
    expect(socketPathCandidates(table(record(1, "/tmp/a\nb.sock"), record(2, "/run/c.sock")))).toEqual([
      ["/tmp/a\nb.sock\n" + record(2, "/run/c.sock").slice(0, -1), "/tmp/a\nb.sock"],
      ["/run/c.sock"],
    ]);
    // At the end of the table, and with a trailing newline of its own.
    expect(socketPathCandidates(table(record(1, "/tmp/x\n")))).toEqual([["/tmp/x\n"]]);
  });

  test("a path that forges a record start yields the whole path as its first reading", () => {
    const forged = `/tmp/a\n${record(9, "/tmp/b").slice(0, -1)}`;
    const [first] = socketPathCandidates(table(record(1, forged)));
    expect(first![0]).toBe(forged);
  });
});

describe("socketsInTables", () => {
  test("keeps the reading that is a socket file; the union over tables, sorted and unique", () => {
    const forged = `/tmp/a\n${record(9, "/tmp/b").slice(0, -1)}`;
    const found = socketsInTables(
      [
        table(record(1, forged), record(2, "/run/b.sock")),
        table(record(3, "/srv/other netns.sock"), record(4, "/run/b.sock")),
      ],
      existing(forged, "/run/b.sock", "/srv/other netns.sock"),
      asListed,
    );
    expect(found.paths).toEqual([forged, "/run/b.sock", "/srv/other netns.sock"].sort());
    expect(found.foreign).toEqual([]);
  });

  test("a path that is not UTF-8 is kept apart, shown escaped, with its bytes", () => {
    const path = "/var/tmp/d\xff/s.sock";
    const found = socketsInTables([table(record(1, path))], existing(path), asListed);
    expect(found.paths).toEqual([]);
    expect(found.foreign).toEqual([
      { shown: "/var/tmp/d\\xff/s.sock", hex: bytes(path).toString("hex"), canonical: true },
    ]);
  });

  test("each socket is kept under its canonical path; one that cannot be resolved is kept as listed", () => {
    const resolve = (path: Buffer) =>
      path.toString("latin1") === "/var/run/pg.sock" ? bytes("/run/pg.sock") : undefined;
    const found = socketsInTables(
      [table(record(1, "/var/run/pg.sock"), record(2, "/gone/x.sock"))],
      existing("/var/run/pg.sock", "/gone/x.sock"),
      resolve,
    );
    expect(found.paths).toEqual(["/run/pg.sock"]);
    // Its directory may lie beyond PATH_MAX through a symlink: covered wherever it is, by the path as listed.
    expect(found.foreign).toEqual([
      { shown: "/gone/x.sock", hex: bytes("/gone/x.sock").toString("hex"), canonical: false },
    ]);
  });

  test("a listed path that is no socket file (gone, replaced, or unreachable) is left out", () => {
    const none = socketsInTables([table(record(1, "/run/gone.sock"))], () => false, asListed);
    expect(none).toEqual({ paths: [], foreign: [] });
  });
});

describe("hostUnixSockets on this host", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-sockets-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Inside a sandbox (cordon's own, for one) no network namespace can be made.
  const unshareMissing = Bun.spawnSync(["unshare", "-n", "true"]).exitCode !== 0;
  test.skipIf(unshareMissing)(
    "finds a socket bound in another network namespace, with spaces and a newline in its path",
    async () => {
      const path = join(dir, "other netns\nsock");
      // A listener in its own network namespace: /proc/net/unix of this one does not list it.
      const listener = Bun.spawn(
        [
          "unshare",
          "-n",
          "python3",
          "-c",
          "import socket,sys,time\ns=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1]);s.listen()\n" +
            "print(1,flush=True);time.sleep(30)",
          path,
        ],
        { stdout: "pipe", stderr: "inherit" },
      );
      try {
        await listener.stdout.getReader().read();
        const own = bytes(await Bun.file("/proc/self/net/unix").text());
        expect(own.includes(bytes(path))).toBe(false);
        expect(hostUnixSockets().paths).toContain(path);
      } finally {
        listener.kill();
      }
    },
  );
});

describe("hostUnixSockets: canonical paths", () => {
  const dir = mkdtempSync(join(tmpdir(), "cordon-sockets-canonical-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a socket bound through a symlinked directory, or with '..', is listed where its file is", async () => {
    mkdirSync(join(dir, "real"));
    symlinkSync("real", join(dir, "link"));
    const listener = Bun.spawn(
      [
        "python3",
        "-c",
        "import socket,sys,time\nkeep=[]\nfor p in sys.argv[1:]:\n s=socket.socket(socket.AF_UNIX);s.bind(p)\n" +
          " s.listen();keep.append(s)\nprint(1,flush=True);time.sleep(30)",
        join(dir, "link/a.sock"),
        `${dir}/real/../real/b.sock`,
      ],
      { stdout: "pipe", stderr: "inherit" },
    );
    try {
      await listener.stdout.getReader().read();
      const found = hostUnixSockets().paths;
      expect(found).toContain(join(realpathSync(dir), "real/a.sock"));
      expect(found).toContain(join(realpathSync(dir), "real/b.sock"));
      expect(found.some((path) => path.includes("/link/") || path.includes(".."))).toBe(false);
    } finally {
      listener.kill();
    }
  });
});
