// Syscall numbers, checked against asm/unistd_64.h (x86_64) and
// asm-generic/unistd.h (aarch64). Syscalls added since 5.1 share one number
// on every architecture.

export type KernelArch = "x86_64" | "aarch64";

export const SYSCALL_NAMES = [
  "socket", "socketpair", "connect", "bind", "ioctl", "ptrace", "unshare", "clone", "clone3",
  "execve", "prctl", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
  "landlock_restrict_self", "io_uring_setup", "io_uring_enter", "io_uring_register",
  "close_range", "setns", "mount", "umount2", "pivot_root", "open_tree", "move_mount",
  "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "open_tree_attr", "keyctl",
  "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "init_module",
  "finit_module", "delete_module", "kexec_load", "kexec_file_load", "open_by_handle_at",
  "acct", "swapon", "swapoff", "reboot", "shmget", "shmat", "shmctl", "shmdt", "msgget",
  "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "memfd_create",
  "capset", "capget", "rt_sigprocmask", "kill", "personality", "chmod", "fchmod", "fchmodat", "fchmodat2",
  "open", "openat", "openat2", "creat", "mknod", "mknodat", "getppid",
] as const;

/** Marks a syscall this architecture does not have (aarch64 has no open, creat, chmod, mknod). */
export const ABSENT = -1;

export type SyscallName = (typeof SYSCALL_NAMES)[number];

const X86_64: Record<SyscallName, number> = {
  socket: 41, socketpair: 53, connect: 42, bind: 49, ioctl: 16, ptrace: 101, unshare: 272,
  clone: 56, clone3: 435, execve: 59, prctl: 157, seccomp: 317,
  landlock_create_ruleset: 444, landlock_add_rule: 445, landlock_restrict_self: 446,
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, close_range: 436,
  setns: 308, mount: 165, umount2: 166, pivot_root: 155, open_tree: 428, move_mount: 429,
  fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
  open_tree_attr: 467, keyctl: 250, add_key: 248, request_key: 249, bpf: 321,
  perf_event_open: 298, userfaultfd: 323, init_module: 175, finit_module: 313,
  delete_module: 176, kexec_load: 246, kexec_file_load: 320, open_by_handle_at: 304,
  acct: 163, swapon: 167, swapoff: 168, reboot: 169, shmget: 29, shmat: 30, shmctl: 31,
  shmdt: 67, msgget: 68, msgsnd: 69, msgrcv: 70, msgctl: 71, semget: 64, semop: 65,
  semtimedop: 220, semctl: 66, memfd_create: 319, capset: 126, capget: 125,
  rt_sigprocmask: 14, kill: 62, personality: 135, chmod: 90, fchmod: 91, fchmodat: 268, fchmodat2: 452,
  open: 2, openat: 257, openat2: 437, creat: 85, mknod: 133, mknodat: 259, getppid: 110,
};

const AARCH64: Record<SyscallName, number> = {
  socket: 198, socketpair: 199, connect: 203, bind: 200, ioctl: 29, ptrace: 117, unshare: 97,
  clone: 220, clone3: 435, execve: 221, prctl: 167, seccomp: 277,
  landlock_create_ruleset: 444, landlock_add_rule: 445, landlock_restrict_self: 446,
  io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, close_range: 436,
  setns: 268, mount: 40, umount2: 39, pivot_root: 41, open_tree: 428, move_mount: 429,
  fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
  open_tree_attr: 467, keyctl: 219, add_key: 217, request_key: 218, bpf: 280,
  perf_event_open: 241, userfaultfd: 282, init_module: 105, finit_module: 273,
  delete_module: 106, kexec_load: 104, kexec_file_load: 294, open_by_handle_at: 265,
  acct: 89, swapon: 224, swapoff: 225, reboot: 142, shmget: 194, shmat: 196, shmctl: 195,
  shmdt: 197, msgget: 186, msgsnd: 189, msgrcv: 188, msgctl: 187, semget: 190, semop: 193,
  semtimedop: 192, semctl: 191, memfd_create: 279, capset: 91, capget: 90,
  rt_sigprocmask: 135, kill: 129, personality: 92, chmod: ABSENT, fchmod: 52, fchmodat: 53, fchmodat2: 452,
  open: ABSENT, openat: 56, openat2: 437, creat: ABSENT, mknod: ABSENT, mknodat: 33, getppid: 173,
};

export const SYSCALLS: Record<KernelArch, Record<SyscallName, number>> = {
  x86_64: X86_64,
  aarch64: AARCH64,
};

/** x32 calls arrive with arch X86_64 and this bit set in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

// <linux/audit.h>
export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  i386: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
} as const;

function kernelArchOf(nodeArch: string): KernelArch {
  if (nodeArch === "x64") return "x86_64";
  if (nodeArch === "arm64") return "aarch64";
  throw new Error(`unsupported architecture: ${nodeArch}`);
}

export const HOST_ARCH: KernelArch = kernelArchOf(process.arch);
export const NR = SYSCALLS[HOST_ARCH];
