// Help text, rendered by citty from the same option tables the parser uses.
import { defineCommand, renderUsage } from "citty";
import { VERSION } from "../version.ts";
import { toCittyArgs } from "./args.ts";
import { RUN_OPTIONS } from "./commands/run-options.ts";

const RUN_NOTES = `
WHAT IS ENFORCED
  Everything is readable and executable, except the secure defaults (SSH,
  GnuPG, cloud and registry credentials, host control sockets: see
  --reveal) and --deny-read paths. Nothing is writable except the write roots
  (-w), minus --deny-write paths, plus /dev/null, the terminal and a private
  temporary directory (TMPDIR). Without --net, only AF_UNIX sockets (and the
  TCP ports of --allow-connect/--allow-bind). No capabilities, no new
  privileges, no setuid files, no core dumps; a seccomp filter refuses
  io_uring, terminal injection, new user namespaces, mounts, keyrings, bpf,
  perf, userfaultfd and 32-bit entry points.

MODES
  bwrap (default where user namespaces work): bubblewrap namespaces and
  mounts, plus Landlock and seccomp inside.
  landlock-only (--mode landlock, or auto mode's fallback when it loses
  nothing): Landlock and seccomp alone. It cannot stop connecting to host unix
  socket files, changing metadata (chmod, utimes) outside the write roots, or
  seeing host processes; a warning line says so. \`cordon explain\` shows it all.

EXIT STATUS
  the command's own; 128+N if it died of signal N; 125 if cordon refused or
  failed (the command did not run); 126 cannot execute; 127 not found.

EXAMPLES
  cordon -w . -- npm test                  # the project is writable, nothing else
  cordon --profile workspace -- make       # the same, with .git write-protected
  cordon --net -w . -w ~/.cache -- cargo build
  cordon -p cordon.yaml -- ./build.sh      # a policy file (JSON, YAML or TOML)
  cordon -v --report run.json -- pytest    # say what was enforced
  cordon explain -w . --deny-read 'secrets/**'
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
