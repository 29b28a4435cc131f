// Probes of the running kernel, done once per run.
import { errnoName } from "../../ffi/constants.ts";
import { effectiveAbi } from "../landlock/abi.ts";
import { probeLandlockAbi } from "../landlock/apply.ts";
import { CordonError } from "../errors.ts";

/** Hidden, for tests: caps the Landlock ABI so every ABI's behaviour can be proven on one kernel. */
export const ABI_CAP_VARIABLE = "CORDON_LANDLOCK_ABI_MAX";

export interface LandlockAvailability {
  abi: number;
  /** Why the ABI is 0, or why it was capped. */
  note?: string;
}

export function landlockAvailability(env: Record<string, string | undefined> = process.env): LandlockAvailability {
  const status = probeLandlockAbi();
  const capText = env[ABI_CAP_VARIABLE];
  const cap = capText === undefined || capText === "" ? undefined : Number(capText);
  if (cap !== undefined && (!Number.isInteger(cap) || cap < 0)) {
    throw new CordonError(`${ABI_CAP_VARIABLE}=${capText} is not a non-negative integer`);
  }
  if (!status.available) {
    const note =
      status.reason === "not-built-in"
        ? "Landlock is not built into this kernel (ENOSYS)"
        : status.reason === "disabled-at-boot"
          ? "Landlock is built in but disabled at boot (EOPNOTSUPP)"
          : `the Landlock probe failed (${errnoName(status.errno)})`;
    return { abi: 0, note };
  }
  const abi = effectiveAbi(status.abi, cap);
  if (abi === 0) return { abi, note: `Landlock is disabled by ${ABI_CAP_VARIABLE}=0` };
  return { abi, note: abi < status.abi ? `ABI ${status.abi} capped to ${abi} by ${ABI_CAP_VARIABLE}` : undefined };
}

export function requireLandlock(availability: LandlockAvailability): number {
  if (availability.abi > 0) return availability.abi;
  throw new CordonError(`cannot sandbox: ${availability.note ?? "Landlock is unavailable"}`, {
    hint: "cordon needs Landlock (Linux 5.13 or newer, with lsm=landlock in the kernel command line); the command was not run",
  });
}
