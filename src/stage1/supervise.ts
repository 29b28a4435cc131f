// Stage 1 stays alive as a small supervisor around the sandboxed process:
// it forwards signals, reaps orphans re-parented to it, kills whatever the
// command left running (stage1/sweep.ts), and reports the command's status.
import { constants } from "node:os";
import type { Subprocess } from "bun";
import { PR_SET_CHILD_SUBREAPER, SIGNALS } from "../../ffi/constants.ts";
import { prctl, processGroup, reapIfExited, terminalForegroundGroup } from "../../ffi/libc.ts";
import { CordonError } from "../errors.ts";
import { childPids } from "../host/processes.ts";
import type { CgroupEvents, SandboxCgroups } from "./cgroup.ts";
import { signalDescendants, sweepDescendants } from "./sweep.ts";

const FORWARDED_SIGNALS = [
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGINT",
  "SIGCONT",
] as const;
type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

/** Descriptors 3..3+N-1, which keep their numbers in the child. */
export function preservedDescriptors(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 + i);
}

export function becomeSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/**
 * A signal typed at the terminal (Ctrl-C, Ctrl-\) already reached the whole
 * foreground process group, the command included when it shares cordon's
 * session (one of 0-2 is the controlling terminal, stdin or not): forwarding
 * it again would interrupt twice. A command in a session of its own gets it
 * only through cordon.
 */
function cameFromTerminal(signal: ForwardedSignal): boolean {
  if (signal !== "SIGINT" && signal !== "SIGQUIT") return false;
  const foreground = [0, 1, 2].map(terminalForegroundGroup).find((group) => group > 0);
  return foreground !== undefined && foreground === processGroup();
}

/** timeout(1)'s status for a command it stopped; cordon's too. */
export const TIMEOUT_STATUS = 124;

/**
 * Why a run ended: the command exited or died of a signal on its own, or a
 * limit ended it (the timeout; the CPU-time or file-size rlimit, whose
 * signals say so; the sandbox's cgroup, whose counters say so).
 */
export type EndReason =
  "exited" | "signalled" | "timeout" | "cpu-time limit" | "file-size limit" | "memory limit" | "pids limit";

/** How a supervised run ended. */
export interface Ending {
  /** The command's exit status (128+N for signal N; 124 at the timeout). */
  status: number;
  reason: EndReason;
  /** The signal the command died of, by name. */
  signal?: string;
  /** At the timeout: whether the sandbox needed SIGKILL after its grace period. */
  killedAfterGrace?: boolean;
  /** Processes the command left running, killed when it ended. */
  leftovers: number;
  /** What the sandbox's cgroups counted, when it had any. */
  cgroup?: CgroupEvents;
}

/** The timeout of a run, and what stage 1 must not signal (bwrap's own processes, which pass nothing on). */
export interface Deadline {
  /** Milliseconds of wall clock from the sandbox's start; undefined for none. */
  timeout?: number;
  /** Milliseconds between the timeout's SIGTERM and SIGKILL. */
  killAfter: number;
  /** Processes of cordon's own machinery in the sandbox: SIGTERM would kill them, not the command, first. */
  machinery?: () => number[];
  /** The rlimits set: only a limit that was set may take the blame for its signal. */
  rlimits?: readonly { limit: string }[];
  /** The sandbox's cgroups, if it has any: emptied after the command, and asked why it failed. */
  cgroups?: SandboxCgroups;
  /** bwrap's init stands between cordon and the command: its status 128+N means signal N. */
  throughSandboxInit?: boolean;
}

/** The signal each rlimit sends at its limit, and the reason it names. */
const LIMIT_SIGNALS: Record<string, { limit: string; reason: EndReason }> = {
  SIGXCPU: { limit: "cpuTime", reason: "cpu-time limit" },
  SIGXFSZ: { limit: "fileSize", reason: "file-size limit" },
};

/**
 * The command died of signal `name`: status 128+N. Its rlimit's signal
 * names the limit only when that limit was set: `kill -XCPU $$` is the
 * command's own doing otherwise.
 */
function signalled(name: string, deadline: Pick<Deadline, "rlimits">): Pick<Ending, "status" | "reason" | "signal"> {
  const number = constants.signals[name as keyof typeof constants.signals] ?? 0;
  const limit = LIMIT_SIGNALS[name];
  const set = limit !== undefined && (deadline.rlimits ?? []).some((rlimit) => rlimit.limit === limit.limit);
  return { status: 128 + number, reason: set ? limit.reason : "signalled", signal: name };
}

/**
 * bwrap's init exits 128+N when the command died of signal N: the signal is
 * all it passes on. (A command that itself exits 129-192 reads the same.)
 */
function fromSandboxInit<T extends Omit<Ending, "leftovers">>(ending: T, deadline: Pick<Deadline, "rlimits">): T {
  if (ending.reason !== "exited" || ending.status <= 128 || ending.status > 128 + 64) return ending;
  const name = Object.entries(constants.signals).find(([, number]) => number === ending.status - 128)?.[0];
  return name ? { ...ending, ...signalled(name, deadline) } : ending;
}

function endingOf(child: Subprocess, timedOut: boolean, deadline: Deadline): Omit<Ending, "leftovers"> {
  if (timedOut) return { status: TIMEOUT_STATUS, reason: "timeout" };
  if (child.exitCode !== null) return { status: child.exitCode, reason: "exited" };
  if (child.signalCode === null) return { status: 128, reason: "signalled" };
  return signalled(String(child.signalCode), deadline);
}

/**
 * A failed run whose cgroup killed for want of memory, or refused a fork,
 * ended at that limit. A run that succeeded anyway did not: a build that
 * retried a refused fork is no failure.
 */
export function blameCgroup<T extends Pick<Ending, "status" | "reason">>(ending: T, events: CgroupEvents): T {
  if (ending.status === 0 || ending.reason === "timeout") return ending;
  if (events.oomKills > 0) return { ...ending, reason: "memory limit" };
  if (events.forksRefused > 0) return { ...ending, reason: "pids limit" };
  return ending;
}

/**
 * The timeout: SIGTERM (and SIGCONT, so a stopped process gets it) to every
 * process of the sandbox, then SIGKILL to all of it once the grace period is
 * over. Returns what happened so far and a function that disarms it.
 */
function armDeadline(deadline: Deadline): { fired: () => boolean; killed: () => boolean; disarm: () => void } {
  let fired = false;
  let killed = false;
  let grace: ReturnType<typeof setTimeout> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  // Until the SIGTERM reaches a process of the command's (bwrap may still be setting up), try again: a
  // timeout shorter than the sandbox's start must not leave the command to run until the SIGKILL.
  const terminate = () => {
    const spared = new Set(deadline.machinery?.() ?? []);
    const reached = signalDescendants(SIGNALS.SIGTERM, spared);
    signalDescendants(SIGNALS.SIGCONT, spared);
    if (reached === 0 && !killed) retry = setTimeout(terminate, 50);
  };
  const timer =
    deadline.timeout === undefined
      ? undefined
      : setTimeout(() => {
          fired = true;
          terminate();
          grace = setTimeout(() => {
            killed = true;
            clearTimeout(retry);
            // Everything, bwrap's processes too: with its init gone, the kernel kills the rest of its namespace.
            signalDescendants(SIGNALS.SIGKILL);
          }, deadline.killAfter);
        }, deadline.timeout);
  return {
    fired: () => fired,
    killed: () => killed,
    disarm: () => {
      clearTimeout(timer);
      clearTimeout(grace);
      clearTimeout(retry);
    },
  };
}

/**
 * Catches the forwarded signals from before the child exists: a SIGTERM that
 * arrives while stage 2 starts is held, then delivered once there is
 * somewhere to deliver it, instead of killing cordon and orphaning the command.
 * The handlers stay until cordon exits: after the command, no signal may cut
 * its clean-up short.
 */
export class SignalForwarder {
  private targets: (() => number[]) | undefined;
  private pending: ForwardedSignal[] = [];

  constructor() {
    for (const signal of FORWARDED_SIGNALS) {
      process.on(signal, () => {
        if (cameFromTerminal(signal)) return;
        if (this.targets) this.deliver(signal, this.targets());
        else this.pending.push(signal);
      });
    }
  }

  /** `targets` names the processes a forwarded signal goes to. */
  attach(targets: () => number[]): void {
    this.targets = targets;
    for (const signal of this.pending.splice(0)) this.deliver(signal, targets());
  }

  private deliver(signal: ForwardedSignal, pids: number[]): void {
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    }
  }
}

/**
 * `signalTargets` names the processes a forwarded signal goes to; by default
 * the child. In bwrap mode the child is bwrap, whose PID 1 in the sandbox
 * ignores signals, so they go to the command itself.
 */
export function supervise(
  child: Subprocess,
  forwarder: SignalForwarder,
  deadline: Deadline,
  signalTargets: () => number[] = () => [child.pid],
): Promise<Ending> {
  forwarder.attach(signalTargets);
  const timeout = armDeadline(deadline);
  const stopWatching = deadline.cgroups?.watchOutOfMemory();
  // Orphans re-parented to us exit too; reap them so no zombie piles up.
  const reaper = setInterval(() => {
    for (const pid of childPids()) if (pid !== child.pid) reapIfExited(pid);
  }, 250);

  return child.exited.then(() => {
    timeout.disarm();
    clearInterval(reaper);
    stopWatching?.();
    const sweep = sweepDescendants();
    // Belt and braces: every process of the cgroup is a descendant, which the sweep has killed already.
    deadline.cgroups?.killAll();
    // The handlers stay, forwarding to no one: a SIGTERM or a second Ctrl-C must not kill cordon
    // before it has cleaned up (the cgroups, the git repairs, the state directory). It exits on its own.
    forwarder.attach(() => []);
    if (sweep.survivors.length > 0) {
      const stuck = sweep.survivors.some((survivor) => survivor.state === "D");
      throw new CordonError(
        `${sweep.survivors.length} process(es) of the sandbox were still there 5 s after the command ended, ` +
          `SIGKILL pending (pid ${sweep.survivors.map((survivor) => survivor.pid).join(", ")}); ` +
          `the run is reported as failed`,
        stuck ? { hint: "state D: stuck in the kernel; `ps -o pid,stat,wchan,cmd -p PID` shows where" } : {},
      );
    }
    const raw = endingOf(child, timeout.fired(), deadline);
    const ending = deadline.throughSandboxInit ? fromSandboxInit(raw, deadline) : raw;
    const events = deadline.cgroups?.events();
    return {
      ...(events ? { ...blameCgroup(ending, events), cgroup: events } : ending),
      ...(timeout.fired() ? { killedAfterGrace: timeout.killed() } : {}),
      leftovers: sweep.killed,
    };
  });
}
