// --preserve-fds N passes descriptors 3..3+N-1 on; without it, none above 2
// reaches the command. And a deny path's placeholder is gone even when the
// run ends on SIGTERM.
import { describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CORDON, requireBinary, scratchDir, modeArgs } from "../helpers/cordon.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

describe.each(MODES)("descriptors and cleanup in %s mode", (mode) => {
  test("--preserve-fds 1 passes fd 3 on; without it the command cannot use it", async () => {
    requireBinary();
    const dir = scratchDir("cordon-fds-");
    const out = join(dir, "out");
    const fd = openSync(out, "a");
    try {
      const write = ["sh", "-c", "echo through-fd-3 >&3 && echo wrote || echo refused"];
      const run = async (extra: string[]) => {
        const child = Bun.spawn([CORDON, ...modeArgs(mode), "-q", ...extra, "--", ...write], {
          stdio: ["ignore", "pipe", "pipe", fd],
        });
        await child.exited;
        return (await new Response(child.stdout).text()).trim();
      };
      expect(await run([])).toBe("refused");
      expect(readFileSync(out, "utf8")).toBe("");
      expect(await run(["--preserve-fds", "1"])).toBe("wrote");
      expect(readFileSync(out, "utf8")).toBe("through-fd-3\n");
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--preserve-fds naming descriptors the caller did not pass is refused", () => {
    // Nothing is open above 2 in the caller: cordon's own event loop sits at 3.
    const result = Bun.spawnSync([CORDON, ...modeArgs(mode), "--preserve-fds", "5", "--", "true"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(result.exitCode).toBe(125);
    expect(result.stderr.toString()).toContain("descriptor 3 was not passed to cordon: it is the runtime's own");
  });

  test("a missing deny path's placeholder is removed when cordon is stopped with SIGTERM", async () => {
    requireBinary();
    const dir = scratchDir("cordon-placeholder-");
    mkdirSync(join(dir, ".git"));
    try {
      const child = Bun.spawn(
        [
          CORDON,
          ...modeArgs(mode),
          "-q",
          "-w",
          dir,
          "--deny-write",
          join(dir, ".git", "hooks"),
          "--",
          "sh",
          "-c",
          "echo ready; sleep 30",
        ],
        {
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      await child.stdout.getReader().read();
      child.kill("SIGTERM");
      expect(await child.exited).toBe(143);
      expect(existsSync(join(dir, ".git", "hooks"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
