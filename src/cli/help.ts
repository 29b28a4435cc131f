// Help text, rendered by citty from the same option tables the parser uses.
import { defineCommand, renderUsage } from "citty";
import { VERSION } from "../version.ts";
import { toCittyArgs } from "./args.ts";
import { RUN_OPTIONS } from "./commands/run-options.ts";

const RUN_NOTES = `
WHAT IS ENFORCED
  Everything is readable and executable. Nothing is writable except the write
  roots (-w), /dev/null and the terminal, and a private temporary directory
  that cordon creates for the run, exports as TMPDIR, and removes afterwards.
  Without --net, only AF_UNIX sockets can be created.

  landlock-only mode (no user namespaces): Landlock + seccomp + no-new-privs.
  It does not hide host processes, and cannot stop connecting to unix socket
  files such as docker.sock outside the write roots (a warning says so).

EXIT STATUS
  the command's own; 128+N if it died of signal N; 125 if cordon refused or
  failed (the command did not run); 126 cannot execute; 127 not found.

EXAMPLES
  cordon -w . -- npm test            # the project is writable, nothing else
  cordon -- python3 script.py        # read-only, no network
  cordon --net -w ~/.cache -- make   # network allowed
`;

export const runCommandDef = defineCommand({
  meta: { name: "cordon run", version: VERSION, description: "Run COMMAND in a kernel-enforced sandbox (the default command)" },
  args: toCittyArgs(RUN_OPTIONS, "The command to run, after --"),
});

export async function runHelp(): Promise<string> {
  return `${await renderUsage(runCommandDef)}\n${RUN_NOTES}`;
}

export async function topLevelHelp(): Promise<string> {
  const main = defineCommand({
    meta: { name: "cordon", version: VERSION, description: "Run an untrusted command in a kernel-enforced sandbox" },
    subCommands: {
      run: runCommandDef,
      explain: defineCommand({ meta: { name: "explain", description: "Print what a run would enforce, without running anything" } }),
      doctor: defineCommand({ meta: { name: "doctor", description: "Check each sandbox layer on this host and print the fix for what fails" } }),
      selftest: defineCommand({ meta: { name: "selftest", description: "Attempt escapes in the real sandbox here and report pass/fail per mode" } }),
      completion: defineCommand({ meta: { name: "completion", description: "Print a bash or zsh completion script: eval \"$(cordon completion bash)\"" } }),
    },
  });
  return `${await renderUsage(main)}\n${await runHelp()}`;
}
