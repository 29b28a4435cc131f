// Stage 2: runs inside the sandbox's process (and, in bwrap mode, inside its
// namespaces). It applies the plan stage 1 computed and execs the command.
// Everything here is synchronous on the main thread: Landlock before ABI 8
// restricts only the calling thread, so no work may move to Bun's pool threads.
// It loads no CLI, validation or logging library.
import { writeSync } from "node:fs";
import { CLOSE_RANGE_CLOEXEC, SIGNALS } from "../../ffi/constants.ts";
import {
  changeSignalMask,
  clearCloseOnExec,
  closeFd,
  duplicateOnto,
  resetSignalToDefault,
  SIG_SETMASK,
  syscall,
} from "../../ffi/libc.ts";
import { readAll } from "../bytes.ts";
import { EXIT, messageOf } from "../errors.ts";
import { decodeLaunch, type Launch } from "../launch/wire.ts";
import { executeCommand, resolveCommand } from "./command.ts";
import { applyDenyMounts } from "./deny-mounts.ts";
import { applyLandlock } from "./landlock.ts";
import {
  disableCoreDumps,
  dropAllCapabilities,
  joinCgroups,
  leaveSession,
  setNoNewPrivileges,
  setParentDeathSignal,
  setResourceLimits,
} from "./privileges.ts";
import { installSeccompProgram } from "./seccomp.ts";
import { verifyMounts } from "./verify-mounts.ts";

function fail(step: string, error: unknown, exitCode: number = EXIT.CORDON): never {
  const detail = messageOf(error);
  writeSync(2, `cordon: sandbox setup failed at ${step}: ${detail}\ncordon: the command was not run\n`);
  process.exit(exitCode);
}

/**
 * Descriptors 3..3+N-1 reach the command, nothing above them does. Bun marks
 * every inherited descriptor from 4 up close-on-exec when it starts (this
 * process too), so the preserved ones need the flag cleared again: without
 * that, --preserve-fds 3 handed over fd 3 alone.
 */
function keepOnlyPreserved(count: number): void {
  syscall("close_range", 3 + count, 0xffffffff, CLOSE_RANGE_CLOEXEC);
  for (let fd = 3; fd < 3 + count; fd++) clearCloseOnExec(fd);
}

function readLaunch(fd: number): Launch {
  const bytes = readAll(fd);
  closeFd(fd);
  return decodeLaunch(bytes);
}

/** The raw bytes of variable `name` in envp; entries shorter than `NAME=` simply do not match. */
function environmentValue(envp: Uint8Array[], name: string): Buffer | undefined {
  const prefix = Buffer.from(`${name}=`);
  for (const item of envp) {
    const entry = Buffer.from(item.buffer, item.byteOffset, item.length);
    if (entry.length >= prefix.length && entry.subarray(0, prefix.length).equals(prefix))
      return entry.subarray(prefix.length);
  }
  return undefined;
}

function resetInheritedSignalState(): void {
  // Bun ignores SIGPIPE and SIGXFSZ; ignored dispositions survive execve.
  resetSignalToDefault(SIGNALS.SIGPIPE);
  resetSignalToDefault(SIGNALS.SIGXFSZ);
  // bwrap mode starts us with SIGINT and SIGQUIT blocked (see run-bwrap.ts).
  changeSignalMask(SIG_SETMASK, 0n);
}

/**
 * Progress mark for stage 1 (bwrap mode): "S" once stage 2 runs. No mark
 * after bwrap exits means bwrap itself failed and the command never started,
 * so auto mode may still choose another mode.
 */
function markStarted(statusFd: number): void {
  if (statusFd >= 0) writeSync(statusFd, "S", 0);
}

/**
 * bwrap mode: bwrap ran with a memory file of stage 1's as fd 2, so that its
 * messages are cordon's to interpret. From here on fd 2 is the caller's real
 * stderr again (dup2 leaves it without close-on-exec), before anything of
 * stage 2 or the command can write: both reach the user unchanged.
 */
function takeBackStderr(stderrFd: number): void {
  if (stderrFd < 0) return;
  duplicateOnto(stderrFd, 2);
  closeFd(stderrFd);
}

export function runStage2(args: string[]): never {
  const optionalFd = (arg: string | undefined) => (arg === undefined ? -1 : Number(arg));
  try {
    stage2(Number(args[0]), optionalFd(args[1]), optionalFd(args[2]));
  } catch (error) {
    // Whatever went wrong, the command does not run and the message is cordon's.
    fail("starting", error);
  }
}

function stage2(fd: number, statusFd: number, stderrFd: number): never {
  markStarted(statusFd);
  // Should this fail, the message lands in bwrap's capture, which stage 1 passes on once stage 2 has started.
  takeBackStderr(stderrFd);
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
    // While bwrap's CAP_SYS_ADMIN is still held (bwrap mode); dropped below.
    ["deny mounts", () => applyDenyMounts(header.denyAnchors, header.denyMounts, header.socketCovers)],
    ["verifying mounts", () => verifyMounts(header.mountChecks)],
    ["no-new-privs", setNoNewPrivileges],
    ["parent-death signal", () => setParentDeathSignal(header.parentDeathSignal, header.parentPid)],
    ["new session", () => leaveSession(header.newSession)],
    ["core dump limit", disableCoreDumps],
    ["dropping capabilities", dropAllCapabilities],
    ["Landlock", () => applyLandlock(header.landlock)],
    ["seccomp", () => installSeccompProgram(launch.seccomp)],
    // Late: --open-files must not starve Landlock's descriptors, nor --cpu-time count stage 2's own work.
    ["resource limits", () => setResourceLimits(header.rlimits)],
    ["signal reset", resetInheritedSignalState],
    ["closing descriptors", () => keepOnlyPreserved(header.preserveFds)],
    // Last, on descriptors already open (neither Landlock nor seccomp stands in the way): under a small
    // --pids, a thread the runtime started after joining would be refused, and Bun would abort.
    ["joining the sandbox's cgroup", () => joinCgroups(header.cgroupFds)],
  ];
  for (const [step, run] of steps) {
    try {
      run();
    } catch (error) {
      fail(step, error);
    }
  }

  const failure = executeCommand(target.path, argv, envp);
  writeSync(2, `cordon: ${failure.reason}\n`);
  process.exit(failure.exitCode);
}
