// A real bubblewrap attempt with the namespaces and mounts cordon asks for:
// the only reliable answer to "does bwrap mode work here?". Used by doctor,
// explain (to predict auto mode) and the diagnosis of a failed run.
import { existsSync } from "node:fs";
import { CordonError } from "../errors.ts";
import { locateBwrap } from "../stage1/bwrap-locate.ts";

/** The options every cordon sandbox uses that can fail on a restricted host. */
export const BWRAP_PROBE_ARGS = [
  "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
  "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
] as const;

export type BwrapProbe =
  | { found: false; reason: string }
  | {
      found: true;
      path: string;
      version?: string;
      /** The attempt created the namespaces, mounted /proc and /dev, brought up loopback and ran /bin/true. */
      works: boolean;
      status: number;
      /** What bwrap printed (trimmed), e.g. "bwrap: setting up uid map: Permission denied". */
      message: string;
    };

function trueBinary(): string {
  return ["/usr/bin/true", "/bin/true"].find((path) => existsSync(path)) ?? "/bin/true";
}

function spawnQuietly(cmd: string[]): { status: number; stdout: string; stderr: string } {
  try {
    // A clean environment, like run's: no LD_PRELOAD reaches bwrap.
    const result = Bun.spawnSync({ cmd, env: {}, cwd: "/", stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    return { status: result.exitCode ?? 128, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  } catch (error) {
    return { status: 127, stdout: "", stderr: error instanceof Error ? error.message : String(error) };
  }
}

/** Locates bwrap as `run` does (never PATH) and attempts a sandbox with it. */
export function probeBwrap(explicit: string | undefined, writable: readonly string[] = []): BwrapProbe {
  let location;
  try {
    location = locateBwrap(explicit, writable);
  } catch (error) {
    if (error instanceof CordonError) return { found: false, reason: error.message };
    throw error;
  }
  if (!location.found) return location;
  const version = spawnQuietly([location.path, "--version"]);
  const attempt = spawnQuietly([location.path, ...BWRAP_PROBE_ARGS, "--", trueBinary()]);
  return {
    found: true,
    path: location.path,
    version: version.status === 0 ? version.stdout.trim().replace(/^bubblewrap\s+/, "") : undefined,
    works: attempt.status === 0,
    status: attempt.status,
    message: attempt.stderr.trim(),
  };
}
