// Options are checked against their raw bytes: one that is not UTF-8 is
// refused and named, in every spelling; the command's arguments are not.
import { describe, expect, test } from "bun:test";
import { parseCommandLine } from "../../src/cli/args.ts";
import runDefinition from "../../src/cli/commands/run.ts";
import { checkOptionsAreUtf8 } from "../../src/cli/utf8.ts";
import { CordonError } from "../../src/errors.ts";

/**
 * Arguments as the kernel holds them (latin1: one character per byte) and
 * as Bun decodes them (U+FFFD in place of each invalid byte), checked.
 */
function check(latin1: string[]): void {
  const raw = latin1.map((arg) => Buffer.from(arg, "latin1"));
  const decoded = raw.map((bytes) => new TextDecoder().decode(bytes));
  checkOptionsAreUtf8(raw, parseCommandLine(decoded, runDefinition.options, "usage"));
}

function refusal(latin1: string[]): CordonError {
  try {
    check(latin1);
  } catch (error) {
    if (error instanceof CordonError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(latin1)} was accepted`);
}

describe("checkOptionsAreUtf8", () => {
  test("each spelling of an option names the option and shows only its value's bytes", () => {
    const message = (args: string[]) => refusal([...args, "--", "true"]).message;
    expect(message(["--deny-read", "sec\xe9.env"])).toStartWith("--deny-read sec\\xe9.env: not valid UTF-8");
    expect(message(["--deny-read=sec\xe9.env"])).toStartWith("--deny-read sec\\xe9.env: not valid UTF-8");
    expect(message(["-vw/tmp/\xff"])).toStartWith("-w /tmp/\\xff: not valid UTF-8");
    expect(message(["-C", "\xff"])).toStartWith("-C \\xff:");
    expect(message(["-w", ".", "--policy", "p\xfe.yaml"])).toStartWith("--policy p\\xfe.yaml:");
    expect(message(["--env", "A=\xff"])).toStartWith("--env A=\\xff:");
  });

  test("the refusal says nothing was run or created", () => {
    expect(refusal(["--deny-write", "\xff", "--", "true"]).hint).toContain("Nothing was run or created");
  });

  test("the command's own arguments stay bytes: after --, and from the first operand on", () => {
    expect(() => check(["-w", ".", "--", "printf", "%s", "x\xffy"])).not.toThrow();
    expect(() => check(["-w", ".", "printf", "%s", "x\xffy"])).not.toThrow();
    expect(() => check(["\xff"])).not.toThrow();
  });

  test("UTF-8 beyond ASCII, U+FFFD included, is text like any other", () => {
    expect(() => check(["--deny-read", Buffer.from("café\ufffd").toString("latin1"), "--", "true"])).not.toThrow();
  });
});
