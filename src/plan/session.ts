// The command's session, decided from one host fact. A command interactive
// on the user's terminal keeps cordon's session, so job control, Ctrl-C,
// Ctrl-Z and window resizes reach it as they reach any program. Any other
// command (stdio all pipes or files, as agents and CI run it) gets a session
// of its own with no controlling terminal: /dev/tty then opens nothing
// (ENXIO), so it can neither read what the user types to the agent meanwhile
// nor print prompts on the user's screen.
import type { ControllingTerminal } from "../host/terminal.ts";

export type Session = "inherit" | "new";

export interface SessionPlan {
  session: Session;
  /** Why, in words, for explain. */
  why: string;
}

export function sessionPlanFor(terminal: ControllingTerminal): SessionPlan {
  if (terminal.stdioFd !== undefined) {
    return {
      session: "inherit",
      why:
        `descriptor ${terminal.stdioFd} is cordon's controlling terminal: the command keeps the session ` +
        "(job control, Ctrl-C, Ctrl-Z, window size) and shares the terminal",
    };
  }
  const cause = terminal.exists
    ? "none of descriptors 0-2 is cordon's controlling terminal"
    : "cordon has no controlling terminal";
  return {
    session: "new",
    why: `${cause}: the command runs in a new session, where /dev/tty opens nothing (ENXIO) and no terminal is granted`,
  };
}
