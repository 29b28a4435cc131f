// Attacks on --deny-write and --deny-read paths (issue 12): renaming an
// ancestor of a deny path, a same-policy sandboxed racer swapping path
// components while other runs plan, concurrent runs sharing placeholders
// (with some of them SIGKILLed), missing ancestors, a deny entry outside the
// write roots that comes into existence during the run, hard links to a
// denied file, names that are not UTF-8, the same path denied twice, and a
// glob over a directory the user cannot read.
//
// Every attack runs against the compiled binary, in each mode, as root and as
// nobody, on a fresh tree under /var/tmp (bwrap mode gives the command a
// private /tmp). Each is first shown to work without the protection (plainly,
// or under cordon without the deny entry); then it must fail under cordon and
// leave no effect on the host.
import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Subprocess } from "bun";
import { AttackTools, gccMissing, hostDir, removeDir, sandboxArgs, sandboxed } from "../helpers/attacks.ts";
import {
  CORDON,
  cordon,
  finish,
  isRoot,
  missingSystemTool,
  NOBODY,
  run,
  startCordon,
  statusOf,
  waitFor,
  type RunResult,
  modeArgs,
  nobodyUnavailable,
} from "../helpers/cordon.ts";
import { MODES, type Mode } from "./modes.ts";

// Compiled when the file loads, like the other attack suites.
const tools = gccMissing ? undefined : new AttackTools();
const racer = tools?.compile("swap-racer") ?? "";
const trySyscall = tools?.compile("try-syscall") ?? "";
afterAll(() => tools?.cleanup());

const SECRET = "secret-token-51c7e0";
const GIT_CONFIG = "[core]\n\tbare = false\n";
const REFUSED = 125;

interface User {
  label: string;
  asNobody: boolean;
  /** Why this user's tests must skip, or undefined. */
  unavailable?: string;
}

const USERS: User[] = [
  { label: isRoot ? "as root" : "as the invoking user", asNobody: false },
  { label: "as nobody", asNobody: true, unavailable: nobodyUnavailable() },
];

const perlMissing = missingSystemTool("perl");

/** A test that skips loudly with its reason, with its own time limit. */
function denyTest(
  name: string,
  reasons: (string | undefined)[],
  fn: () => void | Promise<void>,
  timeoutMs = 30_000,
): void {
  const reason = reasons.find((r) => r !== undefined);
  if (reason) test.skip(`${name} [skipped: ${reason}]`, fn);
  else test(name, fn, timeoutMs);
}

// ---- The scene: a fresh host tree, owned by the user under test.

interface Scene {
  /** The working directory of every run; `ws` below it is the write root. */
  base: string;
  user: User;
  at(rel: string): string;
  cleanup(): void;
}

/**
 * A fresh tree under /var/tmp: `entries` maps a path relative to the base to
 * a file's content, or to null for a directory. Owned by nobody for nobody's
 * tests, so that the plain attacks can work.
 */
function scene(user: User, entries: Record<string, string | null>): Scene {
  const base = hostDir("cordon-deny-");
  mkdirSync(join(base, "ws"));
  for (const [rel, content] of Object.entries(entries)) {
    const path = join(base, rel);
    if (content === null) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
  }
  const s: Scene = { base, user, at: (rel) => join(base, rel), cleanup: () => removeDir(base) };
  chownToUser(s, base);
  return s;
}

function chownToUser(s: Scene, path: string): void {
  if (s.user.asNobody) run(["chown", "-hR", `${NOBODY}:${NOBODY}`, path]);
}

/** Runs `command` under cordon in the scene (quietly, working directory = base). */
function under(
  s: Scene,
  mode: Mode,
  options: string[],
  command: string[],
  extra: { env?: Record<string, string>; cwd?: string } = {},
): RunResult {
  return sandboxed(mode, command, {
    extra: options,
    cwd: extra.cwd ?? s.base,
    asNobody: s.user.asNobody,
    env: extra.env,
  });
}

/** Runs `command` without cordon, as the user under test. */
function plainly(s: Scene, command: string[], cwd = s.base): RunResult {
  return run(command, { cwd, asNobody: s.user.asNobody });
}

const sh = (script: string, ...args: string[]) => ["sh", "-c", script, "sh", ...args];
const output = (result: RunResult) => result.stdout + result.stderr;
const explainResult = (result: RunResult) =>
  `exit ${result.exitCode}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

/** True when `path` exists, without following a final symlink. */
function lexists(path: string | Buffer): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

const slash = Buffer.from("/");

/**
 * Everything under `dir`, as sorted "path kind identity content" lines, with
 * names taken byte for byte (shown as latin1). Equal snapshots before and
 * after a run mean the run left no effect there: no entry created, removed,
 * renamed, replaced or rewritten.
 */
function snapshot(dir: string, skip: (rel: string) => boolean = () => false): string[] {
  const lines: string[] = [];
  const walk = (path: Buffer, rel: string) => {
    if (skip(rel)) return;
    const stat = lstatSync(path);
    const shown = JSON.stringify(rel);
    if (stat.isSymbolicLink()) lines.push(`${shown} link ${readlinkSync(path, "buffer").toString("latin1")}`);
    else if (stat.isDirectory()) {
      lines.push(`${shown} dir ino=${stat.ino}`);
      for (const name of readdirSync(path, { encoding: "buffer" }))
        walk(Buffer.concat([path, slash, name]), `${rel}/${name.toString("latin1")}`);
    } else
      lines.push(`${shown} file ino=${stat.ino} nlink=${stat.nlink} ${JSON.stringify(readFileSync(path, "latin1"))}`);
  };
  walk(Buffer.from(dir), ".");
  return lines.sort();
}

/** Every name under `dir` (bytes) that holds U+FFFD encoded as UTF-8: a path decoded lossily. */
function replacementCharNames(dir: string): string[] {
  const bad = Buffer.from("\uFFFD", "utf8");
  const found: string[] = [];
  const walk = (path: Buffer) => {
    for (const name of readdirSync(path, { encoding: "buffer" })) {
      const child = Buffer.concat([path, slash, name]);
      if (name.includes(bad)) found.push(child.toString("latin1"));
      if (lstatSync(child).isDirectory()) walk(child);
    }
  };
  walk(Buffer.from(dir));
  return found;
}

// ---- 1. Renaming an ancestor of a deny path.

const DEPTHS: string[][] = [["a"], ["a", "b"], ["a", "b", "c"]];

interface RenameCase {
  /** ws/a/b: the directory that holds the deny path. */
  parent: string;
  /** The ancestor the command renames, between the write root and the deny path. */
  ancestor: string;
  /** Where it goes: a sibling named `moved`. */
  moved: string;
}

function renameCases(): RenameCase[] {
  const cases: RenameCase[] = [];
  for (const dirs of DEPTHS) {
    const parent = ["ws", ...dirs].join("/");
    for (let level = 1; level <= dirs.length; level++) {
      const ancestor = ["ws", ...dirs.slice(0, level)].join("/");
      cases.push({ parent, ancestor, moved: `${dirname(ancestor)}/moved` });
    }
  }
  return cases;
}

/** `path` as it is after the ancestor moved. */
const afterMove = (c: RenameCase, path: string) => c.moved + path.slice(c.ancestor.length);

function renameWriteAttack(c: RenameCase): { entries: Record<string, string | null>; deny: string; script: string } {
  const deny = `${c.parent}/.git`;
  const hook = `${deny}/hooks/pre-commit`;
  return {
    entries: {
      [`${deny}/config`]: GIT_CONFIG,
      [`${deny}/HEAD`]: "ref: refs/heads/main\n",
      [`${c.parent}/src.txt`]: "src\n",
    },
    deny,
    // Exit 0 only when the planted hook is there at the original path.
    script:
      `mv ${c.ancestor} ${c.moved} && mkdir -p ${deny}/hooks && echo evil > ${hook}; ` +
      `echo evil > ${afterMove(c, deny)}/config; grep -qs evil ${hook}`,
  };
}

function renameReadAttack(c: RenameCase): { entries: Record<string, string | null>; deny: string; script: string } {
  const deny = `${c.parent}/secret.env`;
  return {
    entries: { [deny]: `TOKEN=${SECRET}\n`, [`${c.parent}/readme.txt`]: "readme\n" },
    deny,
    // Prints what it can read of the secret, then replaces it; exit 0 only when the replacement is in place.
    script:
      `mv ${c.ancestor} ${c.moved}; cat ${afterMove(c, deny)}; ` +
      `mkdir -p ${c.parent} && echo fake > ${deny}; cat ${deny}; grep -qs fake ${deny}`,
  };
}

// ---- 2. The race: a same-policy racer swapping components while victims run.

const RACE_POLICY = ["-w", "ws", "--deny-write", "ws/sub/.git"];
const RACE_VICTIM = "echo evil > ws/sub/.git/config; echo evil > ws/sub/.git/hooks/x";
const VICTIMS_PER_RACER_MODE = 50;
const REAL_CONFIG = "[core]\n\trepositoryformatversion = 0\n# the real repository\n";

function raceScene(user: User): Scene {
  const s = scene(user, {
    "ws/sub/.git/config": REAL_CONFIG,
    "ws/sub/.git/hooks": null,
    "ws/sub/file.txt": "real\n",
    "ws/decoy/.git/config": "[core]\n# decoy\n",
    "ws/decoy/.git/hooks": null,
  });
  symlinkSync("decoy", s.at("ws/sublink"));
  chownToUser(s, s.at("ws/sublink"));
  return s;
}

/**
 * The real repository of a race scene, held by descriptor: wherever a racer
 * moves it, `changed()` says whether its config or hooks were written.
 */
class HeldRepository {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, "r");
  }
  private get dir(): string {
    return `/proc/self/fd/${this.fd}`;
  }
  changed(): boolean {
    return readFileSync(`${this.dir}/config`, "utf8") !== REAL_CONFIG || lexists(`${this.dir}/hooks/x`);
  }
  restore(): void {
    writeFileSync(`${this.dir}/config`, REAL_CONFIG);
    rmSync(`${this.dir}/hooks/x`, { force: true });
  }
  /** The inode of the held directory. */
  ino(): number {
    return statSync(this.dir).ino;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * A started run whose command prints "ready" once it runs: `ready` resolves
 * then (and rejects if the run ends first), `done` with the whole result.
 */
function watchReady(proc: Subprocess): { ready: Promise<void>; done: Promise<RunResult> } {
  let text = "";
  let markReady: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  const stderr = new Response(proc.stderr as ReadableStream).text();
  const stdout = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("ready\n")) markReady();
    }
    return text;
  })();
  const done = (async () => {
    const [out, err] = await Promise.all([stdout, stderr, proc.exited]);
    const result = { exitCode: statusOf(proc), stdout: out, stderr: err };
    fail(new Error(`the run ended before its command was ready:\n${explainResult(result)}`));
    return result;
  })();
  return { ready, done };
}

// ---- 3. Concurrent runs with missing deny paths.

const CONCURRENT_POLICY = [
  "-w",
  "ws",
  "--deny-write",
  "ws/.envrc",
  "--deny-read",
  "ws/.env.local",
  "--deny-write",
  "ws/pkg/.git/hooks",
];
const CONCURRENT_ATTACK =
  "touch ws/markers/started.$1; echo X > ws/.envrc; echo X > ws/.env.local; " +
  "mkdir -p ws/pkg/.git/hooks; echo evil > ws/pkg/.git/hooks/pre-commit; sleep 0.2";
const CONCURRENT_RUNS = 20;
/** Killed once their command has started (placeholders in place). */
const KILLED_RUNNING = [2, 6, 10];
/** Killed a few milliseconds after they were started (cordon may be creating placeholders). */
const KILLED_EARLY = [14, 18];

/** True while any process's command line contains `text`. */
function commandStillRunning(text: string): boolean {
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(text)) return true;
    } catch {
      // It ended meanwhile.
    }
  }
  return false;
}

// ---- 7. Byte arguments.

/**
 * Runs argv with every "%xHH" in its elements replaced by the byte 0xHH:
 * Bun.spawn passes strings as UTF-8, so a perl exec builds the raw bytes.
 */
const PERL_EXEC =
  "my @a = map { my $s = $_; $s =~ s/%x([0-9a-fA-F]{2})/chr(hex($1))/ge; $s } @ARGV; " +
  'exec { $a[0] } @a or die "exec $a[0]: $!\\n";';
function withBytes(s: Scene, argv: string[]): RunResult {
  return run(["perl", "-e", PERL_EXEC, ...argv], { cwd: s.base, asNobody: s.user.asNobody });
}
const SEC_NAME = Buffer.from("sec\xe9.env", "latin1");
const SEC_ARG = "ws/sec%xe9.env";

// ---- 5. A missing deny-read path outside the write roots.

const GH_HOSTS = "home/.config/gh/hosts.yml";
/**
 * Says "ready" once the command runs, then waits (bounded) for the host's
 * `go`, a file outside the write roots. Talking over stdout and a read-only
 * file keeps the handshake independent of what the deny entries forbid.
 */
const awaitGo = (then: string) =>
  `echo ready; i=0; while [ ! -e go ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; ${then}`;
const GH_READER = awaitGo(`cat ${GH_HOSTS}`);

/** Runs GH_READER under cordon; once it runs, the host creates the token file, then lets it read. */
async function readTokenCreatedDuringRun(s: Scene, mode: Mode, options: string[]): Promise<RunResult> {
  const proc = startCordon(sandboxArgs(mode, sh(GH_READER), { extra: options }), {
    cwd: s.base,
    asNobody: s.user.asNobody,
  });
  const watched = watchReady(proc);
  await watched.ready.catch(() => undefined);
  mkdirSync(s.at("home/.config/gh"));
  writeFileSync(s.at(GH_HOSTS), `github.com:\n    oauth_token: ${SECRET}\n`);
  writeFileSync(s.at("go"), "");
  return await watched.done;
}

/** --strict in `mode` with the gaps landlock-only mode always has accepted, so only new reasons refuse. */
function strict(mode: Mode): string[] {
  return mode === "landlock"
    ? [
        "--strict",
        "--allow-degraded",
        "unix-sockets",
        "--allow-degraded",
        "metadata",
        "--allow-degraded",
        "process-isolation",
      ]
    : ["--strict"];
}

/** The stderr lines that name a link count of 2. */
const linkWarnings = (stderr: string) => stderr.split("\n").filter((line) => /link/i.test(line) && /\b2\b/.test(line));

for (const mode of MODES) {
  for (const user of USERS) {
    const who = user.label;
    const skipUser = user.unavailable;

    describe(`${mode} mode ${who}: renaming an ancestor of a deny path`, () => {
      for (const c of renameCases()) {
        const write = renameWriteAttack(c);
        denyTest(
          `--deny-write ${write.deny}: rename ${c.ancestor} away, plant a hook at the old path`,
          [skipUser],
          () => {
            const bare = scene(user, write.entries);
            try {
              const before = snapshot(bare.at("ws"));
              const result = plainly(bare, sh(write.script));
              expect(result.exitCode, `the attack itself failed without cordon:\n${explainResult(result)}`).toBe(0);
              expect(snapshot(bare.at("ws"))).not.toEqual(before);
            } finally {
              bare.cleanup();
            }
            const s = scene(user, write.entries);
            try {
              const before = snapshot(s.at("ws"));
              const result = under(s, mode, ["-w", "ws", "--deny-write", write.deny], sh(write.script));
              expect(result.exitCode, `the attack succeeded under cordon:\n${explainResult(result)}`).not.toBe(0);
              expect(lexists(s.at(`${write.deny}/hooks/pre-commit`))).toBe(false);
              expect(readFileSync(s.at(`${write.deny}/config`), "utf8")).toBe(GIT_CONFIG);
              expect(snapshot(s.at("ws"))).toEqual(before);
            } finally {
              s.cleanup();
            }
          },
        );

        const read = renameReadAttack(c);
        denyTest(`--deny-read ${read.deny}: rename ${c.ancestor} away, read and replace the file`, [skipUser], () => {
          const bare = scene(user, read.entries);
          try {
            const before = snapshot(bare.at("ws"));
            const result = plainly(bare, sh(read.script));
            expect(result.exitCode, `the attack itself failed without cordon:\n${explainResult(result)}`).toBe(0);
            expect(result.stdout).toContain(SECRET);
            expect(snapshot(bare.at("ws"))).not.toEqual(before);
          } finally {
            bare.cleanup();
          }
          const s = scene(user, read.entries);
          try {
            const before = snapshot(s.at("ws"));
            const result = under(s, mode, ["-w", "ws", "--deny-read", read.deny], sh(read.script));
            expect(result.exitCode, `the attack succeeded under cordon:\n${explainResult(result)}`).not.toBe(0);
            expect(output(result)).not.toContain(SECRET);
            expect(readFileSync(s.at(read.deny), "utf8")).toBe(`TOKEN=${SECRET}\n`);
            expect(snapshot(s.at("ws"))).toEqual(before);
          } finally {
            s.cleanup();
          }
        });
      }
    });

    describe(`${mode} mode ${who}: a same-policy racer swapping path components`, () => {
      denyTest(
        `${VICTIMS_PER_RACER_MODE * MODES.length} victim runs against a racer ` +
          `(${VICTIMS_PER_RACER_MODE} per racer mode) never write the real ws/sub/.git`,
        [skipUser, gccMissing],
        async () => {
          // Without the deny entry the victim writes the real repository.
          const bare = raceScene(user);
          try {
            const held = new HeldRepository(bare.at("ws/sub/.git"));
            const result = under(bare, mode, ["-w", "ws"], sh(RACE_VICTIM));
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(held.changed()).toBe(true);
            held.close();
          } finally {
            bare.cleanup();
          }

          const s = raceScene(user);
          const held = new HeldRepository(s.at("ws/sub/.git"));
          const stats: string[] = [];
          let wins = 0;
          try {
            for (const racerMode of MODES) {
              const proc = startCordon(sandboxArgs(racerMode, [racer, "ws", "100000000"], { extra: RACE_POLICY }), {
                cwd: s.base,
                asNobody: user.asNobody,
                timeoutMs: 300_000,
              });
              const watched = watchReady(proc);
              let refused = 0;
              let wrote = 0;
              let racerResult: RunResult | undefined;
              try {
                await watched.ready;
                for (let i = 0; i < VICTIMS_PER_RACER_MODE; i++) {
                  const result = under(s, mode, RACE_POLICY, sh(RACE_VICTIM));
                  if (result.exitCode === REFUSED) refused++;
                  if (result.exitCode === 0) wrote++;
                  if (held.changed()) {
                    wins++;
                    held.restore();
                  }
                }
              } finally {
                proc.kill("SIGTERM");
                racerResult = await watched.done;
              }
              const counts = racerResult.stdout.trim().split("\n").at(-1) ?? "";
              stats.push(
                `racer in ${racerMode} mode (${counts}, exit ${racerResult.exitCode}): ` +
                  `${VICTIMS_PER_RACER_MODE} victims, ${refused} refused, ${wrote} wrote somewhere`,
              );
            }
            const summary = `${mode} victims ${who}: ${wins} wins; ${stats.join("; ")}`;
            console.log(`race: ${summary}`);
            expect(wins, summary).toBe(0);
            // The racer undoes every swap it made, and no victim leaves anything behind.
            const tree = `${summary}\nws afterwards:\n${snapshot(s.at("ws")).join("\n")}`;
            expect(readdirSync(s.at("ws")).sort(), tree).toEqual(["decoy", "sub", "sublink"]);
            expect(lstatSync(s.at("ws/sub/.git")).ino, tree).toBe(held.ino());
          } finally {
            held.close();
            s.cleanup();
          }
        },
        240_000,
      );

      denyTest(
        "a same-policy run swaps ws/sub with a decoy before the victim starts, " +
          "another swaps it back while the victim runs",
        [skipUser, gccMissing],
        async () => {
          // Without the deny entry the victim writes the real repository.
          const bare = raceScene(user);
          try {
            const held = new HeldRepository(bare.at("ws/sub/.git"));
            expect(plainly(bare, sh(RACE_VICTIM)).exitCode).toBe(0);
            expect(held.changed()).toBe(true);
            held.close();
          } finally {
            bare.cleanup();
          }

          for (const racerMode of MODES) {
            const s = raceScene(user);
            const held = new HeldRepository(s.at("ws/sub/.git"));
            try {
              const exchange = () =>
                under(s, racerMode, RACE_POLICY, [trySyscall, "rename-exchange", "ws/sub", "ws/decoy"]);
              const first = exchange();
              const victim = watchReady(
                startCordon(sandboxArgs(mode, sh(awaitGo(RACE_VICTIM)), { extra: RACE_POLICY }), {
                  cwd: s.base,
                  asNobody: user.asNobody,
                }),
              );
              await victim.ready.catch(() => undefined);
              const second = exchange();
              writeFileSync(s.at("go"), "");
              const result = await victim.done;
              const story =
                `racer mode ${racerMode}: first swap ${first.stdout.trim()}, second swap ${second.stdout.trim()}, ` +
                `victim ${explainResult(result)}`;
              expect(held.changed(), story).toBe(false);
            } finally {
              held.close();
              s.cleanup();
            }
          }
        },
        60_000,
      );
    });

    describe(`${mode} mode ${who}: concurrent runs with missing deny paths`, () => {
      denyTest(
        `${CONCURRENT_RUNS} parallel runs, ${KILLED_RUNNING.length + KILLED_EARLY.length} of them SIGKILLed: ` +
          "no denied path is created, no run refused, nothing left behind",
        [skipUser],
        async () => {
          const entries = { "ws/pkg/package.json": "{}\n", "ws/markers": null, "ws/README": "readme\n" };
          // Plainly, the command creates every denied path.
          const bare = scene(user, entries);
          try {
            expect(plainly(bare, sh(CONCURRENT_ATTACK, "plain")).exitCode).toBe(0);
            for (const path of ["ws/.envrc", "ws/.env.local", "ws/pkg/.git/hooks/pre-commit"])
              expect(lexists(bare.at(path)), path).toBe(true);
          } finally {
            bare.cleanup();
          }

          const s = scene(user, entries);
          try {
            const skipMarkers = (rel: string) => rel.startsWith("./markers/");
            const before = snapshot(s.at("ws"), skipMarkers);
            const args = (i: number) =>
              sandboxArgs(mode, sh(CONCURRENT_ATTACK, String(i)), { extra: CONCURRENT_POLICY });
            const procs = Array.from({ length: CONCURRENT_RUNS }, (_, i) =>
              startCordon(args(i), { cwd: s.base, asNobody: user.asNobody }),
            );
            const results = procs.map((proc) => finish(proc));
            await Bun.sleep(15);
            procs[KILLED_EARLY[0]!]!.kill("SIGKILL");
            await Bun.sleep(25);
            procs[KILLED_EARLY[1]!]!.kill("SIGKILL");
            for (const i of KILLED_RUNNING) {
              const proc = procs[i]!;
              await waitFor(
                () => existsSync(s.at(`ws/markers/started.${i}`)) || proc.exitCode !== null,
                `run ${i} to start its command`,
              );
              proc.kill("SIGKILL");
            }
            const outcomes = await Promise.all(results);
            // The sandboxes of killed runs die with them (bwrap --die-with-parent, or the
            // parent-death signal in landlock-only mode); wait until none is left.
            await waitFor(() => !commandStillRunning("ws/markers/started."), "the killed runs' commands to end");
            const killed = new Set([...KILLED_RUNNING, ...KILLED_EARLY]);
            const refused = outcomes
              .map((result, i) => ({ i, result }))
              .filter(({ i, result }) => !killed.has(i) && result.exitCode === REFUSED)
              .map(({ i, result }) => `run ${i}: ${result.stderr.trim()}`);
            // One more run, as a user would start it later: it removes what killed runs left.
            const later = under(s, mode, CONCURRENT_POLICY, sh(CONCURRENT_ATTACK, "later"));
            if (later.exitCode === REFUSED) refused.push(`the later run: ${later.stderr.trim()}`);

            expect(refused).toEqual([]);
            for (const path of ["ws/.envrc", "ws/.env.local", "ws/pkg/.git"])
              expect(lexists(s.at(path)), `${path} exists on the host`).toBe(false);
            expect(snapshot(s.at("ws"), skipMarkers)).toEqual(before);
          } finally {
            s.cleanup();
          }
        },
        60_000,
      );
    });

    describe(`${mode} mode ${who}: missing deny paths`, () => {
      denyTest(
        "--deny-write .git/hooks --deny-write .git/config outside a repository: .git cannot be filled in",
        [skipUser],
        () => {
          const fill =
            "mkdir -p .git; echo 'ref: refs/heads/main' > .git/HEAD; echo /var/tmp/elsewhere > .git/commondir; " +
            "test -s .git/HEAD && test -s .git/commondir";
          const entries = { "ws/main.c": "int main(void) { return 0; }\n" };
          const bare = scene(user, entries);
          try {
            const result = under(bare, mode, ["-w", "."], sh(fill), { cwd: bare.at("ws") });
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(lexists(bare.at("ws/.git/HEAD"))).toBe(true);
          } finally {
            bare.cleanup();
          }
          const s = scene(user, entries);
          try {
            const before = snapshot(s.at("ws"));
            const result = under(
              s,
              mode,
              ["-w", ".", "--deny-write", ".git/hooks", "--deny-write", ".git/config"],
              sh(fill),
              {
                cwd: s.at("ws"),
              },
            );
            expect(result.exitCode, `the attack succeeded under cordon:\n${explainResult(result)}`).not.toBe(0);
            expect(lexists(s.at("ws/.git")), "ws/.git exists on the host").toBe(false);
            expect(snapshot(s.at("ws"))).toEqual(before);
          } finally {
            s.cleanup();
          }
        },
      );

      denyTest(
        `--deny-read ${GH_HOSTS} outside the write roots, missing at start: ` +
          "a token created during the run stays hidden",
        [skipUser],
        async () => {
          const entries = { "home/.config/other.yml": "other\n" };
          const bare = scene(user, entries);
          try {
            const result = await readTokenCreatedDuringRun(bare, mode, ["-w", "ws"]);
            expect(result.stdout, explainResult(result)).toContain(SECRET);
          } finally {
            bare.cleanup();
          }
          const s = scene(user, entries);
          try {
            const denied = ["-w", "ws", "--deny-read", GH_HOSTS];
            // explain sees the tree the run starts from: the file is still missing.
            const explain = cordon(["explain", ...modeArgs(mode), ...denied], { cwd: s.base, asNobody: user.asNobody });
            const result = await readTokenCreatedDuringRun(s, mode, denied);
            expect(output(result)).not.toContain(SECRET);
            expect(explain.exitCode, explainResult(explain)).toBe(0);
            expect(output(explain).includes(s.at(GH_HOSTS)), `explain does not list ${s.at(GH_HOSTS)}`).toBe(true);
          } finally {
            s.cleanup();
          }
        },
      );
    });

    describe(`${mode} mode ${who}: hard links to a denied file`, () => {
      const entries = { "ws/.env": `TOKEN=${SECRET}\n`, "ws/.envrc": "export A=1\n" };
      const linked = (s: Scene) => {
        linkSync(s.at("ws/.env"), s.at("ws/other-name"));
        linkSync(s.at("ws/.envrc"), s.at("ws/alias-rc"));
      };

      denyTest(
        "--deny-read ws/.env with a second hard link: a warning names the link count, --strict refuses",
        [skipUser],
        () => {
          const s = scene(user, entries);
          try {
            // Without a second link: no warning, and --strict runs.
            const single = under(s, mode, [...strict(mode), "-w", "ws", "--deny-read", "ws/.env"], ["true"]);
            expect(single.exitCode, explainResult(single)).toBe(0);
            linked(s);
            expect(plainly(s, ["cat", "ws/other-name"]).stdout).toContain(SECRET);
            const warned = cordon([...modeArgs(mode), "-w", "ws", "--deny-read", "ws/.env", "--", "true"], {
              cwd: s.base,
              asNobody: user.asNobody,
            });
            expect(warned.exitCode, explainResult(warned)).toBe(0);
            expect(linkWarnings(warned.stderr), `no warning naming 2 links:\n${warned.stderr}`).not.toEqual([]);
            const refused = under(
              s,
              mode,
              [...strict(mode), "-w", "ws", "--deny-read", "ws/.env"],
              ["cat", "ws/other-name"],
            );
            expect(refused.exitCode, explainResult(refused)).toBe(REFUSED);
            expect(refused.stdout).not.toContain(SECRET);
          } finally {
            s.cleanup();
          }
        },
      );

      denyTest(
        "--deny-write ws/.envrc with a second hard link: a warning, and --strict refuses the append",
        [skipUser],
        () => {
          const s = scene(user, entries);
          try {
            linked(s);
            expect(plainly(s, sh("echo evil >> ws/alias-rc")).exitCode).toBe(0);
            expect(readFileSync(s.at("ws/.envrc"), "utf8")).toContain("evil");
            writeFileSync(s.at("ws/.envrc"), "export A=1\n");
            const warned = cordon([...modeArgs(mode), "-w", "ws", "--deny-write", "ws/.envrc", "--", "true"], {
              cwd: s.base,
              asNobody: user.asNobody,
            });
            expect(warned.exitCode, explainResult(warned)).toBe(0);
            expect(linkWarnings(warned.stderr), `no warning naming 2 links:\n${warned.stderr}`).not.toEqual([]);
            const refused = under(
              s,
              mode,
              [...strict(mode), "-w", "ws", "--deny-write", "ws/.envrc"],
              sh("echo evil >> ws/alias-rc"),
            );
            expect(refused.exitCode, explainResult(refused)).toBe(REFUSED);
            expect(readFileSync(s.at("ws/.envrc"), "utf8")).toBe("export A=1\n");
          } finally {
            s.cleanup();
          }
        },
      );
    });

    describe(`${mode} mode ${who}: names that are not UTF-8`, () => {
      const secScene = () => {
        const s = scene(user, { "ws/public.txt": "public\n" });
        writeFileSync(Buffer.concat([Buffer.from(s.at("ws")), slash, SEC_NAME]), `TOKEN=${SECRET}\n`);
        chownToUser(s, s.at("ws"));
        return s;
      };
      const secContent = (s: Scene) => readFileSync(Buffer.concat([Buffer.from(s.at("ws")), slash, SEC_NAME]), "utf8");

      denyTest(
        `the file sec\\xe9.env under cordon without a deny entry is readable (byte arguments work)`,
        [skipUser, perlMissing],
        () => {
          const s = secScene();
          try {
            const result = withBytes(s, [CORDON, ...sandboxArgs(mode, ["cat", SEC_ARG], { write: ["ws"] })]);
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(result.stdout).toContain(SECRET);
          } finally {
            s.cleanup();
          }
        },
      );

      for (const [option, pattern] of [
        ["--deny-read", SEC_ARG],
        // Relative globs match under each write root.
        ["--deny-read", "*.env"],
        ["--deny-read", "**/*.env"],
        ["--deny-write", SEC_ARG],
      ] as const) {
        denyTest(
          `${option} ${pattern.replace("%xe9", "\\xe9")}: hidden or refused, never a U+FFFD placeholder`,
          [skipUser, perlMissing],
          () => {
            const s = secScene();
            try {
              const before = snapshot(s.at("ws"));
              const script = option === "--deny-read" ? `cat ${SEC_ARG}` : `echo evil >> ${SEC_ARG}; cat ${SEC_ARG}`;
              const result = withBytes(s, [
                CORDON,
                ...sandboxArgs(mode, ["sh", "-c", script], { write: ["ws"], extra: [option, pattern] }),
              ]);
              if (result.exitCode !== REFUSED) {
                if (option === "--deny-read") expect(output(result)).not.toContain(SECRET);
                else expect(output(result)).not.toContain("evil");
              }
              expect(replacementCharNames(s.base)).toEqual([]);
              expect(secContent(s)).toBe(`TOKEN=${SECRET}\n`);
              expect(snapshot(s.at("ws"))).toEqual(before);
            } finally {
              s.cleanup();
            }
          },
        );
      }

      denyTest(
        "--deny-write '**/.git' protects a repository under a directory named \\xff",
        [skipUser, perlMissing],
        () => {
          const repoScene = () => {
            const s = scene(user, { "ws/plain/.git/config": GIT_CONFIG });
            const odd = Buffer.concat([Buffer.from(s.at("ws")), slash, Buffer.from([0xff])]);
            mkdirSync(Buffer.concat([odd, Buffer.from("/.git")]), { recursive: true });
            writeFileSync(Buffer.concat([odd, Buffer.from("/.git/config")]), GIT_CONFIG);
            chownToUser(s, s.at("ws"));
            return { s, config: Buffer.concat([odd, Buffer.from("/.git/config")]) };
          };
          const script = "echo evil >> ws/%xff/.git/config; echo evil >> ws/plain/.git/config";
          const bare = repoScene();
          try {
            const result = withBytes(bare.s, [CORDON, ...sandboxArgs(mode, ["sh", "-c", script], { write: ["ws"] })]);
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(readFileSync(bare.config, "utf8")).toContain("evil");
          } finally {
            bare.s.cleanup();
          }
          const { s, config } = repoScene();
          try {
            const before = snapshot(s.at("ws"));
            const result = withBytes(s, [
              CORDON,
              ...sandboxArgs(mode, ["sh", "-c", script], { write: ["ws"], extra: ["--deny-write", "**/.git"] }),
            ]);
            expect(result.exitCode, explainResult(result)).not.toBe(0);
            expect(readFileSync(config, "utf8")).toBe(GIT_CONFIG);
            expect(readFileSync(s.at("ws/plain/.git/config"), "utf8")).toBe(GIT_CONFIG);
            expect(replacementCharNames(s.base)).toEqual([]);
            expect(snapshot(s.at("ws"))).toEqual(before);
          } finally {
            s.cleanup();
          }
        },
      );
    });

    describe(`${mode} mode ${who}: the same path denied twice`, () => {
      denyTest(
        "--deny-write ws/.env --deny-read ws/.env: the run goes ahead and the file stays hidden",
        [skipUser],
        () => {
          const s = scene(user, { "ws/.env": `TOKEN=${SECRET}\n` });
          try {
            expect(plainly(s, ["cat", "ws/.env"]).stdout).toContain(SECRET);
            const result = under(
              s,
              mode,
              ["-w", "ws", "--deny-write", "ws/.env", "--deny-read", "ws/.env"],
              sh("cat ws/.env; echo ran"),
            );
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(result.stdout).toContain("ran");
            expect(output(result)).not.toContain(SECRET);
            expect(readFileSync(s.at("ws/.env"), "utf8")).toBe(`TOKEN=${SECRET}\n`);
          } finally {
            s.cleanup();
          }
        },
      );

      denyTest(
        "-w HOME --deny-write HOME/.npmrc, which the secure defaults already hide: the run goes ahead",
        [skipUser],
        () => {
          const token = `//registry.npmjs.org/:_authToken=npm_${SECRET}\n`;
          const s = scene(user, { "home/.npmrc": token, "home/project/index.js": "\n" });
          try {
            const env = { HOME: s.at("home") };
            const read = sh("cat home/.npmrc; echo ran");
            expect(plainly(s, ["cat", "home/.npmrc"]).stdout).toContain(SECRET);
            // The secure default alone hides it (this HOME is the one cordon uses).
            const hidden = under(s, mode, ["-w", "home"], read, { env });
            expect(hidden.exitCode, explainResult(hidden)).toBe(0);
            expect(output(hidden)).not.toContain(SECRET);
            const result = under(s, mode, ["-w", "home", "--deny-write", "home/.npmrc"], read, { env });
            expect(result.exitCode, explainResult(result)).toBe(0);
            expect(result.stdout).toContain("ran");
            expect(output(result)).not.toContain(SECRET);
            expect(readFileSync(s.at("home/.npmrc"), "utf8")).toBe(token);
          } finally {
            s.cleanup();
          }
        },
      );
    });

    describe(`${mode} mode ${who}: a glob over a directory the user cannot read`, () => {
      denyTest(
        "--deny-read '**/*.pem' skips a root-owned 0700 directory, says so under -v, and still hides what it can read",
        [skipUser, user.asNobody ? undefined : "only a user who cannot read the directory meets it"],
        () => {
          const s = scene(user, { "ws/certs/key.pem": `${SECRET}\n`, "ws/src/main.c": "\n" });
          const unreadable = "pgdata-unreadable";
          mkdirSync(s.at(`ws/${unreadable}/sub`), { recursive: true });
          writeFileSync(s.at(`ws/${unreadable}/server.pem`), "server key\n");
          run(["chown", "-R", "0:0", s.at(`ws/${unreadable}`)]);
          run(["chmod", "0700", s.at(`ws/${unreadable}`)]);
          try {
            expect(plainly(s, ["cat", "ws/certs/key.pem"]).stdout).toContain(SECRET);
            expect(plainly(s, ["ls", `ws/${unreadable}`]).exitCode).not.toBe(0);
            const glob = ["-w", "ws", "--deny-read", "**/*.pem"];
            const quiet = under(s, mode, glob, ["true"]);
            expect(quiet.exitCode, explainResult(quiet)).toBe(0);
            const verbose = cordon([...modeArgs(mode), "-v", ...glob, "--", "true"], {
              cwd: s.base,
              asNobody: true,
            });
            expect(verbose.exitCode, explainResult(verbose)).toBe(0);
            expect(verbose.stderr).toContain(unreadable);
            const read = under(s, mode, glob, ["cat", "ws/certs/key.pem"]);
            expect(output(read)).not.toContain(SECRET);
          } finally {
            s.cleanup();
          }
        },
      );
    });
  }
}
