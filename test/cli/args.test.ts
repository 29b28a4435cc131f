// The strict option parser: a sandbox must reject what it does not understand.
import { describe, expect, test } from "bun:test";
import { parseCommandLine } from "../../src/cli/args.ts";
import runDefinition from "../../src/cli/commands/run.ts";
import { CordonError } from "../../src/errors.ts";

const parse = (input: string[]) => parseCommandLine(input, runDefinition.options, "usage");

function refusal(input: string[]): string {
  try {
    parse(input);
  } catch (error) {
    expect(error).toBeInstanceOf(CordonError);
    expect((error as CordonError).exitCode).toBe(125);
    return (error as CordonError).message;
  }
  throw new Error(`${JSON.stringify(input)} was accepted`);
}

describe("parseCommandLine", () => {
  test("options, then -- and the command", () => {
    const parsed = parse(["-w", "a", "--net", "--", "sh", "-c", "true"]);
    expect(parsed.options).toEqual({ write: ["a"], net: true });
    expect(parsed.command).toEqual(["sh", "-c", "true"]);
    expect(parsed.commandStart).toBe(4);
  });

  test("unknown options are refused, long and short, before and after valid ones", () => {
    expect(refusal(["--deny-wirte", "x", "--", "true"])).toContain("unknown option --deny-wirte");
    expect(refusal(["-x", "--", "true"])).toContain("unknown option -x");
    expect(refusal(["-w", "a", "--bogus", "--", "true"])).toContain("--bogus");
    expect(refusal(["-vz", "--", "true"])).toContain("-z");
    expect(refusal(["--w", "a", "--", "true"])).toContain("unknown option --w");
  });

  test("-w is repeatable and keeps the order; all spellings collect", () => {
    const parsed = parse(["-w", "a", "--write", "b", "--write=c", "-wd", "-w", "a", "--", "true"]);
    expect(parsed.options.write).toEqual(["a", "b", "c", "d", "a"]);
  });

  test("-wPATH and --write=PATH keep everything after the flag, including = and -", () => {
    expect(parse(["-w/x=y", "--", "true"]).options.write).toEqual(["/x=y"]);
    expect(parse(["--write=-odd", "--", "true"]).options.write).toEqual(["-odd"]);
    expect(parse(["-w", "-odd", "--", "true"]).options.write).toEqual(["-odd"]);
  });

  test("short clusters: -vq, and a value-taking letter ends the cluster", () => {
    expect(parse(["-vq", "--", "true"]).options).toEqual({ verbose: true, quiet: true });
    expect(parse(["-vwdir", "--", "true"]).options).toEqual({ verbose: true, write: ["dir"] });
    expect(parse(["-vC", "/tmp", "--", "true"]).options).toEqual({ verbose: true, cwd: "/tmp" });
  });

  test("the first operand starts the command, and later options belong to it", () => {
    const parsed = parse(["-v", "echo", "-w", "--net", "--"]);
    expect(parsed.options).toEqual({ verbose: true });
    expect(parsed.command).toEqual(["echo", "-w", "--net", "--"]);
    expect(parsed.commandStart).toBe(1);
    expect(parse(["-", "x"]).command).toEqual(["-", "x"]);
  });

  test("only the first -- ends the options", () => {
    expect(parse(["--", "--", "-v"]).command).toEqual(["--", "-v"]);
    expect(parse(["--"]).command).toEqual([]);
    expect(parse([]).command).toEqual([]);
  });

  test("--mode takes only auto, bwrap or landlock", () => {
    expect(parse(["--mode", "landlock", "--", "true"]).options.mode).toBe("landlock");
    expect(parse(["--mode=auto", "--", "true"]).options.mode).toBe("auto");
    expect(refusal(["--mode", "docker", "--", "true"])).toContain("expected one of auto, bwrap, landlock");
    expect(refusal(["--mode=", "--", "true"])).toContain("expected one of");
    expect(refusal(["--mode", "Landlock", "--", "true"])).toContain("expected one of");
  });

  test("a missing value is refused", () => {
    expect(refusal(["-w"])).toContain("-w needs a value");
    expect(refusal(["--write"])).toContain("--write needs a value");
    expect(refusal(["--mode"])).toContain("--mode needs a value");
    expect(refusal(["-C"])).toContain("-C needs a value");
  });

  test("a boolean option takes no value", () => {
    expect(refusal(["--net=yes", "--", "true"])).toContain("--net takes no value");
  });

  test("a single-valued option given twice must agree", () => {
    expect(refusal(["--mode", "landlock", "--mode", "auto", "--", "true"])).toContain("twice");
    expect(refusal(["-C", "/a", "--cwd", "/b", "--", "true"])).toContain("twice");
    expect(parse(["--net", "--net", "--", "true"]).options.net).toBe(true);
    expect(parse(["-C", "/a", "--cwd=/a", "--", "true"]).options.cwd).toBe("/a");
  });
});
