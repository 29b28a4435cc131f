// Stage 1 stays alive as a small supervisor around the sandboxed process:
// it forwards signals, reaps orphans re-parented to it, kills whatever the
// command left running (stage1/sweep.ts), and reports the command's status.
import { constants } from "node:os";
import type { Subprocess } from "bun";
import { PR_SET_CHILD_SUBREAPER } from "../../ffi/constants.ts";
import { prctl, processGroup, reapIfExited, terminalForegroundGroup } from "../../ffi/libc.ts";
import { CordonError } from "../errors.ts";
import { childPids } from "../host/processes.ts";
import { sweepDescendants } from "./sweep.ts";

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

function exitStatusOf(child: Subprocess): number {
  if (child.exitCode !== null) return child.exitCode;
  const signal = child.signalCode ? constants.signals[child.signalCode as keyof typeof constants.signals] : undefined;
  return 128 + (signal ?? 0);
}

/** How a supervised run ended. */
export interface Ending {
  /** The command's exit status (128+N for signal N). */
  status: number;
  /** Processes the command left running, killed when it ended. */
  leftovers: number;
}

/**
 * Catches the forwarded signals from before the child exists: a SIGTERM that
 * arrives while stage 2 starts is held, then delivered once there is
 * somewhere to deliver it, instead of killing cordon and orphaning the command.
 */
export class SignalForwarder {
  private targets: (() => number[]) | undefined;
  private pending: ForwardedSignal[] = [];
  private readonly handlers = new Map<ForwardedSignal, () => void>();

  constructor() {
    for (const signal of FORWARDED_SIGNALS) {
      const handler = () => {
        if (cameFromTerminal(signal)) return;
        if (this.targets) this.deliver(signal, this.targets());
        else this.pending.push(signal);
      };
      this.handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  /** `targets` names the processes a forwarded signal goes to. */
  attach(targets: () => number[]): void {
    this.targets = targets;
    for (const signal of this.pending.splice(0)) this.deliver(signal, targets());
  }

  detach(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
    this.handlers.clear();
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
  signalTargets: () => number[] = () => [child.pid],
): Promise<Ending> {
  forwarder.attach(signalTargets);
  // Orphans re-parented to us exit too; reap them so no zombie piles up.
  const reaper = setInterval(() => {
    for (const pid of childPids()) if (pid !== child.pid) reapIfExited(pid);
  }, 250);

  return child.exited.then(() => {
    clearInterval(reaper);
    const sweep = sweepDescendants();
    forwarder.detach();
    if (sweep.survivors.length > 0) {
      const stuck = sweep.survivors.some((survivor) => survivor.state === "D");
      throw new CordonError(
        `${sweep.survivors.length} process(es) of the sandbox were still there 5 s after the command ended, ` +
          `SIGKILL pending (pid ${sweep.survivors.map((survivor) => survivor.pid).join(", ")}); ` +
          `the run is reported as failed`,
        stuck ? { hint: "state D: stuck in the kernel; `ps -o pid,stat,wchan,cmd -p PID` shows where" } : {},
      );
    }
    return { status: exitStatusOf(child), leftovers: sweep.killed };
  });
}
