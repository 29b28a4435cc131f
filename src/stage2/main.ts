// Stage 2: runs inside the sandbox's process (and, in bwrap mode, inside its
// namespaces). It applies the plan stage 1 computed and execs the command.
// Everything here is synchronous on the main thread: Landlock before ABI 8
// restricts only the calling thread, so no work may move to Bun's pool threads.
// It loads no CLI, validation or logging library.
import { fstatSync, readSync, writeSync } from "node:fs";
import { verifyMounts } from "./verify-mounts.ts";
import { CLOSE_RANGE_CLOEXEC, SIGNALS } from "../../ffi/constants.ts";
import { changeSignalMask, closeFd, resetSignalToDefault, SIG_SETMASK, syscall } from "../../ffi/libc.ts";
import { applyLandlock } from "../landlock/apply.ts";
import { decodeLaunch, type Launch } from "../launch/wire.ts";
import { installSeccompProgram } from "../seccomp/install.ts";
import { executeCommand, resolveCommand } from "./command.ts";
import { disableCoreDumps, dropAllCapabilities, setNoNewPrivileges, setParentDeathSignal } from "./privileges.ts";

export const STAGE2_ARGUMENT = "__cordon-stage2";
const EXIT_CORDON = 125;

function fail(step: string, error: unknown, exitCode = EXIT_CORDON): never {
  const detail = error instanceof Error ? error.message : String(error);
  writeSync(2, `cordon: sandbox setup failed at ${step}: ${detail}\ncordon: the command was not run\n`);
  process.exit(exitCode);
}

function readLaunch(fd: number): Launch {
  const size = fstatSync(fd).size;
  const bytes = new Uint8Array(size);
  let offset = 0;
  while (offset < size) {
    const n = readSync(fd, bytes, offset, size - offset, offset);
    if (n === 0) break;
    offset += n;
  }
  closeFd(fd);
  return decodeLaunch(bytes.subarray(0, offset));
}

function environmentValue(envp: Uint8Array[], name: string): string | undefined {
  const prefix = Buffer.from(`${name}=`);
  const entry = envp.find((item) => Buffer.from(item.buffer, item.byteOffset, prefix.length).equals(prefix));
  return entry ? Buffer.from(entry).subarray(prefix.length).toString("latin1") : undefined;
}

function resetInheritedSignalState(): void {
  // Bun ignores SIGPIPE and SIGXFSZ; ignored dispositions survive execve.
  resetSignalToDefault(SIGNALS.SIGPIPE);
  resetSignalToDefault(SIGNALS.SIGXFSZ);
  // bwrap mode starts us with SIGINT and SIGQUIT blocked (see run-bwrap.ts).
  changeSignalMask(SIG_SETMASK, 0n);
}

/**
 * Progress marks for stage 1 (bwrap mode): "S" once stage 2 runs, "X" right
 * before execve. No "S" after bwrap exits means bwrap itself failed and the
 * command never started, so auto mode may still choose another mode.
 */
function mark(statusFd: number, offset: number, byte: string): void {
  if (statusFd >= 0) writeSync(statusFd, byte, offset);
}

export function runStage2(args: string[]): never {
  const fd = Number(args[0] ?? "3");
  const statusFd = args[1] === undefined ? -1 : Number(args[1]);
  mark(statusFd, 0, "S");
  let launch: Launch;
  try {
    launch = readLaunch(fd);
  } catch (error) {
    fail("reading the launch plan", error);
  }
  const { header, argv, envp } = launch;
  if (argv.length === 0) fail("reading the launch plan", new Error("no command"));

  const target = resolveCommand(argv[0]!, environmentValue(envp, "PATH"));
  if (!target.found) {
    writeSync(2, `cordon: ${target.reason}\n`);
    process.exit(target.exitCode);
  }

  const steps: [string, () => void][] = [
    ["verifying mounts", () => verifyMounts(header.mountChecks)],
    ["no-new-privs", setNoNewPrivileges],
    ["parent-death signal", () => setParentDeathSignal(header.parentDeathSignal)],
    ["core dump limit", disableCoreDumps],
    ["dropping capabilities", dropAllCapabilities],
    ["Landlock", () => applyLandlock(header.landlock)],
    ["seccomp", () => installSeccompProgram(launch.seccomp)],
    ["signal reset", resetInheritedSignalState],
    ["closing descriptors", () => syscall("close_range", 3 + header.preserveFds, 0xffffffff, CLOSE_RANGE_CLOEXEC)],
  ];
  for (const [step, run] of steps) {
    try {
      run();
    } catch (error) {
      fail(step, error);
    }
  }

  mark(statusFd, 1, "X");
  const failure = executeCommand(target.path, argv, envp);
  writeSync(2, `cordon: ${failure.reason}\n`);
  process.exit(failure.exitCode);
}
