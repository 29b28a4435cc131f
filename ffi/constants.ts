// Small kernel constants that are not Landlock or seccomp specific.
import { HOST_ARCH } from "./syscalls.ts";

export const PR_SET_PDEATHSIG = 1;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_SET_CHILD_SUBREAPER = 36;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export const CLOSE_RANGE_CLOEXEC = 1 << 2;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const MFD_CLOEXEC = 1;

export const O_WRONLY = 1;
export const O_EXCL = 0o200;
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
/** The same on x86_64 and arm64: an open of a FIFO with no reader fails instead of waiting. */
export const O_NONBLOCK = 0o4000;
// arm64 swaps these two with O_DIRECT and O_LARGEFILE (arch/arm64/include/uapi/asm/fcntl.h).
export const O_DIRECTORY = HOST_ARCH === "aarch64" ? 0o40000 : 0o200000;
export const O_NOFOLLOW = HOST_ARCH === "aarch64" ? 0o100000 : 0o400000;
/** The file type bits of a mode (<sys/stat.h>), and the type of a socket. */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const AT_FDCWD = -100;
/** The call works on the descriptor itself when the path is "". */
export const AT_EMPTY_PATH = 0x1000;
/** open_tree and mount_setattr: the whole tree of mounts below, not just the top one. */
export const AT_RECURSIVE = 0x8000;
/** unlinkat(2): remove a directory, as rmdir(2) does. */
export const AT_REMOVEDIR = 0x200;

/** openat2(2) `resolve` flags (<linux/openat2.h>). */
export const RESOLVE_NO_SYMLINKS = 0x04;
/** No "..", no absolute path, no escape from the starting directory. */
export const RESOLVE_BENEATH = 0x08;

/** statx(2) mask bits (<linux/stat.h>). STATX_MNT_ID is Linux 5.8, STATX_MNT_ID_UNIQUE (never reused) 6.8. */
export const STATX_TYPE = 0x1;
export const STATX_INO = 0x100;
export const STATX_MNT_ID = 0x1000;
export const STATX_MNT_ID_UNIQUE = 0x4000;

/** statfs(2) f_flags bits. */
export const ST_RDONLY = 1;

export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWUSER = 0x10000000;

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
/** The socket type sits in the low bits; SOCK_NONBLOCK and SOCK_CLOEXEC above. */
export const SOCK_TYPE_MASK = 0xf;
export const IPPROTO_TCP = 6;
export const IPPROTO_MPTCP = 262;

export const O_CREAT = 0o100;
/** __O_TMPFILE without O_DIRECTORY: set for every O_TMPFILE open. */
export const O_TMPFILE_BIT = 0o20000000;
/** flock(2) operations. */
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;

export const TIOCSTI = 0x5412;
export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TIOCSPGRP = 0x5410;
/** struct termios as the kernel's TCGETS/TCSETS ioctls use it (not glibc's): 36 bytes. */
export const KERNEL_TERMIOS_SIZE = 36;
export const TIOCLINUX = 0x541c;
/** <asm-generic/ioctls.h>, the same on x86_64 and aarch64. */
export const TIOCCONS = 0x541d;
export const TIOCSETD = 0x5423;
export const TIOCVHANGUP = 0x5437;
export const TIOCSLCKTRMIOS = 0x5457;
export const TCXONC = 0x540a;
/** TCXONC's argument: restart output suspended by TCOOFF (or Ctrl-S). */
export const TCOON = 1;
export const TIOCNXCL = 0x540d;
/** _IOR('T', 0x40, int): whether the terminal is in exclusive mode (TIOCEXCL). */
export const TIOCGEXCL = 0x80045440;

export const SIGNALS = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTTOU: 22,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGWINCH: 28,
} as const;

/** The resources of setrlimit(2) cordon sets: CORE always (no core dumps), the others for --cpu-time and kin. */
export const RLIMITS = { CPU: 0, FSIZE: 1, DATA: 2, CORE: 4, NPROC: 6, NOFILE: 7, AS: 9 } as const;

export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOEXEC: 8,
  E2BIG: 7,
  ETXTBSY: 26,
  ENOSPC: 28,
  EROFS: 30,
  ELOOP: 40,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
} as const;

export function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === errno) return name;
  return `errno ${errno}`;
}
