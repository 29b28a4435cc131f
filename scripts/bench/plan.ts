// What the benchmark runs: runners (how a command is wrapped) crossed with
// workloads (which command, under which policy). Pure data plus argv
// builders; measuring lives in run.ts.

export type RunnerId = "bare" | "bwrap" | "cordon-bwrap" | "cordon-landlock";

export interface Policy {
  denyRead: readonly string[];
  write: readonly string[];
}

export interface Workload {
  id: string;
  label: string;
  command: readonly string[];
  policy: Policy;
  /** Exit statuses that count as a normal run (find exits 1 on an unreadable directory). */
  acceptExit: readonly number[];
}

export interface Group {
  id: "true" | "stat" | "deny" | "write";
  title: string;
  /** What the numbers are for; printed above the table. */
  note?: string;
  workloads: Workload[];
  iterations: number;
  warmup: number;
  /** Runners measured in this group; the bare command ignores policies, so policy groups leave it out. */
  runners: readonly RunnerId[];
}

export interface Runner {
  id: RunnerId;
  label: string;
  argv(workload: Workload): string[];
}

export interface Tools {
  cordon: string;
  bwrap: string;
}

/** The mounts cordon's bwrap mode starts from, as plain bwrap flags. */
export function bareBwrapArgs(bwrap: string): string[] {
  return [
    bwrap,
    "--unshare-all",
    "--die-with-parent",
    "--ro-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--tmpfs",
    "/tmp",
  ];
}

export function runners(tools: Tools): Runner[] {
  const cordon =
    (mode: "bwrap" | "landlock") =>
    (workload: Workload): string[] => [
      tools.cordon,
      "-q",
      "--mode",
      mode,
      ...workload.policy.write.flatMap((path) => ["-w", path]),
      ...workload.policy.denyRead.flatMap((path) => ["--deny-read", path]),
      "--",
      ...workload.command,
    ];
  return [
    // The unsandboxed command; policies do not apply to it.
    { id: "bare", label: "bare command", argv: (workload) => [...workload.command] },
    {
      id: "bwrap",
      label: "bare bwrap",
      // The bwrap equivalent of each policy: a bind per write root, an empty
      // tmpfs over each denied directory. After --tmpfs /tmp, so the fixture
      // (under /tmp) is mounted over rather than hidden.
      argv: (workload) => [
        ...bareBwrapArgs(tools.bwrap),
        ...workload.policy.write.flatMap((path) => ["--bind", path, path]),
        ...workload.policy.denyRead.flatMap((path) => ["--tmpfs", path]),
        "--",
        ...workload.command,
      ],
    },
    { id: "cordon-bwrap", label: "cordon --mode bwrap", argv: cordon("bwrap") },
    { id: "cordon-landlock", label: "cordon --mode landlock", argv: cordon("landlock") },
  ];
}

export const POLICY_SIZES = [0, 10, 100, 1000] as const;

export interface Counts {
  iterations: number;
  statIterations: number;
  /** The -w group is slow under bare bwrap (1,000 --bind mounts take seconds), so it gets its own count. */
  standInIterations: number;
  warmup: number;
}

const ALL: readonly RunnerId[] = ["bare", "bwrap", "cordon-bwrap", "cordon-landlock"];
const SANDBOXES: readonly RunnerId[] = ["bwrap", "cordon-bwrap", "cordon-landlock"];

export function groups(
  paths: { true: string; find: string },
  fixture: { denyPaths: string[]; writeRoots: string[] },
  counts: Counts,
): Group[] {
  const none: Policy = { denyRead: [], write: [] };
  const trueCommand = [paths.true];
  return [
    {
      id: "true",
      title: "true",
      note: "start-up cost: the command does nothing",
      iterations: counts.iterations,
      warmup: counts.warmup,
      runners: ALL,
      workloads: [{ id: "true", label: "true", command: trueCommand, policy: none, acceptExit: [0] }],
    },
    {
      id: "stat",
      title: "stat-heavy: find /usr -xdev",
      note: "Landlock and seccomp cost per syscall inside the sandbox; find may exit 1 where capabilities are dropped",
      iterations: counts.statIterations,
      warmup: 1,
      runners: ALL,
      workloads: [
        {
          id: "find-usr",
          label: "find /usr",
          command: [paths.find, "/usr", "-xdev"],
          policy: none,
          acceptExit: [0, 1],
        },
      ],
    },
    {
      id: "deny",
      title: "policy size: N --deny-read paths, command true",
      note: "setup growth; bare bwrap gets one --tmpfs per path",
      // bwrap's read-only binds rescan the mount table each, so 1,000 of them take seconds.
      iterations: Math.min(counts.iterations, 10),
      warmup: counts.warmup,
      runners: SANDBOXES,
      workloads: POLICY_SIZES.map((size) => ({
        id: `deny-${size}`,
        label: `${size} deny`,
        command: trueCommand,
        policy: { denyRead: fixture.denyPaths.slice(0, size), write: [] },
        acceptExit: [0],
      })),
    },
    {
      id: "write",
      title: "policy size: N -w write roots, command true",
      note: "setup growth of binds; bare bwrap gets one --bind per root",
      iterations: counts.standInIterations,
      warmup: 1,
      runners: SANDBOXES,
      workloads: POLICY_SIZES.map((size) => ({
        id: `write-${size}`,
        label: `${size} -w`,
        command: trueCommand,
        policy: { denyRead: [], write: fixture.writeRoots.slice(0, size) },
        acceptExit: [0],
      })),
    },
  ];
}
