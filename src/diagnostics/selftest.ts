// `cordon selftest`: escape attempts and must-work checks in the real sandbox
// on this host, once per available mode. Each escape probe first runs the
// same attempt WITHOUT cordon and skips (naming why) if that does not work
// either, so a pass always means cordon stopped something real.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SYSCALLS, HOST_ARCH } from "../../ffi/syscalls.ts";
import { CLONE_NEWUSER, TIOCSTI } from "../../ffi/constants.ts";
import { SCOPES_SINCE } from "../../ffi/landlock.ts";
import type { SandboxMode } from "../plan/sandbox.ts";
import { gatherHostFacts } from "../host/facts.ts";
import { VERSION } from "../version.ts";
import type { ProbeResult, SelftestReport } from "./schema.ts";
import { SelftestFixture, type CommandResult } from "./selftest-fixture.ts";

type Verdict = Pick<ProbeResult, "outcome" | "detail">;

interface ProbeContext {
  fixture: SelftestFixture;
  mode: SandboxMode;
  landlockAbi: number;
}

interface Probe {
  id: string;
  kind: ProbeResult["kind"];
  description: string;
  run(ctx: ProbeContext): Promise<Verdict>;
}

const pass = (detail: string): Verdict => ({ outcome: "pass", detail });
const fail = (detail: string): Verdict => ({ outcome: "fail", detail });
const skip = (detail: string): Verdict => ({ outcome: "skip", detail });

const firstLine = (result: CommandResult) => (result.stderr.trim().split("\n")[0] ?? "").slice(0, 160);
const outcomeOf = (result: CommandResult) =>
  `exit ${result.status}${firstLine(result) ? `: ${firstLine(result)}` : ""}`;
const has = (tool: string) => Bun.which(tool) !== null;

/** Runs `cmd` plainly, expecting `happened()`; undoes it; runs it under cordon, expecting nothing. */
async function attempt(ctx: ProbeContext, cmd: string[], happened: () => boolean, undo: () => void): Promise<Verdict> {
  const control = await ctx.fixture.plain(cmd);
  if (!happened()) return skip(`the attempt does not work even without cordon (${outcomeOf(control)})`);
  undo();
  const sandboxed = await ctx.fixture.sandboxed(ctx.mode, cmd);
  if (happened()) {
    undo();
    return fail(`ESCAPED under cordon (${outcomeOf(sandboxed)})`);
  }
  return pass(`blocked (${outcomeOf(sandboxed)})`);
}

/** A syscall attempt through perl that prints "ok" or "errno=N". */
async function perlSyscall(ctx: ProbeContext, script: string, expectErrno: number): Promise<Verdict> {
  if (!has("perl")) return skip("skipped (tool missing: perl)");
  const cmd = ["perl", "-e", script];
  const control = await ctx.fixture.plain(cmd);
  const controlOut = control.stdout.trim();
  if (controlOut === `errno=${expectErrno}`)
    return skip(`already refused without cordon (${controlOut}): nothing to prove`);
  if (!/^(ok|errno=\d+)$/.test(controlOut)) return skip(`the attempt does not run (${outcomeOf(control)})`);
  const sandboxed = await ctx.fixture.sandboxed(ctx.mode, cmd);
  const out = sandboxed.stdout.trim();
  if (out === `errno=${expectErrno}`) return pass(`refused with errno ${expectErrno} (without cordon: ${controlOut})`);
  return fail(
    out === "ok"
      ? "ESCAPED: the call succeeded under cordon"
      : `unexpected result under cordon: ${out || outcomeOf(sandboxed)}`,
  );
}

const EPERM = 1;
const NR = SYSCALLS[HOST_ARCH];

/** An escape probe that writes a file into a directory the sandbox must not write. */
function writeEscape(id: string, description: string, dir: (fixture: ProbeContext["fixture"]) => string): Probe {
  return {
    id,
    kind: "escape",
    description,
    run: (ctx) => {
      const target = join(dir(ctx.fixture), "escape");
      return attempt(
        ctx,
        ["sh", "-c", `echo x > '${target}'`],
        () => existsSync(target),
        () => rmSync(target, { force: true }),
      );
    },
  };
}

const ESCAPES: Probe[] = [
  writeEscape("write-outside-roots", "write a file outside the write roots", (fixture) => fixture.outside),
  writeEscape(
    "write-deny-path",
    "write into a --deny-write directory inside a write root",
    (fixture) => fixture.denied,
  ),
  {
    id: "read-denied-file",
    kind: "escape",
    description: "read a --deny-read file",
    run: async (ctx) => {
      const cmd = ["cat", ctx.fixture.secret];
      const control = await ctx.fixture.plain(cmd);
      if (!control.stdout.includes(ctx.fixture.secretText))
        return skip(`cat cannot read it even without cordon (${outcomeOf(control)})`);
      const sandboxed = await ctx.fixture.sandboxed(ctx.mode, cmd);
      return sandboxed.stdout.includes(ctx.fixture.secretText)
        ? fail("ESCAPED: the secret was read")
        : pass(`nothing read (${outcomeOf(sandboxed)})`);
    },
  },
  {
    id: "tcp-connect",
    kind: "escape",
    description: "TCP connect to a host listener with the network off",
    run: async (ctx) => {
      const connector = has("perl") ? "perl" : has("bash") ? "bash" : undefined;
      if (!connector) return skip("skipped (tool missing: perl or bash)");
      let connections = 0;
      const server = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: { open: () => void connections++, data: () => {} },
      });
      try {
        const port = server.port;
        const cmd =
          connector === "perl"
            ? [
                "perl",
                "-MIO::Socket::INET",
                "-e",
                `IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => ${port}, Timeout => 5) or exit 3`,
              ]
            : ["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${port}`];
        const settle = async (seen: number, wanted: boolean) => {
          // Accepting is asynchronous: give the event loop a moment to see it.
          for (let i = 0; i < 20 && connections > seen !== wanted; i++) await Bun.sleep(25);
          return connections > seen;
        };
        const control = await ctx.fixture.plain(cmd);
        if (!(await settle(0, true))) return skip(`the connection fails even without cordon (${outcomeOf(control)})`);
        const before = connections;
        const sandboxed = await ctx.fixture.sandboxed(ctx.mode, cmd);
        if (await settle(before, false))
          return fail(`ESCAPED: the host listener accepted a connection (${outcomeOf(sandboxed)})`);
        return pass(`no connection reached the host (${outcomeOf(sandboxed)})`);
      } finally {
        server.stop(true);
      }
    },
  },
  {
    id: "io-uring",
    kind: "escape",
    description: "io_uring_setup (io_uring bypasses seccomp's view of I/O)",
    run: (ctx) =>
      perlSyscall(
        ctx,
        `my $p = "\\0" x 120; my $r = syscall(${NR.io_uring_setup}, 1, $p); print $r < 0 ? "errno=" . ($! + 0) : "ok"`,
        EPERM,
      ),
  },
  {
    id: "tiocsti",
    kind: "escape",
    description: "TIOCSTI ioctl (inject keystrokes into the terminal)",
    run: (ctx) =>
      perlSyscall(ctx, `my $c = "x"; print ioctl(STDIN, ${TIOCSTI}, $c) ? "ok" : "errno=" . ($! + 0)`, EPERM),
  },
  {
    id: "new-user-namespace",
    kind: "escape",
    description: "create a new user namespace",
    run: (ctx) => {
      if (has("unshare")) {
        const marker = join(ctx.fixture.work, "userns-marker");
        return attempt(
          ctx,
          ["unshare", "--user", "sh", "-c", `echo x > '${marker}'`],
          () => existsSync(marker),
          () => rmSync(marker, { force: true }),
        );
      }
      return perlSyscall(
        ctx,
        `print syscall(${NR.unshare}, ${CLONE_NEWUSER}) == 0 ? "ok" : "errno=" . ($! + 0)`,
        EPERM,
      );
    },
  },
  {
    id: "signal-outside",
    kind: "escape",
    description: "send SIGTERM to a process outside the sandbox",
    run: async (ctx) => {
      if (ctx.mode === "landlock" && ctx.landlockAbi < SCOPES_SINCE) {
        return skip(
          `documented gap: landlock-only mode needs Landlock ABI ${SCOPES_SINCE} to scope ` +
            `signals (this kernel: ${ctx.landlockAbi}); \`cordon explain\` lists it`,
        );
      }
      const victim = () => Bun.spawn({ cmd: ["sleep", "60"], stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      const gone = async (child: ReturnType<typeof victim>) => {
        for (let i = 0; i < 20 && child.exitCode === null && child.signalCode === null; i++) await Bun.sleep(25);
        return child.exitCode !== null || child.signalCode !== null;
      };
      const first = victim();
      const control = await ctx.fixture.plain(["sh", "-c", `kill -TERM ${first.pid}`]);
      if (!(await gone(first))) {
        first.kill("SIGKILL");
        return skip(`kill does not work even without cordon (${outcomeOf(control)})`);
      }
      const second = victim();
      try {
        const sandboxed = await ctx.fixture.sandboxed(ctx.mode, ["sh", "-c", `kill -TERM ${second.pid}`]);
        if (await gone(second)) return fail(`ESCAPED: the host process was killed (${outcomeOf(sandboxed)})`);
        return pass(`the host process survived (${outcomeOf(sandboxed)})`);
      } finally {
        second.kill("SIGKILL");
      }
    },
  },
];

const MUST_WORK: Probe[] = [
  {
    id: "write-inside-root",
    kind: "must-work",
    description: "write a file inside a write root (in a directory with no denied path)",
    run: async (ctx) => {
      const target = join(ctx.fixture.work, `inside-${ctx.mode}`);
      const result = await ctx.fixture.sandboxed(ctx.mode, ["sh", "-c", `echo ok > '${target}'`]);
      const written = existsSync(target) && readFileSync(target, "utf8") === "ok\n";
      rmSync(target, { force: true });
      return written && result.status === 0 ? pass("written") : fail(`not written (${outcomeOf(result)})`);
    },
  },
  {
    id: "private-tmpdir",
    kind: "must-work",
    description: "write and read back a file in $TMPDIR",
    run: async (ctx) => {
      const result = await ctx.fixture.sandboxed(ctx.mode, [
        "sh",
        "-c",
        `echo tmp > "$TMPDIR/probe" && cat "$TMPDIR/probe"`,
      ]);
      return result.status === 0 && result.stdout === "tmp\n" ? pass("works") : fail(outcomeOf(result));
    },
  },
  {
    id: "git-status",
    kind: "must-work",
    description: "git status in a repository inside a write root",
    run: async (ctx) => {
      if (!has("git")) return skip("skipped (tool missing: git)");
      const repo = join(ctx.fixture.work, `repo-${ctx.mode}`);
      const init = await ctx.fixture.plain(["git", "init", "-q", repo]);
      if (init.status !== 0) return skip(`git init fails even without cordon (${outcomeOf(init)})`);
      const result = await ctx.fixture.sandboxed(ctx.mode, ["git", "-C", repo, "status", "--porcelain"]);
      return result.status === 0 ? pass("works") : fail(outcomeOf(result));
    },
  },
  {
    id: "pipe",
    kind: "must-work",
    description: "a shell pipeline",
    run: async (ctx) => {
      const result = await ctx.fixture.sandboxed(ctx.mode, ["sh", "-c", "printf abc | tr abc xyz"]);
      return result.status === 0 && result.stdout === "xyz"
        ? pass("works")
        : fail(`got ${JSON.stringify(result.stdout)} (${outcomeOf(result)})`);
    },
  },
  {
    id: "exit-status",
    kind: "must-work",
    description: "the command's exit status comes back unchanged (42)",
    run: async (ctx) => {
      const result = await ctx.fixture.sandboxed(ctx.mode, ["sh", "-c", "exit 42"]);
      return result.status === 42 ? pass("42") : fail(outcomeOf(result));
    },
  },
];

export const PROBES: readonly Probe[] = [...ESCAPES, ...MUST_WORK];

interface SelftestOptions {
  bwrap?: string;
  /** Only these modes (default: both). */
  modes?: SandboxMode[];
}

export async function runSelftest(options: SelftestOptions = {}): Promise<SelftestReport> {
  const facts = gatherHostFacts({ bwrap: options.bwrap, attemptBwrap: true });
  const landlockAbi = facts.landlock.abi;
  const noLandlock = landlockAbi === 0 ? "Landlock is unavailable" : null;
  const attempt = facts.bwrapAttempt;
  const availability: Record<SandboxMode, string | null> = {
    bwrap:
      noLandlock ??
      (!facts.bwrap.found
        ? facts.bwrap.reason
        : attempt?.works
          ? null
          : `bwrap fails here: ${attempt?.message || `exit ${attempt?.status}`} (see \`cordon doctor\`)`),
    landlock: noLandlock,
  };
  const report: SelftestReport = { format: "cordon-selftest/1", version: VERSION, modes: [], ok: false };
  const fixture = new SelftestFixture();
  try {
    for (const mode of options.modes ?? (["bwrap", "landlock"] as const)) {
      const reason = availability[mode];
      const probes: ProbeResult[] = [];
      if (reason === null) {
        for (const probe of PROBES) {
          const verdict = await probe.run({ fixture, mode, landlockAbi });
          probes.push({ id: probe.id, kind: probe.kind, description: probe.description, ...verdict });
        }
      }
      report.modes.push({ mode, available: reason === null, reason, probes });
    }
  } finally {
    fixture.remove();
  }
  const ran = report.modes.filter((mode) => mode.available);
  report.ok = ran.length > 0 && ran.every((mode) => mode.probes.every((probe) => probe.outcome !== "fail"));
  return report;
}
