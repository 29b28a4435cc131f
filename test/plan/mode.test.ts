// Which mode a run uses: one pure function of the request and the host.
import { describe, expect, test } from "bun:test";
import { decideMode, type ModeInputs } from "../../src/plan/mode.ts";
import { CATALOG, type Degradation } from "../../src/policy/degradations.ts";

describe("decideMode (shared by run and explain through prepareRun)", () => {
  const found = { found: true as const, path: "/usr/bin/bwrap", real: "/usr/bin/bwrap", explicit: false };
  const missing = { found: false as const, reason: "bubblewrap is not installed", explicit: false };
  const loss = (consequence: string): Degradation => ({ ...CATALOG["unix-sockets"], consequence });
  const base: ModeInputs = { requested: "auto", landlockAbi: 7, bwrap: found, landlockOnly: [] };
  test("auto tries bwrap first, and uses it when it works", () => {
    expect(decideMode(base)).toMatchObject({ kind: "run", mode: "bwrap" });
    expect(decideMode({ ...base, bwrapStarts: true })).toMatchObject({ kind: "run", mode: "bwrap" });
  });
  test("auto falls back to landlock-only when bwrap fails or is missing and nothing is lost", () => {
    expect(decideMode({ ...base, bwrapStarts: false })).toMatchObject({ kind: "run", mode: "landlock" });
    expect(decideMode({ ...base, bwrap: missing })).toMatchObject({ kind: "run", mode: "landlock" });
  });
  test("auto refuses when landlock-only mode would lose something", () => {
    const decision = decideMode({ ...base, bwrapStarts: false, landlockOnly: [loss("tcp ports")] });
    expect(decision).toMatchObject({ kind: "refuse", attempted: "bwrap" });
    expect(decision.reason).toContain("tcp ports");
  });
  test("--mode bwrap refuses without a working bwrap; --mode landlock never looks", () => {
    expect(decideMode({ ...base, requested: "bwrap", bwrap: missing })).toMatchObject({ kind: "refuse" });
    expect(decideMode({ ...base, requested: "bwrap", bwrapStarts: false })).toMatchObject({ kind: "refuse" });
    expect(decideMode({ ...base, requested: "landlock", bwrap: undefined })).toMatchObject({
      kind: "run",
      mode: "landlock",
    });
    // Asking for landlock-only mode accepts what it loses; the decision says so.
    const accepted = decideMode({ ...base, requested: "landlock", bwrap: undefined, landlockOnly: [loss("x")] });
    expect(accepted).toMatchObject({ kind: "run", mode: "landlock" });
    expect(accepted.reason).toContain("accepting: x");
  });
  test("no Landlock refuses every mode", () => {
    for (const requested of ["auto", "bwrap", "landlock"] as const) {
      expect(decideMode({ ...base, requested, landlockAbi: 0 }).kind).toBe("refuse");
    }
  });
  test("a bwrap inside something the sandbox can write is refused, and an unusable --bwrap too", () => {
    const planted = { found: true as const, path: "/ws/bin/bwrap", real: "/ws/bin/bwrap", explicit: true };
    const refused = decideMode({ ...base, bwrap: planted, writable: ["/ws"] });
    expect(refused).toMatchObject({ kind: "refuse", attempted: "bwrap" });
    expect(refused.reason).toContain("inside /ws");
    const explicit = { found: false as const, reason: "--bwrap x: must be an absolute path", explicit: true };
    expect(decideMode({ ...base, bwrap: explicit })).toMatchObject({ kind: "refuse" });
    // landlock-only mode never uses bwrap, so neither matters there.
    expect(decideMode({ ...base, requested: "landlock", bwrap: planted, writable: ["/ws"] })).toMatchObject({
      kind: "run",
    });
    expect(decideMode({ ...base, requested: "landlock", bwrap: explicit })).toMatchObject({ kind: "run" });
  });
});
