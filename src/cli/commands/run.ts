// `cordon run [options] -- COMMAND [ARG...]`
import { CordonError } from "../../errors.ts";
import { gatherHostFacts } from "../../plan/facts.ts";
import { landlockOnlyLosses, planSandbox } from "../../plan/sandbox.ts";
import { locateBwrap } from "../../stage1/bwrap-locate.ts";
import { landlockAvailability, requireLandlock } from "../../stage1/host.ts";
import { runInBwrap } from "../../stage1/run-bwrap.ts";
import { runLandlockOnly } from "../../stage1/run-landlock.ts";
import { createRunState } from "../../stage1/run-paths.ts";
import { rawArguments } from "../../stage1/self.ts";
import { parseCommandLine } from "../args.ts";
import { choosePolicy } from "./policy-options.ts";
import type { RawArgs } from "../main.ts";
import { describeGaps } from "../report.ts";
import { RUN_OPTIONS } from "./run-options.ts";

const USAGE = "usage: cordon [run] [options] -- COMMAND [ARG...]; see cordon --help";
const USERNS_FIX =
  "allow unprivileged user namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04; in Docker, --security-opt seccomp=unconfined or a profile that allows unshare)";

function lossesError(losses: string[], why: string): CordonError {
  return new CordonError(`${why}, and landlock-only mode cannot enforce: ${losses.join(", ")}`, {
    hint: `${USERNS_FIX}; the command was not run`,
  });
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
    const { VERSION_LINE } = await import("../../version.ts");
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (parsed.command.length === 0) throw new CordonError("no command given", { hint: USAGE });
  if (parsed.command[0] === "") throw new CordonError("the command name is empty", { hint: USAGE });

  const { policy, warnings } = choosePolicy(options);
  const say = (line: string) => {
    if (!options.quiet) process.stderr.write(`cordon: ${line}\n`);
  };
  const verbose = (line: string) => {
    if (options.verbose) process.stderr.write(`cordon: ${line}\n`);
  };
  for (const warning of warnings) say(`warning: ${warning}`);
  const abi = requireLandlock(landlockAvailability());
  const facts = gatherHostFacts(abi);
  const losses = landlockOnlyLosses(policy);
  if (policy.mode === "landlock" && losses.length > 0) {
    throw new CordonError(`landlock-only mode cannot enforce: ${losses.join(", ")}`, {
      hint: "use --mode bwrap (or auto) where user namespaces work; the command was not run",
    });
  }
  const bwrap = policy.mode === "landlock" ? undefined : locateBwrap(options.bwrap as string | undefined, [...policy.writeRoots, policy.cwd]);
  if (policy.mode === "bwrap" && bwrap && !bwrap.found) {
    throw new CordonError(`--mode bwrap: ${bwrap.reason}`, { hint: "apt-get install bubblewrap, or pass --bwrap PATH" });
  }
  if (policy.mode === "auto" && bwrap && !bwrap.found && losses.length > 0) throw lossesError(losses, bwrap.reason);

  // The exact bytes of the command's arguments, not their decoded text.
  const argv = rawArguments(raw.total).slice(raw.offset + parsed.commandStart);
  const state = createRunState(policy);
  try {
    if (bwrap?.found) {
      const plan = planSandbox(policy, facts, "bwrap", state);
      state.placeholders([...policy.denyWrite, ...policy.denyRead].filter((deny) => deny.kind === "missing").map((deny) => deny.path));
      verbose(`mode bwrap (${bwrap.path}), Landlock ABI ${abi}`);
      const outcome = await runInBwrap(plan, bwrap.path, argv, 0);
      if (outcome.started) return outcome.status;
      const failure = `bubblewrap failed before the command started (exit ${outcome.bwrapStatus})`;
      if (policy.mode === "bwrap") {
        throw new CordonError(failure, {
          hint: `bubblewrap's own message is above; if it could not create namespaces, ${USERNS_FIX}; the command was not run`,
        });
      }
      if (losses.length > 0) throw lossesError(losses, failure);
      say(`${failure}; falling back to landlock-only mode`);
    } else if (bwrap && !bwrap.found) {
      verbose(`${bwrap.reason}; using landlock-only mode`);
    }
    const plan = planSandbox(policy, facts, "landlock", state);
    verbose(`mode landlock-only, Landlock ABI ${abi}`);
    const gaps = describeGaps(plan.gaps);
    if (gaps) say(`warning: landlock-only mode does not enforce: ${gaps}`);
    return await runLandlockOnly(plan, argv, 0);
  } finally {
    state.remove();
  }
}
