// A runok config's sandbox presets run under cordon (--runok-config FILE
// --runok-preset NAME), against the real binary: the same presets runok
// applies, so a CI job can run them without runok.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cordon, missingTool, modeArgs, scratchDir } from "../helpers/cordon.ts";

const MODES = existsSync("/usr/bin/bwrap") ? (["bwrap", "landlock"] as const) : (["landlock"] as const);

// runok's documented example (docs/src/content/docs/sandbox/overview.md), with <path:name> references.
const CONFIG = `
extends: []
rules:
  - allow: 'npm test'
    sandbox: restricted
definitions:
  paths:
    sensitive:
      - '.env*'
    secrets:
      - '~/.ssh'
  sandbox:
    restricted:
      fs:
        read:
          deny:
            - '<path:secrets>'
            - '<path:sensitive>'
        write:
          allow:
            - '.'
          deny:
            - '.git'
      network:
        allow: false
    legacy:
      fs:
        writable: ['.']
        deny: ['.git', 'src/locked']
    open-net: {}
`;

const NET_PROBE =
  "python3 -c \"import socket\ntry:\n socket.socket(socket.AF_INET); print('NET-OK')\n" +
  "except PermissionError: print('NET-EPERM')\"";

// Writes go to subdirectories without denied entries: in landlock-only mode a write-denied path costs
// its directory the right to create entries (README, Modes), a cost of that mode rather than of the runok translation.
describe.each(MODES)("--runok-config in %s mode", (mode) => {
  let project: string;
  let home: string;
  beforeAll(() => {
    project = scratchDir("cordon-runok-config-");
    mkdirSync(join(project, ".git"));
    mkdirSync(join(project, "src", "locked"), { recursive: true });
    mkdirSync(join(project, "lib"));
    writeFileSync(join(project, ".env.local"), "SECRET-DOTENV\n");
    writeFileSync(join(project, "runok.yml"), CONFIG);
    // Not under /tmp: bwrap mode gives the command a private /tmp.
    home = mkdtempSync("/var/tmp/cordon-runok-home-");
    mkdirSync(join(home, ".ssh"));
    writeFileSync(join(home, ".ssh", "id_ed25519"), "SECRET-SSH-KEY\n");
  });
  afterAll(() => {
    rmSync(project, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const c = (args: string[], cwd = project) => cordon([...modeArgs(mode), "-q", ...args], { cwd, env: { HOME: home } });

  test("a preset: '.' writable, .git read-only, <path:name> deny lists hidden, network denied", () => {
    const result = c([
      "--runok-config",
      "runok.yml",
      "--runok-preset",
      "restricted",
      "--",
      "sh",
      "-c",
      `touch src/new && echo WROTE; touch .git/x || echo GIT-RO; cat .env.local ${home}/.ssh/id_ed25519; ` +
        (missingTool("python3") ? "echo NET-EPERM" : NET_PROBE),
    ]);
    expect(result.stderr).not.toContain("unknown option");
    expect(result.stdout).toContain("WROTE");
    expect(result.stdout).toContain("GIT-RO");
    expect(result.stdout).not.toContain("SECRET");
    expect(result.stdout).toContain("NET-EPERM");
    expect(existsSync(join(project, ".git", "x"))).toBe(false);
  });

  test("paths resolve against the config's directory, as in runok, wherever the command runs", () => {
    const result = c(
      [
        "--runok-config",
        join(project, "runok.yml"),
        "--runok-preset",
        "restricted",
        "--",
        "sh",
        "-c",
        "cat ../.env.local; touch ../.git/y || echo GIT-RO",
      ],
      join(project, "src"),
    );
    expect(result.stdout).not.toContain("SECRET");
    expect(result.stdout).toContain("GIT-RO");
    expect(existsSync(join(project, ".git", "y"))).toBe(false);
  });

  test("a config read from a pipe (/dev/stdin) resolves its paths against the working directory", () => {
    const result = cordon(
      [...modeArgs(mode), "-q", "--runok-config", "/dev/stdin", "--runok-preset", "restricted", "--"].concat([
        "sh",
        "-c",
        "touch src/piped && echo WROTE; touch .git/z || echo GIT-RO; cat .env.local",
      ]),
      { cwd: project, env: { HOME: home }, stdin: CONFIG },
    );
    expect(result.stdout).toContain("WROTE");
    expect(result.stdout).toContain("GIT-RO");
    expect(result.stdout).not.toContain("SECRET");
    expect(existsSync(join(project, ".git", "z"))).toBe(false);
  });

  test("the deprecated fs.writable/fs.deny spelling; a preset without network allows it, as runok's does", () => {
    const result = c([
      "--runok-config",
      "runok.yml",
      "--runok-preset",
      "legacy",
      "--",
      "sh",
      "-c",
      `touch lib/ok-legacy && echo WROTE; touch src/locked/x || echo LOCKED; ` +
        (missingTool("python3") ? "echo NET-OK" : NET_PROBE),
    ]);
    expect(result.stdout).toContain("WROTE");
    expect(result.stdout).toContain("LOCKED");
    expect(result.stdout).toContain("NET-OK");
    expect(existsSync(join(project, "src", "locked", "x"))).toBe(false);
  });

  test("several presets merge strictest-wins: write roots intersect, network denied if any denies it", () => {
    const result = c([
      "--runok-config",
      "runok.yml",
      "--runok-preset",
      "legacy",
      "--runok-preset",
      "open-net",
      "--",
      "sh",
      "-c",
      "touch lib/merged || echo NO-WRITE",
    ]);
    // open-net sets no write.allow, so legacy's '.' stands (runok intersects only the presets that set it).
    expect(result.stdout).not.toContain("NO-WRITE");
    const strict = c([
      "--runok-config",
      "runok.yml",
      "--runok-preset",
      "restricted",
      "--runok-preset",
      "open-net",
      "--",
      "sh",
      "-c",
      missingTool("python3") ? "echo NET-EPERM" : NET_PROBE,
    ]);
    expect(strict.stdout).toContain("NET-EPERM");
  });
});

describe("--runok-config: bad input is one clear message and exit 125", () => {
  let dir: string;
  beforeAll(() => {
    dir = scratchDir("cordon-runok-config-bad-");
    writeFileSync(join(dir, "runok.yml"), CONFIG);
    writeFileSync(
      join(dir, "dangling.yml"),
      "definitions:\n  sandbox:\n    p:\n      fs:\n        read:\n          deny: ['<path:nope>']\n",
    );
    writeFileSync(join(dir, "mixed.yml"), "definitions:\n  sandbox:\n    p:\n      fs: {writable: ['.'], write: {}}\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], RegExp][] = [
    ["an unknown preset", ["--runok-config", "runok.yml", "--runok-preset", "nope"], /no sandbox preset "nope"/],
    ["a preset without its config", ["--runok-preset", "restricted"], /needs --runok-config/],
    ["a config without a preset", ["--runok-config", "runok.yml"], /needs --runok-preset/],
    [
      "both --policy and --runok-config",
      ["-p", '{"write": []}', "--runok-config", "runok.yml", "--runok-preset", "restricted"],
      /use one/,
    ],
    [
      "an undefined <path:name>",
      ["--runok-config", "dangling.yml", "--runok-preset", "p"],
      /definitions\.paths has no "nope"/,
    ],
    ["both fs spellings", ["--runok-config", "mixed.yml", "--runok-preset", "p"], /mixes/],
    ["a missing config", ["--runok-config", "missing.yml", "--runok-preset", "p"], /cannot be read/],
  ];
  for (const [what, args, message] of cases) {
    test(what, () => {
      const result = cordon([...args, "--", "sh", "-c", "echo RAN"], { cwd: dir });
      expect(result.exitCode).toBe(125);
      expect(result.stdout).not.toContain("RAN");
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
