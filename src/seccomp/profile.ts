// cordon's seccomp profile as one declarative table. Each refused call gets an
// errno, never a kill (ENOSYS where libc must fall back); only syscalls from a
// foreign architecture are killed, since their numbers mean other calls.
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  CLONE_NEWUSER,
  IPPROTO_TCP,
  SOCK_STREAM,
  SOCK_TYPE_MASK,
  ERRNO,
  O_CREAT,
  O_TMPFILE_BIT,
  S_ISGID,
  S_ISUID,
  TIOCCONS,
  TIOCLINUX,
  TIOCSETD,
  TIOCSLCKTRMIOS,
  TIOCSTI,
  TIOCVHANGUP,
} from "../../ffi/constants.ts";
import { ABSENT, SYSCALLS, type KernelArch, type SyscallName } from "../../ffi/syscalls.ts";
import type { ArgTest, FilterSpec } from "./assemble.ts";

type ProfileCondition = "always" | "network-off" | "network-none" | "network-tcp" | "landlock-only" | "metadata-locked";

interface ProfileEntry {
  syscalls: SyscallName[];
  when?: ArgTest[];
  /** The errno returned; "allow" ends the syscall's checks early (ordered rules). */
  errno: "EPERM" | "ENOSYS" | "allow";
  applies: ProfileCondition;
  why: string;
}

const MOUNT_CALLS: SyscallName[] = [
  "mount",
  "umount2",
  "pivot_root",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "fspick",
  "mount_setattr",
  "open_tree_attr",
];
const SYSV_IPC_CALLS: SyscallName[] = [
  "shmget",
  "shmat",
  "shmctl",
  "shmdt",
  "msgget",
  "msgsnd",
  "msgrcv",
  "msgctl",
  "semget",
  "semop",
  "semtimedop",
  "semctl",
];

const SET_ID_BITS = S_ISUID | S_ISGID;

/**
 * Every call that changes a file's mode, owner or extended attributes. Not
 * times: `touch` sets them on every file it creates, and a timestamp opens
 * no file to anyone.
 */
const METADATA_CALLS: SyscallName[] = [
  "chmod",
  "fchmod",
  "fchmodat",
  "fchmodat2",
  "chown",
  "fchown",
  "lchown",
  "fchownat",
  "setxattr",
  "lsetxattr",
  "fsetxattr",
  "removexattr",
  "lremovexattr",
  "fremovexattr",
  "setxattrat",
  "removexattrat",
];
const CREATES = O_CREAT | O_TMPFILE_BIT;

export const SECCOMP_PROFILE: readonly ProfileEntry[] = [
  {
    syscalls: ["io_uring_setup"],
    errno: "EPERM",
    applies: "always",
    why: "io_uring opens sockets and files without the syscalls this filter sees",
  },
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCSTI }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCSTI injects keystrokes into the terminal",
  },
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCLINUX }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCLINUX can paste into the console",
  },
  // The terminal is shared with the user's shell: these change it beyond the
  // run, where stage 1 cannot put it back (src/stage1/terminal.ts).
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCSETD }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCSETD changes the line discipline: N_NULL leaves the user's terminal deaf and mute after the run",
  },
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCVHANGUP }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCVHANGUP hangs up the terminal for every process on it, the user's shell included",
  },
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCSLCKTRMIOS }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCSLCKTRMIOS locks the terminal's settings, so they could not be put back after the run",
  },
  {
    syscalls: ["ioctl"],
    when: [{ arg: 1, op: "eq", value: TIOCCONS }],
    errno: "EPERM",
    applies: "always",
    why: "TIOCCONS redirects the system console's messages to a terminal",
  },
  {
    syscalls: ["unshare", "clone"],
    when: [{ arg: 0, op: "hasAnyBit", mask: CLONE_NEWUSER }],
    errno: "EPERM",
    applies: "always",
    why: "a new user namespace regains capabilities inside it",
  },
  {
    syscalls: ["clone3"],
    errno: "ENOSYS",
    applies: "always",
    why: "clone3 flags sit in memory the filter cannot read; ENOSYS makes libc fall back to clone",
  },
  { syscalls: ["setns"], errno: "EPERM", applies: "always", why: "joining another namespace leaves the sandbox" },
  {
    syscalls: ["prlimit64"],
    when: [{ arg: 0, op: "ne", value: 0 }],
    errno: "EPERM",
    applies: "always",
    why:
      "another process's limits: in landlock-only mode stage 1 runs as the same user, and lowering its limits " +
      "(open files) would stop the timeout and the sweep; libc's own getrlimit/setrlimit pass pid 0",
  },
  {
    syscalls: MOUNT_CALLS,
    errno: "EPERM",
    applies: "always",
    why: "mount changes could undo the sandbox's view of the filesystem",
  },
  {
    syscalls: ["keyctl", "add_key", "request_key"],
    errno: "EPERM",
    applies: "always",
    why: "kernel keyrings are shared with the host user",
  },
  {
    syscalls: ["bpf", "perf_event_open", "userfaultfd"],
    errno: "EPERM",
    applies: "always",
    why: "kernel attack surface no build needs",
  },
  {
    syscalls: [
      "init_module",
      "finit_module",
      "delete_module",
      "kexec_load",
      "kexec_file_load",
      "open_by_handle_at",
      "acct",
      "swapon",
      "swapoff",
      "reboot",
    ],
    errno: "EPERM",
    applies: "always",
    why: "host administration",
  },
  // A set-id file left in a write root would run with the sandboxed user's
  // (or root's) identity later, outside the sandbox.
  {
    syscalls: ["chmod", "fchmod", "creat"],
    when: [{ arg: 1, op: "hasAnyBit", mask: SET_ID_BITS }],
    errno: "EPERM",
    applies: "always",
    why: "no setuid or setgid files",
  },
  {
    syscalls: ["fchmodat", "fchmodat2", "mknodat"],
    when: [{ arg: 2, op: "hasAnyBit", mask: SET_ID_BITS }],
    errno: "EPERM",
    applies: "always",
    why: "no setuid or setgid files",
  },
  {
    syscalls: ["mknod"],
    when: [{ arg: 1, op: "hasAnyBit", mask: SET_ID_BITS }],
    errno: "EPERM",
    applies: "always",
    why: "no setuid or setgid files",
  },
  {
    syscalls: ["open"],
    when: [
      { arg: 1, op: "hasAnyBit", mask: CREATES },
      { arg: 2, op: "hasAnyBit", mask: SET_ID_BITS },
    ],
    errno: "EPERM",
    applies: "always",
    why: "no setuid or setgid files",
  },
  {
    syscalls: ["openat"],
    when: [
      { arg: 2, op: "hasAnyBit", mask: CREATES },
      { arg: 3, op: "hasAnyBit", mask: SET_ID_BITS },
    ],
    errno: "EPERM",
    applies: "always",
    why: "no setuid or setgid files",
  },
  {
    syscalls: ["openat2"],
    errno: "ENOSYS",
    applies: "always",
    why: "openat2's mode sits in memory the filter cannot read; ENOSYS makes callers fall back to openat",
  },
  {
    syscalls: ["socketpair"],
    when: [{ arg: 0, op: "ne", value: AF_UNIX }],
    errno: "EPERM",
    applies: "network-off",
    why: "no network: only AF_UNIX socket pairs",
  },
  {
    syscalls: ["socket"],
    when: [{ arg: 0, op: "ne", value: AF_UNIX }],
    errno: "EPERM",
    applies: "network-none",
    why: "no network: only AF_UNIX sockets",
  },
  // With --allow-connect/--allow-bind, Landlock's port rules cover TCP only:
  // UDP, raw, MPTCP (IPPROTO_MPTCP) and other families stay closed here.
  {
    syscalls: ["socket"],
    when: [{ arg: 0, op: "eq", value: AF_UNIX }],
    errno: "allow",
    applies: "network-tcp",
    why: "AF_UNIX sockets",
  },
  {
    syscalls: ["socket"],
    when: [
      { arg: 0, op: "ne", value: AF_INET },
      { arg: 0, op: "ne", value: AF_INET6 },
    ],
    errno: "EPERM",
    applies: "network-tcp",
    why: "TCP ports only: no other family",
  },
  {
    syscalls: ["socket"],
    when: [{ arg: 1, op: "maskedNe", mask: SOCK_TYPE_MASK, value: SOCK_STREAM }],
    errno: "EPERM",
    applies: "network-tcp",
    why: "TCP ports only: stream sockets",
  },
  {
    syscalls: ["socket"],
    when: [
      { arg: 2, op: "ne", value: 0 },
      { arg: 2, op: "ne", value: IPPROTO_TCP },
    ],
    errno: "EPERM",
    applies: "network-tcp",
    why: "TCP ports only: not MPTCP or SCTP",
  },
  {
    syscalls: SYSV_IPC_CALLS,
    errno: "EPERM",
    applies: "landlock-only",
    why: "without an IPC namespace, System V IPC reaches host objects",
  },
  {
    syscalls: METADATA_CALLS,
    errno: "EPERM",
    applies: "metadata-locked",
    why:
      "landlock-only mode without write roots: Landlock has no right for chmod, chown or xattrs, so no " +
      "file's mode, owner or xattrs may change (the private TMPDIR's neither)",
  },
];

export interface ProfileOptions {
  arch: KernelArch;
  /** "tcp": no network but the TCP ports Landlock allows. */
  network: "none" | "tcp" | "all";
  mode: "landlock" | "bwrap";
  /**
   * Refuse every metadata change: landlock-only mode cannot confine chmod and
   * its kin to the write roots, so where there are none it refuses them all.
   */
  lockMetadata?: boolean;
}

export function profileApplies(entry: ProfileEntry, options: ProfileOptions): boolean {
  switch (entry.applies) {
    case "always":
      return true;
    case "network-off":
      return options.network !== "all";
    case "network-none":
      return options.network === "none";
    case "network-tcp":
      return options.network === "tcp";
    case "landlock-only":
      return options.mode === "landlock";
    case "metadata-locked":
      return options.lockMetadata === true;
  }
}

export function seccompSpecFor(options: ProfileOptions): FilterSpec {
  const numbers = SYSCALLS[options.arch];
  return {
    arch: options.arch,
    x32Action: { kind: "errno", errno: ERRNO.ENOSYS },
    rules: SECCOMP_PROFILE.filter((entry) => profileApplies(entry, options)).flatMap((entry) =>
      entry.syscalls
        .filter((name) => numbers[name] !== ABSENT)
        .map((name) => ({
          nr: numbers[name],
          when: entry.when ?? [],
          action:
            entry.errno === "allow"
              ? { kind: "allow" as const }
              : { kind: "errno" as const, errno: ERRNO[entry.errno] },
        })),
    ),
  };
}
