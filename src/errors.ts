// One error type for everything cordon refuses or fails at. Only the CLI
// entry point (and stage 2's own top level) print it and choose the exit status.

export const EXIT = {
  /** cordon itself refused or failed; the command did not run. */
  CORDON: 125,
  CANNOT_EXECUTE: 126,
  NOT_FOUND: 127,
} as const;

/** What an error says, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class CordonError extends Error {
  constructor(
    message: string,
    readonly options: {
      hint?: string;
      /** Further lines of the message, each printed as a line of its own ("fix: ...", "or: ..."). */
      lines?: string[];
      exitCode?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = "CordonError";
  }

  get exitCode(): number {
    return this.options.exitCode ?? EXIT.CORDON;
  }

  get hint(): string | undefined {
    return this.options.hint;
  }
}

/** The error's lines as printed after `cordon: `: the message, its further lines, the hint. */
export function errorLines(error: CordonError): string[] {
  return [error.message, ...(error.options.lines ?? []), ...(error.hint ? [`hint: ${error.hint}`] : [])];
}

export function formatError(error: CordonError): string {
  return errorLines(error)
    .map((line) => `cordon: ${line}\n`)
    .join("");
}
