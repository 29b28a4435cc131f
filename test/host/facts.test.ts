// gatherHostFacts, on this host.
import { expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { gatherHostFacts } from "../../src/host/facts.ts";
import { applyLayer } from "../../src/policy/compose.ts";
import { resolvePolicy } from "../../src/policy/resolve.ts";
import { EMPTY_POLICY } from "../../src/policy/schema.ts";
import { scratchDir } from "../helpers/cordon.ts";

test("open descriptors: the descriptor that listed /proc/self/fd is not counted as open", () => {
  // The lowest free number: the one the listing itself gets.
  const lowestFree = openSync("/dev/null", "r");
  closeSync(lowestFree);
  const fds = (facts: ReturnType<typeof gatherHostFacts>) => facts.descriptors.now.map((open) => open.fd);
  expect(fds(gatherHostFacts())).not.toContain(lowestFree);
  const held = openSync("/dev/null", "r");
  try {
    const now = gatherHostFacts().descriptors.now.find((open) => open.fd === held);
    expect(now).toMatchObject({ fd: held, target: "/dev/null", closeOnExec: true });
  } finally {
    closeSync(held);
  }
});

test("without a policy there are no identities to record; Landlock is probed", () => {
  const facts = gatherHostFacts();
  expect(facts.identities.size).toBe(0);
  expect(facts.landlock.abi).toBeGreaterThan(0);
});

// Suspected bug (src/host/facts.ts, withAncestors in policyPaths): the walk up from a deny path
// stops at the first path already recorded, assuming its ancestors are recorded too, but the
// working directory and the write roots go in without theirs. A deny path below the working
// directory and outside the write roots (`cd ~ && cordon -w ~/proj`, with the secure default
// on ~/.ssh) then lacks the identities of / and of each directory above the working
// directory, which its deny mount walks from /, and planSandbox refuses the run in bwrap mode
// ("/home disappeared while cordon planned the run").
test("identities: every component from / down to each deny path, whatever the working directory", () => {
  const dir = realpathSync(scratchDir("cordon-facts-"));
  try {
    mkdirSync(join(dir, "proj"));
    mkdirSync(join(dir, "home"));
    mkdirSync(join(dir, ".ssh"));
    const layer = { write: ["proj"], denyRead: [join(dir, ".ssh")] };
    const policy = resolvePolicy(applyLayer(EMPTY_POLICY, layer), { cwd: dir, home: join(dir, "home"), env: {} });
    const { identities } = gatherHostFacts({ policy });
    for (let at = join(dir, ".ssh"); ; at = dirname(at)) {
      expect(identities.has(at) ? at : `${at} (missing)`).toBe(at);
      if (at === "/") break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
