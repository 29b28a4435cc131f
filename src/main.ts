// The one entry point of the one binary. Stage 2 is chosen by argv and loads
// nothing else; every CLI command is imported only when it runs.
import { runStage2, STAGE2_ARGUMENT } from "./stage2/main.ts";

const args = process.argv.slice(2);
if (args[0] === STAGE2_ARGUMENT) {
  runStage2(args.slice(1));
} else {
  const { runCli } = await import("./cli/main.ts");
  process.exitCode = await runCli(args);
}
