// What compiling denies into sibling grants costs, as data for warnings and
// `explain`: the directories on the way to a denied path lose, for
// themselves, the rights their denied descendants must not have.
import type { FsRight } from "../../ffi/landlock.ts";
import { fsMask } from "./abi.ts";
import type { Degradation } from "../policy/degradations.ts";
import type { Exclusion, Placement } from "./deny.ts";

const ENTRY_RIGHTS: FsRight[] = [
  "REMOVE_DIR",
  "REMOVE_FILE",
  "MAKE_CHAR",
  "MAKE_DIR",
  "MAKE_REG",
  "MAKE_SOCK",
  "MAKE_FIFO",
  "MAKE_BLOCK",
  "MAKE_SYM",
  "REFER",
];
const MAX_NAMED = 6;

function names(paths: Iterable<string>): string {
  const all = [...new Set(paths)];
  const shown = all.slice(0, MAX_NAMED).join(", ");
  return all.length > MAX_NAMED ? `${shown} and ${all.length - MAX_NAMED} more` : shown;
}

function group(placement: Placement, rights: bigint) {
  const dirs: string[] = [];
  const denied: string[] = [];
  for (const item of placement.withheld) {
    if ((item.rights & rights) === 0n) continue;
    dirs.push(item.dir);
    denied.push(...item.because.map((exclusion) => exclusion.path));
  }
  return { dirs, denied };
}

export function denyCosts(placement: Placement, exclusions: readonly Exclusion[]): Degradation[] {
  const costs: Degradation[] = [];
  // The metadata degradation (chmod, utimes) is not specific to denies: landlock-only
  // mode names it for every file outside the write roots (LANDLOCK_ONLY_GAPS). No
  // deny withholds READ_DIR (deny.ts): the directories above a denied path stay listable.
  const entries = group(placement, fsMask(ENTRY_RIGHTS));
  if (entries.dirs.length > 0) {
    costs.push({
      layer: "landlock",
      name: "deny-costs",
      feature: "creating entries next to denied paths",
      consequence:
        `no entries can be created, removed or renamed directly in ${names(entries.dirs)} ` +
        `(on the way to denied ${names(entries.denied)}); existing entries stay writable`,
      weakensSecurity: false,
    });
  }
  if (placement.unlisted.length > 0) {
    costs.push({
      layer: "landlock",
      name: "deny-costs",
      feature: "unlistable directories above denied paths",
      consequence:
        `${names(placement.unlisted)} could not be listed when planning, so their ` +
        `entries lose what the directory lost (as if denied)`,
      weakensSecurity: false,
    });
  }
  return costs;
}
