// Stage 1 stays alive as a small supervisor around the sandboxed process:
// it forwards signals, reaps orphans re-parented to it, kills whatever the
// command left running, and reports the command's status.
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import type { Subprocess } from "bun";
import { PR_SET_CHILD_SUBREAPER } from "../../ffi/constants.ts";
import { prctl, processGroup, reapIfExited, terminalForegroundGroup } from "../../ffi/libc.ts";

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

/** Every child of process `pid` (default: this one), from all of its threads. */
export function childPids(pid: number | "self" = "self"): number[] {
  const pids = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const task of tasks) {
    try {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "latin1").split(" ")) {
        if (child.trim()) pids.add(Number(child));
      }
    } catch {
      // The thread ended while we looked.
    }
  }
  return [...pids];
}

/**
 * A signal typed at the terminal (Ctrl-C, Ctrl-\) already reached the whole
 * foreground process group, the command included: forwarding it again would
 * interrupt twice.
 */
function cameFromTerminal(signal: ForwardedSignal): boolean {
  if (signal !== "SIGINT" && signal !== "SIGQUIT") return false;
  const foreground = terminalForegroundGroup(0);
  return foreground > 0 && foreground === processGroup();
}

function exitStatusOf(child: Subprocess): number {
  if (child.exitCode !== null) return child.exitCode;
  const signal = child.signalCode ? constants.signals[child.signalCode as keyof typeof constants.signals] : undefined;
  return 128 + (signal ?? 0);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGKILLs and reaps every remaining child (and, as subreaper, their orphans). */
function killLeftovers(except: number[] = []): void {
  for (let round = 0; round < 200; round++) {
    const pids = childPids().filter((pid) => !except.includes(pid));
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    sleep(round < 10 ? 1 : 10);
    for (const pid of pids) reapIfExited(pid);
  }
}

interface Supervision {
  /** Resolves with the command's exit status (128+N for signal N). */
  status: Promise<number>;
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
): Supervision {
  forwarder.attach(signalTargets);
  // Orphans re-parented to us exit too; reap them so no zombie piles up.
  const reaper = setInterval(() => {
    for (const pid of childPids()) if (pid !== child.pid) reapIfExited(pid);
  }, 250);

  const status = child.exited.then(() => {
    clearInterval(reaper);
    killLeftovers();
    forwarder.detach();
    return exitStatusOf(child);
  });
  return { status };
}
