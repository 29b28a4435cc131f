// A subset of the landlock-only checks as the unprivileged user nobody, so
// enforcement does not depend on running as root.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  CORDON,
  cordonAsync,
  finish,
  isRoot,
  missingSystemTool,
  NOBODY,
  run,
  scratchDir,
  start,
  systemTool,
  waitFor,
  modeArgs,
} from "../helpers/cordon.ts";
import { CONNECT_SCRIPT, listenLocal } from "../helpers/net.ts";

const LL = [...modeArgs("landlock"), "-q"];
const PYTHON = systemTool("python3") ?? "python3";

/** Why these tests cannot run here: setpriv needs root, and nobody must reach the binary. */
function unprivilegedUnavailable(): string | undefined {
  if (!isRoot) return "needs root to switch to nobody";
  if (!systemTool("setpriv")) return "setpriv is not installed";
  if (run(["test", "-x", CORDON], { asNobody: true }).exitCode !== 0) return `nobody cannot execute ${CORDON}`;
  return undefined;
}
const skip = Boolean(unprivilegedUnavailable());

const cleanup: string[] = [];
afterEach(() => {
  for (const path of cleanup.splice(0)) rmSync(path, { recursive: true, force: true });
});
function nobodyDir(): string {
  const dir = scratchDir("cordon-nobody-", NOBODY);
  cleanup.push(dir);
  return dir;
}

describe.skipIf(skip)("as nobody", () => {
  test("the command runs as nobody", () => {
    const dir = nobodyDir();
    const result = run([CORDON, ...LL, "--", "id", "-u"], { asNobody: true, cwd: dir });
    expect(result.stdout.trim()).toBe(String(NOBODY));
  });

  test("writes inside a write root work, writes to another directory nobody owns do not", () => {
    const root = nobodyDir();
    const other = nobodyDir();
    // nobody can write `other` without cordon: only the sandbox stops it.
    expect(run(["sh", "-c", `touch ${other}/probe && rm ${other}/probe`], { asNobody: true }).exitCode).toBe(0);
    const script = `touch ${root}/ok && echo "$TMPDIR" && touch "$TMPDIR/t" && touch ${other}/nope`;
    const result = run([CORDON, ...LL, "-w", root, "--", "sh", "-c", script], { asNobody: true, cwd: root });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Permission denied");
    expect(existsSync(join(root, "ok"))).toBe(true);
    expect(existsSync(join(other, "nope"))).toBe(false);
    expect(existsSync(result.stdout.trim())).toBe(false);
  });

  test.each([0, 1, 42])("exit %d is passed through", (code) => {
    const dir = nobodyDir();
    expect(run([CORDON, ...LL, "--", "sh", "-c", `exit ${code}`], { asNobody: true, cwd: dir }).exitCode).toBe(code);
  });

  test("death by SIGTERM gives 143", () => {
    const dir = nobodyDir();
    expect(run([CORDON, ...LL, "--", "sh", "-c", "kill -TERM $$"], { asNobody: true, cwd: dir }).exitCode).toBe(143);
  });

  describe.skipIf(Boolean(missingSystemTool("python3")))("network", () => {
    const listener = listenLocal();
    afterAll(() => listener.stop());

    test("blocked by default, allowed with --net", async () => {
      const dir = nobodyDir();
      // nobody can connect without cordon.
      const plain = await finish(
        start([PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)], { asNobody: true, cwd: dir }),
      );
      expect(plain.stdout.trim()).toBe("connected");
      await waitFor(() => listener.connections() === 1, "the control connection");

      const denied = await cordonAsync([...LL, "--", PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)], {
        asNobody: true,
        cwd: dir,
      });
      expect(denied.stdout.trim()).toBe("errno 1");
      expect(denied.exitCode).toBe(3);

      const allowed = await cordonAsync([...LL, "--net", "--", PYTHON, "-c", CONNECT_SCRIPT, String(listener.port)], {
        asNobody: true,
        cwd: dir,
      });
      expect(allowed.stdout.trim()).toBe("connected");
      await waitFor(() => listener.connections() >= 2, "the allowed connection");
      // Exactly the control and the allowed connection arrived, not the denied one.
      expect(listener.connections()).toBe(2);
    });
  });
});
