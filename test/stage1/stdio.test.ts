// stdin and stdout pass through unchanged, and the command gets default
// SIGPIPE/SIGXFSZ dispositions (Bun ignores both, and ignoring survives exec).
import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CORDON, cordon, missingTool, scratchDir, startCordon, statusOf, modeArgs } from "../helpers/cordon.ts";

const LL = [...modeArgs("landlock"), "-q"];
const cleanup: string[] = [];
afterEach(() => {
  for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
});

describe("stdio", () => {
  test("a 100 MB stream passes stdin -> command -> stdout byte for byte", async () => {
    const dir = scratchDir();
    cleanup.push(dir);
    const input = join(dir, "input");
    const expected = new Bun.CryptoHasher("sha256");
    const fd = openSync(input, "w");
    const chunk = 1024 * 1024;
    for (let i = 0; i < 100; i++) {
      const bytes = randomBytes(chunk);
      expected.update(bytes);
      writeSync(fd, bytes);
    }
    closeSync(fd);

    const proc = startCordon([...LL, "--", "cat"], { stdinFile: input });
    const actual = new Bun.CryptoHasher("sha256");
    let count = 0;
    for await (const piece of proc.stdout as ReadableStream<Uint8Array>) {
      actual.update(piece);
      count += piece.length;
    }
    await proc.exited;
    expect(statusOf(proc)).toBe(0);
    expect(count).toBe(100 * chunk);
    expect(actual.digest("hex")).toBe(expected.digest("hex"));
  });

  test("stdin given as text reaches the command", () => {
    const result = cordon([...LL, "--", "tr", "a-z", "A-Z"], { stdin: "hello\n" });
    expect(result.stdout).toBe("HELLO\n");
    expect(result.exitCode).toBe(0);
  });

  test("stderr passes through", () => {
    const result = cordon([...LL, "--", "sh", "-c", "echo to-err >&2"]);
    expect(result.stderr).toBe("to-err\n");
  });

  test.skipIf(Boolean(missingTool("yes")))("yes | head -1 ends quietly: SIGPIPE is back to default", () => {
    const result = cordon([...LL, "--", "sh", "-c", "yes | head -n 1"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("y\n");
    expect(result.stderr).toBe("");
  });

  test("no signal is ignored or blocked in the command", () => {
    const result = cordon([...LL, "--", "cat", "/proc/self/status"]);
    const field = (name: string) =>
      BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)`, "m").exec(result.stdout)?.[1] ?? "ffff"}`);
    const SIGPIPE_BIT = 1n << 12n;
    const SIGXFSZ_BIT = 1n << 24n;
    expect(field("SigIgn") & (SIGPIPE_BIT | SIGXFSZ_BIT)).toBe(0n);
    expect(field("SigIgn")).toBe(0n);
    expect(field("SigBlk")).toBe(0n);
  });
});

describe("-v leaves the command's stdio alone", () => {
  // cordon once relayed stderr under -v to hint at denied paths: the command's fd 2 became a
  // socket of cordon's, so `2>file` and `2>&1` ordering changed. Now -v only adds cordon's own lines.
  test.each(["bwrap", "landlock"])("%s mode: fd 2 is the same file with and without -v", (mode) => {
    const dir = scratchDir();
    cleanup.push(dir);
    const run = `"$0" $v ${modeArgs(mode).join(" ")} -q -- readlink /proc/self/fd/2 2>>"$1/err"`;
    const script = `for v in "" -v; do ${run}; done`;
    const result = Bun.spawnSync(["sh", "-c", script, CORDON, dir], { stdout: "pipe", stderr: "pipe" });
    const [plain, verbose] = result.stdout.toString().trim().split("\n");
    expect(plain).toBe(join(dir, "err"));
    expect(verbose).toBe(plain);
  });
});
