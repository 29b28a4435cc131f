// Resource limits and the timeout: the `limits` object of a policy, its
// durations (`90s`, `10m`, `1h30m`) and sizes (`512M`, `2G`), and the
// defaults. Parsing only: how each limit is enforced is the plan's business.
import * as v from "valibot";

/** What a duration may say: hours, minutes, seconds and milliseconds, largest first, e.g. `1h30m`, `90s`, `500ms`. */
const DURATION = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
const SIZE = /^(\d+)([KMGT]?)(?:i?B)?$/i;
const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * The longest duration cordon takes: 24 days. A timer's delay is a signed
 * 32-bit count of milliseconds (24.8 days); past it Bun, like Node, fires
 * after 1 ms instead, which would end the run at once.
 */
export const MAX_DURATION_MS = 24 * 24 * 3600 * 1000;

/** A duration in milliseconds, or undefined if `text` is none. A bare number means seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^\d+$/.test(text) ? [text, undefined, undefined, text, undefined] : DURATION.exec(text);
  if (!match || text === "") return undefined;
  const [hours, minutes, seconds, ms] = match.slice(1, 5).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
  ];
  const total = ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms;
  return total > 0 && total <= MAX_DURATION_MS ? total : undefined;
}

/** A size in bytes (K, M, G, T are powers of 1024; `512M`, `2G`, `1GiB`), or undefined if `text` is none. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const bytes = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size as people write it: the largest unit that divides it. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ["T", 1024 ** 4],
    ["G", 1024 ** 3],
    ["M", 1024 ** 2],
    ["K", 1024],
  ] as const) {
    if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}`;
}

/** A duration as people write it, e.g. `1h30m`, `90s` stays `1m30s`. */
export function formatDuration(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  const rest = ms % 1000;
  const parts = [hours && `${hours}h`, minutes && `${minutes}m`, seconds && `${seconds}s`, rest && `${rest}ms`];
  return parts.filter(Boolean).join("") || "0s";
}

/**
 * A field written as text or a number, read by `parse`; a value it cannot
 * read is an issue that shows the value as written (a plain transform would
 * show what it made of it: nothing).
 */
const readAs = (parse: (text: string) => number | undefined, message: string) =>
  v.pipe(
    v.union([v.string(), v.number()], message),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const value = parse(String(dataset.value));
      if (value === undefined) {
        addIssue({ message });
        return NEVER;
      }
      return value;
    }),
  );

const Duration = readAs(parseDuration, "must be a duration such as 90s, 10m or 1h30m (up to 24 days)");
const Size = readAs(parseSize, "must be a size such as 512M or 2G (K, M, G, T: powers of 1024)");
const Count = (least: number, most: number, why = "") =>
  readAs((text) => {
    const count = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    return count >= least && count <= most ? count : undefined;
  }, `must be a whole number, ${least}-${most}${why}`);

/**
 * The fewest processes --pids takes. Stage 2 joins the sandbox's cgroup as
 * its last step before execve, but it is a runtime with threads: under a
 * smaller limit, a thread it starts in that moment is refused and it aborts.
 */
export const MIN_PIDS = 8;

/** The `limits` object of a policy file, a profile and the flags; each field overrides an earlier layer's. */
export const LimitsSchema = v.strictObject({
  timeout: v.optional(Duration),
  killAfter: v.optional(Duration),
  memory: v.optional(Size),
  pids: v.optional(Count(MIN_PIDS, 4_194_304, ` (cordon's own stage 2 counts against it until it starts the command)`)),
  cpuTime: v.optional(Duration),
  fileSize: v.optional(Size),
  openFiles: v.optional(Count(1, 1_048_576)),
  tmpSize: v.optional(Size),
});

export type LimitsLayer = v.InferOutput<typeof LimitsSchema>;

/** The limits of one run: durations in milliseconds, sizes in bytes; absent means none. */
export interface Limits {
  /** Wall clock from the sandbox's start; on expiry SIGTERM to every process of it, exit 124. */
  timeout?: number;
  /** After the timeout's SIGTERM, how long until SIGKILL. */
  killAfter: number;
  memory?: number;
  pids?: number;
  /** CPU time of each process (RLIMIT_CPU): SIGXCPU at the limit, SIGKILL a second later. */
  cpuTime?: number;
  fileSize?: number;
  openFiles?: number;
  /** The size of each private tmpfs (bwrap mode's /tmp and /dev/shm). */
  tmpSize: number;
}

/** What the timeout's SIGTERM leaves the sandbox before SIGKILL, as timeout(1)'s -k. */
export const DEFAULT_KILL_AFTER_MS = 10_000;
/**
 * bwrap mode's /tmp and /dev/shm get 1 GiB each unless told otherwise: a
 * build's scratch files fit, and the two together (shmem, which the OOM
 * killer cannot pin on anyone) stay at 2 GiB instead of the kernel's 50% of
 * RAM each.
 */
export const DEFAULT_TMP_SIZE = 1024 ** 3;

/** The kernel's cgroup controllers that hold the limits only a cgroup can hold for a whole sandbox. */
export type CgroupController = "memory" | "pids";
export const CGROUP_CONTROLLERS: readonly CgroupController[] = ["memory", "pids"];

/** The controllers `limits` needs. */
export function cgroupControllersFor(limits: Pick<Limits, "memory" | "pids">): CgroupController[] {
  return CGROUP_CONTROLLERS.filter((controller) => limits[controller] !== undefined);
}

export const NO_LIMITS: Limits = { killAfter: DEFAULT_KILL_AFTER_MS, tmpSize: DEFAULT_TMP_SIZE };

export function applyLimits(base: Limits, layer: LimitsLayer | undefined): Limits {
  const merged: Limits = { ...base };
  for (const [key, value] of Object.entries(layer ?? {}) as [keyof Limits, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

export const LIMITS_DESCRIPTION =
  "Resource limits and the timeout (flags of the same names): `timeout` (`--timeout`, a duration such as " +
  "`90s`, `10m`, `1h30m`: wall clock from the sandbox's start; then SIGTERM to every process of it, SIGKILL " +
  "after `killAfter`, default 10s, and exit status 124), `memory` (`--memory`, a size such as `512M`), " +
  "`pids` (`--pids`, at least 8), `cpuTime` (`--cpu-time`: CPU time per process), `fileSize` " +
  "(`--file-size`: the largest file the command may write), `openFiles` (`--open-files`), `tmpSize` " +
  "(`--tmp-size`: the size of bwrap mode's private `/tmp` and of its `/dev/shm`, each; default 1G). See the " +
  "README's Limits section for how each is enforced in each mode.";
