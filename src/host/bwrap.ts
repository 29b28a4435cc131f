// Where bubblewrap is, and whether it works here. Never PATH: only the
// trusted locations or an explicit --bwrap. Whether a found bwrap may be used
// (it must lie outside everything the sandbox can write) is the planner's
// decision, made from the canonical path recorded here.
import { accessSync, constants, existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { messageOf } from "../errors.ts";

const TRUSTED_BWRAP_PATHS = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"] as const;

export type BwrapLocation =
  /** `real` is the canonical path: the one checked against the write roots. `explicit`: named by --bwrap. */
  | { found: true; path: string; real: string; explicit: boolean }
  /** `explicit`: --bwrap named something unusable, which every mode but landlock-only refuses. */
  | { found: false; reason: string; explicit: boolean };

function usable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function locateBwrap(explicit: string | undefined): BwrapLocation {
  if (explicit !== undefined) {
    if (!isAbsolute(explicit))
      return { found: false, reason: `--bwrap ${explicit}: must be an absolute path`, explicit: true };
    if (!usable(explicit))
      return { found: false, reason: `--bwrap ${explicit}: not an executable file`, explicit: true };
    return { found: true, path: explicit, real: realpathSync(explicit), explicit: true };
  }
  const candidate = TRUSTED_BWRAP_PATHS.find(usable);
  if (candidate) return { found: true, path: candidate, real: realpathSync(candidate), explicit: false };
  return {
    found: false,
    reason: `bubblewrap is not installed (looked in ${TRUSTED_BWRAP_PATHS.join(", ")})`,
    explicit: false,
  };
}

/**
 * The namespaces every cordon sandbox asks bwrap for. --unshare-user is
 * explicit because --disable-userns requires it (--unshare-all only tries).
 */
export const BWRAP_UNSHARE_ARGS = ["--unshare-all", "--unshare-user", "--disable-userns"] as const;

/**
 * The capabilities stage 2 starts with: CAP_SYS_ADMIN to mount the deny paths
 * (in a mount namespace of its own), CAP_SETPCAP to empty the bounding set
 * when it drops them all. --cap-add alone would leave a root caller
 * everything. A setuid bwrap refuses --cap-add from a non-root caller.
 */
export const BWRAP_CAPABILITY_ARGS = [
  "--cap-drop",
  "ALL",
  "--cap-add",
  "CAP_SYS_ADMIN",
  "--cap-add",
  "CAP_SETPCAP",
] as const;

/** The options every cordon sandbox uses that can fail on a restricted host. */
const BWRAP_PROBE_ARGS = [
  ...BWRAP_UNSHARE_ARGS,
  "--die-with-parent",
  ...BWRAP_CAPABILITY_ARGS,
  ...["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"],
];

/** A real attempt at a sandbox: the only reliable answer to "does bwrap mode work here?". */
export interface BwrapAttempt {
  version?: string;
  /** The attempt created the namespaces, mounted /proc and /dev, brought up loopback and ran /bin/true. */
  works: boolean;
  status: number;
  /** What bwrap printed (trimmed), e.g. "bwrap: setting up uid map: Permission denied". */
  message: string;
}

function trueBinary(): string {
  return ["/usr/bin/true", "/bin/true"].find((path) => existsSync(path)) ?? "/bin/true";
}

function spawnQuietly(cmd: string[]): { status: number; stdout: string; stderr: string } {
  try {
    // A clean environment, like run's: no LD_PRELOAD reaches bwrap.
    const result = Bun.spawnSync({
      cmd,
      env: {},
      cwd: "/",
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
    });
    return { status: result.exitCode ?? 128, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
  } catch (error) {
    return { status: 127, stdout: "", stderr: messageOf(error) };
  }
}

export function attemptBwrap(path: string): BwrapAttempt {
  const version = spawnQuietly([path, "--version"]);
  const attempt = spawnQuietly([path, ...BWRAP_PROBE_ARGS, "--", trueBinary()]);
  return {
    version: version.status === 0 ? version.stdout.trim().replace(/^bubblewrap\s+/, "") : undefined,
    works: attempt.status === 0,
    status: attempt.status,
    message: attempt.stderr.trim(),
  };
}
