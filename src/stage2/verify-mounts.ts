// Before exec, stage 2 checks that each bind mount of the plan is really where
// the plan says. Another process that can write a write root could swap a
// path component for a symlink while bwrap resolves mount targets, landing a
// read-only or hiding mount on a decoy. The check: the path is a mount point,
// read-only when the plan says so, on the inode stage 1 resolved.
import { lstatSync, readFileSync } from "node:fs";
import type { WireMountCheck } from "../launch/wire.ts";

interface MountEntry {
  mountPoint: string;
  options: string[];
}

function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

function parseMountInfo(text: string): Map<string, MountEntry> {
  const byMountPoint = new Map<string, MountEntry>();
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    if (fields.length < 6) continue;
    const mountPoint = unescapeMountPath(fields[4]!);
    // Later lines are mounted on top of earlier ones at the same point.
    byMountPoint.set(mountPoint, { mountPoint, options: fields[5]!.split(",") });
  }
  return byMountPoint;
}

export function verifyMounts(checks: readonly WireMountCheck[]): void {
  if (checks.length === 0) return;
  const mounts = parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8"));
  for (const check of checks) {
    const mount = mounts.get(check.path);
    if (!mount) throw new Error(`${check.path} is not a mount point: its mount may have landed elsewhere`);
    if (check.readOnly && !mount.options.includes("ro")) throw new Error(`${check.path} is not mounted read-only`);
    const stat = lstatSync(check.path, { bigint: true });
    if (stat.dev.toString() !== check.dev || stat.ino.toString() !== check.ino) {
      throw new Error(`${check.path} is not the file stage 1 resolved (it changed while the sandbox was set up)`);
    }
  }
}
