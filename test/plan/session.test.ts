// The command's session follows one host fact: is one of descriptors 0-2
// cordon's controlling terminal?
import { describe, expect, test } from "bun:test";
import { sessionPlanFor } from "../../src/plan/session.ts";

describe("sessionPlanFor", () => {
  test("a command interactive on the controlling terminal keeps the session, whichever descriptor it is", () => {
    for (const stdioFd of [0, 1, 2]) {
      const plan = sessionPlanFor({ exists: true, stdioFd });
      expect(plan.session).toBe("inherit");
      expect(plan.why).toContain(`descriptor ${stdioFd} is cordon's controlling terminal`);
    }
  });

  test("stdio away from the controlling terminal (pipes, files, another terminal) gets a new session", () => {
    const plan = sessionPlanFor({ exists: true });
    expect(plan.session).toBe("new");
    expect(plan.why).toContain("none of descriptors 0-2 is cordon's controlling terminal");
    expect(plan.why).toContain("ENXIO");
  });

  test("without any controlling terminal (CI, a daemon) the command gets a new session too", () => {
    const plan = sessionPlanFor({ exists: false });
    expect(plan.session).toBe("new");
    expect(plan.why).toContain("cordon has no controlling terminal");
  });
});
