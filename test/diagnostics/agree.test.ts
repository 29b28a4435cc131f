// explain and run agree: for a set of policies, what `explain --json` says is
// compared with what a real run applied, read back from the kernel:
//   - the seccomp filter bytes, through PTRACE_SECCOMP_GET_FILTER (as root);
//   - the mode, from the command's user namespace;
//   - in bwrap mode, each mount of the plan in the command's mountinfo;
//   - the Landlock ABI that `-v` reports.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ExplainReportSchema, type ExplainReport } from "../../src/diagnostics/schema.ts";
import { AttackTools, gccMissing } from "../helpers/attacks.ts";
import { CORDON, cordon, isRoot, run, scratchDir, modeArgs } from "../helpers/cordon.ts";

const cannotTrace = !isRoot ? "reading another process's seccomp filter needs root" : gccMissing;

interface Applied {
  pid: number;
  filterHex: string;
  filterCount: number;
  ownUserNamespace: boolean;
  mountinfo: string;
}

/** The command process of a run: `sleep` with a token unique to this run. */
function findCommand(token: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8") === `sleep\0${token}\0`) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

describe.skipIf(cannotTrace !== undefined)("explain and run agree", () => {
  let tools: AttackTools;
  let dump: string;
  let dir: string;
  let serial = 0;
  beforeAll(() => {
    tools = new AttackTools();
    dump = tools.compile("seccomp-dump");
    dir = scratchDir("cordon-agree-");
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, "secret.txt"), "secret\n");
  });
  afterAll(() => {
    tools.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function explain(args: string[]): ExplainReport {
    const result = cordon(["explain", "--json", ...args]);
    expect(result.exitCode).toBe(0);
    return v.parse(ExplainReportSchema, JSON.parse(result.stdout));
  }

  async function applied(args: string[]): Promise<Applied> {
    const token = `${900 + ++serial}.${process.pid}`;
    const child = Bun.spawn([CORDON, "-v", ...args, "--", "sleep", token], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    try {
      let pid: number | undefined;
      // Wait for the command to be exec'd (stage 2 has installed everything by then).
      for (let i = 0; i < 400 && pid === undefined && child.exitCode === null; i++) {
        pid = findCommand(token);
        if (pid === undefined) await Bun.sleep(25);
      }
      if (pid === undefined) throw new Error(`the command never started (cordon exit ${child.exitCode})`);
      const dumped = run([dump, String(pid)]);
      if (dumped.exitCode !== 0) throw new Error(`seccomp-dump failed: ${dumped.stderr}`);
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      return {
        pid,
        filterHex: dumped.stdout.trim(),
        filterCount: Number(/^Seccomp_filters:\s*(\d+)/m.exec(status)?.[1] ?? -1),
        ownUserNamespace: readlinkSync(`/proc/${pid}/ns/user`) !== readlinkSync("/proc/self/ns/user"),
        mountinfo: readFileSync(`/proc/${pid}/mountinfo`, "utf8"),
      };
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
  }

  /** The top mount at each mount point: [options, fstype]. */
  function mountsOf(mountinfo: string): Map<string, { options: string[]; fstype: string }> {
    const mounts = new Map<string, { options: string[]; fstype: string }>();
    for (const line of mountinfo.trim().split("\n")) {
      const [before, after] = line.split(" - ");
      const fields = before!.split(" ");
      mounts.set(fields[4]!, { options: fields[5]!.split(","), fstype: after!.split(" ")[0]! });
    }
    return mounts;
  }

  const baseline = Number(/^Seccomp_filters:\s*(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);

  const POLICIES: Record<string, string[]> = {
    "readonly default": [],
    "write root with denies": ["-w", "WORK", "--deny-write", "WORK/.git", "--deny-read", "WORK/secret.txt"],
    network: ["--net", "-w", "WORK"],
    "landlock-only with a deny": [...modeArgs("landlock"), "-w", "WORK", "--deny-write", "WORK/.git"],
    "landlock-only with network": [...modeArgs("landlock"), "--net"],
  };

  test.each(Object.entries(POLICIES))("%s", async (_name, template) => {
    const args = template.map((arg) => arg.replace("WORK", dir));
    const plan = explain(args);
    const real = await applied(args);
    // The exact program stage 2 installed, and only that one on top of what we run under.
    expect(real.filterHex).toBe(plan.seccomp.bytes);
    expect(real.filterCount).toBe(baseline + 1);
    // bwrap mode gives the command its own user namespace; landlock-only does not.
    expect(real.ownUserNamespace).toBe(plan.mode.chosen === "bwrap");
    if (plan.mode.chosen === "bwrap") {
      const mounts = mountsOf(real.mountinfo);
      for (const op of plan.mounts) {
        const mount = mounts.get(op.dest);
        expect(mount, `${op.kind} ${op.dest}`).toBeDefined();
        if (op.kind === "ro-bind") expect(mount!.options).toContain("ro");
        if (op.kind === "bind" || op.kind === "tmpfs") expect(mount!.options).toContain("rw");
        if (op.kind === "proc") expect(mount!.fstype).toBe("proc");
        if (op.kind === "tmpfs") expect(mount!.fstype).toBe("tmpfs");
      }
    } else {
      expect(plan.mounts).toEqual([]);
    }
  });

  test("-v reports the Landlock ABI that explain plans for", () => {
    const plan = explain([]);
    const result = cordon(["-v", "--", "true"]);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`Landlock ABI ${plan.landlock.abi}`);
  });
});
