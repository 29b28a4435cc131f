import { describe, expect, test } from "bun:test";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { cordon, scratchDir } from "../helpers/cordon.ts";

describe("landlock-only smoke", () => {
  test("a write root is writable and /etc is not", () => {
    const dir = scratchDir();
    try {
      const result = cordon(["--mode", "landlock", "-w", ".", "--", "sh", "-c", "touch ok; touch /etc/cordon-nope"], { cwd: dir });
      expect(result.exitCode).toBe(1);
      expect(existsSync(join(dir, "ok"))).toBe(true);
      expect(existsSync("/etc/cordon-nope")).toBe(false);
      expect(result.stderr).toContain("Permission denied");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
