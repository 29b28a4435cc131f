// gatherHostFacts, on this host.
import { expect, test } from "bun:test";
import { closeSync, openSync } from "node:fs";
import { gatherHostFacts } from "../../src/host/facts.ts";

test("open descriptors: the descriptor that listed /proc/self/fd is not counted as open", () => {
  // The lowest free number: the one the listing itself gets.
  const lowestFree = openSync("/dev/null", "r");
  closeSync(lowestFree);
  const facts = gatherHostFacts();
  expect(facts.openDescriptors).not.toContain(lowestFree);
  const held = openSync("/dev/null", "r");
  try {
    expect(gatherHostFacts().openDescriptors).toContain(held);
  } finally {
    closeSync(held);
  }
});

test("without a policy there are no identities to record; Landlock is probed", () => {
  const facts = gatherHostFacts();
  expect(facts.identities.size).toBe(0);
  expect(facts.landlock.abi).toBeGreaterThan(0);
});
