// Runs one command under bench-wrapper and parses what the OS measured.
// The wrapper, not this Bun process, forks the command, so the wall time
// excludes Bun's spawn overhead and ru_maxrss is not inflated by Bun's own
// resident pages (a forked child starts with its parent's pages counted).
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface Sample {
  wallMs: number;
  /** ru_maxrss of RUSAGE_CHILDREN: the largest process of the run, in KiB. */
  maxRssKiB: number;
  exitCode: number;
  signal: number;
}

export interface Measurement {
  sample: Sample;
  /** The command's stderr (first few KiB), for explaining refusals. */
  stderr: string;
}

export interface Meter {
  kind: "c" | "python3";
  /** argv prefix: the wrapper (and its interpreter, for python3). */
  prefix: string[];
  note: string;
}

const here = import.meta.dir;

/** Compiles wrapper.c into workDir; falls back to wrapper.py where no C compiler exists. */
export function prepareMeter(workDir: string): Meter {
  const compiler = ["cc", "gcc", "clang"].map((name) => Bun.which(name)).find((path) => path !== null);
  if (compiler) {
    const binary = join(workDir, "bench-wrapper");
    const build = Bun.spawnSync([compiler, "-O2", "-o", binary, join(here, "wrapper.c")], {
      stdout: "pipe",
      stderr: "pipe",
    });
    if (build.exitCode === 0 && existsSync(binary)) {
      return { kind: "c", prefix: [binary], note: "C wrapper (fork/exec/wait, getrusage RUSAGE_CHILDREN)" };
    }
    process.stderr.write(`bench: compiling wrapper.c failed, trying python3:\n${build.stderr.toString()}`);
  }
  const python = Bun.which("python3");
  if (python) {
    return {
      kind: "python3",
      prefix: [python, join(here, "wrapper.py")],
      note:
        "python3 wrapper: peak RSS has a floor of python's own RSS (~10 MiB); install a " +
        "C compiler for exact figures",
    };
  }
  throw new Error("bench needs a C compiler (cc) or python3 to read rusage of the measured commands");
}

const RESULT_LINE = /^exit=(-?\d+) signal=(\d+) wall_ns=(\d+) maxrss_kib=(\d+)$/m;
const STDERR_KEEP = 4096;

export function measure(meter: Meter, argv: readonly string[], env: Record<string, string | undefined>): Measurement {
  const run = Bun.spawnSync([...meter.prefix, ...argv], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  const stdout = run.stdout.toString();
  const stderr = run.stderr.toString().slice(0, STDERR_KEEP);
  const match = RESULT_LINE.exec(stdout);
  if (run.exitCode !== 0 || !match) {
    throw new Error(`bench-wrapper failed (exit ${String(run.exitCode)}) for ${argv.join(" ")}: ${stderr.trim()}`);
  }
  return {
    sample: {
      exitCode: Number(match[1]),
      signal: Number(match[2]),
      wallMs: Number(match[3]) / 1e6,
      maxRssKiB: Number(match[4]),
    },
    stderr,
  };
}
