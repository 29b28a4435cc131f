// The one entry point of the one binary. Stage 2 is chosen by argv and loads
// nothing else; every CLI command is imported only when it runs.
// First of all, before any other module runs: the descriptors the caller
// handed over (--preserve-fds passes on only those).
import "./host/startup-descriptors.ts";
import { STAGE2_ARGUMENT } from "./launch/wire.ts";
import { runStage2 } from "./stage2/main.ts";

const args = process.argv.slice(2);
if (args[0] === STAGE2_ARGUMENT) {
  runStage2(args.slice(1));
} else {
  const { runCli } = await import("./cli/main.ts");
  process.exitCode = await runCli(args);
}
