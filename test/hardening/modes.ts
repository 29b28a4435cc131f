// The sandbox modes the hardening suite attacks. Every attack test runs once
// per mode listed here.
export const MODES = ["landlock", "bwrap"] as const;

/** Every mode cordon has or will have, so the gap table below can name them all. */
export type Mode = (typeof MODES)[number];

/**
 * Attack classes a mode does NOT claim to stop, as documented (README,
 * `cordon explain`, the landlock-only warning). A test for a listed class
 * asserts that the gap is real in that mode, so it fails, and must be updated,
 * the day the mode starts closing it; in every other mode it asserts the
 * attack fails.
 */
export type Gap =
  // Landlock cannot restrict connect(2) to a unix socket file before ABI 9.
  "host-unix-socket-file";

export const KNOWN_GAPS: Record<Mode, ReadonlySet<Gap>> = {
  landlock: new Set<Gap>(["host-unix-socket-file"]),
  bwrap: new Set<Gap>(),
};

export function hasGap(mode: Mode, gap: Gap): boolean {
  return KNOWN_GAPS[mode].has(gap);
}
