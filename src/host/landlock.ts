// The running kernel's Landlock ABI, probed once per run.
import { ERRNO, errnoName } from "../../ffi/constants.ts";
import { LANDLOCK_CREATE_RULESET_VERSION } from "../../ffi/landlock.ts";
import { lastErrno, rawSyscall } from "../../ffi/libc.ts";
import { NR } from "../../ffi/syscalls.ts";
import { effectiveAbi } from "../landlock/abi.ts";
import { CordonError } from "../errors.ts";
import { TEST_HOOKS } from "../version.ts";

/** Hidden, for tests: caps the Landlock ABI so every ABI's behaviour can be proven on one kernel. */
const ABI_CAP_VARIABLE = "CORDON_LANDLOCK_ABI_MAX";

type LandlockStatus =
  | { available: true; abi: number }
  | { available: false; reason: "not-built-in" | "disabled-at-boot" | "error"; errno: number };

export function probeLandlockAbi(): LandlockStatus {
  const abi = rawSyscall(NR.landlock_create_ruleset, null, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return { available: true, abi };
  const errno = lastErrno();
  if (errno === ERRNO.ENOSYS) return { available: false, reason: "not-built-in", errno };
  if (errno === ERRNO.EOPNOTSUPP) return { available: false, reason: "disabled-at-boot", errno };
  return { available: false, reason: "error", errno };
}

export interface LandlockAvailability {
  abi: number;
  /** Why the ABI is 0, or why it was capped. */
  note?: string;
}

export function landlockAvailability(env: Record<string, string | undefined> = process.env): LandlockAvailability {
  const status = probeLandlockAbi();
  // Release builds honour no test hooks: there the variable means nothing.
  const capText = TEST_HOOKS ? env[ABI_CAP_VARIABLE] : undefined;
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
