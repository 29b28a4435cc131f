// `cordon run [options] -- COMMAND [ARG...]`
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CordonError } from "../../errors.ts";
import { gatherHostFacts } from "../../plan/facts.ts";
import { planSandbox } from "../../plan/sandbox.ts";
import { parsePolicy, resolvePolicy } from "../../policy/resolve.ts";
import { landlockAvailability, requireLandlock } from "../../stage1/host.ts";
import { runLandlockOnly } from "../../stage1/run-landlock.ts";
import { rawArguments } from "../../stage1/self.ts";
import { parseCommandLine, type ParsedOptions } from "../args.ts";
import type { RawArgs } from "../main.ts";
import { describeGaps } from "../report.ts";
import { RUN_OPTIONS } from "./run-options.ts";

const USAGE = "usage: cordon [run] [options] -- COMMAND [ARG...]; see cordon --help";

export function policyFromOptions(options: ParsedOptions) {
  return parsePolicy(
    {
      writeRoots: (options.write as string[] | undefined) ?? [],
      network: options.net ? "all" : "none",
      mode: (options.mode as "auto" | "bwrap" | "landlock" | undefined) ?? "auto",
    },
    "command line",
  );
}

export default async function run(args: string[], raw: RawArgs): Promise<number> {
  const parsed = parseCommandLine(args, RUN_OPTIONS, USAGE);
  const { options } = parsed;
  if (options.help) {
    const { runHelp } = await import("../help.ts");
    process.stdout.write(await runHelp());
    return 0;
  }
  if (options.version) {
    const { VERSION } = await import("../../version.ts");
    process.stdout.write(`cordon ${VERSION}\n`);
    return 0;
  }
  if (parsed.command.length === 0) throw new CordonError("no command given", { hint: USAGE });
  if (parsed.command[0] === "") throw new CordonError("the command name is empty", { hint: USAGE });

  const policy = resolvePolicy(policyFromOptions(options), options.cwd as string | undefined);
  if (policy.mode === "bwrap") {
    throw new CordonError("--mode bwrap is not available in this build", { hint: "use --mode landlock" });
  }
  const abi = requireLandlock(landlockAvailability());
  // The exact bytes of the command's arguments, not their decoded text.
  const argv = rawArguments(raw.total).slice(raw.offset + parsed.commandStart);

  const privateTmp = mkdtempSync(join(tmpdir(), "cordon-"));
  try {
    const plan = planSandbox(policy, gatherHostFacts(abi), privateTmp);
    if (options.verbose) process.stderr.write(`cordon: mode landlock-only, Landlock ABI ${abi}\n`);
    if (!options.quiet) {
      const gaps = describeGaps(plan.gaps);
      if (gaps) process.stderr.write(`cordon: warning: landlock-only mode does not enforce: ${gaps}\n`);
    }
    return await runLandlockOnly(plan, argv, 0);
  } finally {
    rmSync(privateTmp, { recursive: true, force: true });
  }
}
