/*
 * try-syscall: performs one attack (one kernel call, or a small fixed
 * sequence) named on the command line and reports how it went, in the spirit
 * of bubblewrap's tests/try-syscall.c.
 *
 *   try-syscall ATTACK [ARG...]
 *
 * Output: one line per attempt, "LABEL ok[ DETAIL]" or "LABEL errno=N".
 * Exit status: 0 when every attempt succeeded, otherwise the errno of the
 * last failed attempt (1..254), 255 for a usage error. A program killed by
 * seccomp (SIGSYS) prints nothing after the fatal call: callers read the
 * signal from the exit status.
 *
 * The calls go through syscall(2) with raw numbers so that libc wrappers,
 * fallbacks or caches cannot change what is asked of the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int last_errno = 0;

/* Records one attempt: ret >= 0 is success, otherwise errno is the cause. */
static long report(const char *label, long ret, const char *detail) {
  if (ret >= 0) {
    printf("%s ok%s%s\n", label, detail ? " " : "", detail ? detail : "");
  } else {
    int err = errno;
    last_errno = err > 0 && err < 255 ? err : 254;
    printf("%s errno=%d\n", label, err);
  }
  fflush(stdout);
  return ret;
}

/* Reaps a child made by a fork-like call; the child exits 0 at once. */
static void reap(long pid) {
  if (pid > 0) waitpid((pid_t)pid, NULL, __WALL);
}

/* i386 entry point from a 64-bit process: "int $0x80" uses the 32-bit table. */
static long int80(long nr, long a, long b, long c) {
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return (long)(int)ret;
}

static long int80_result(long ret) {
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

/* The first socket type a family accepts; ENOSYS-like errors otherwise. */
static long open_any_socket(int family, int pair) {
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
  int err = EAFNOSUPPORT;
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    long ret;
    if (pair) {
      int fds[2];
      ret = syscall(SYS_socketpair, family, types[i], 0, fds);
      if (ret == 0) {
        close(fds[0]);
        close(fds[1]);
      }
    } else {
      ret = syscall(SYS_socket, family, types[i], 0);
      if (ret >= 0) close((int)ret);
    }
    if (ret >= 0) return 0;
    err = errno;
    /* EPERM/EACCES is the answer we look for; do not mask it with a later type. */
    if (err == EPERM || err == EACCES) break;
  }
  errno = err;
  return -1;
}

static int sweep_sockets(int pair) {
  char label[64];
  for (int family = 0; family < 46; family++) {
    snprintf(label, sizeof label, "%s-family-%d", pair ? "socketpair" : "socket", family);
    report(label, open_any_socket(family, pair), NULL);
  }
  return 0;
}

static int connect_unix(const char *name, const char *message) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  socklen_t len;
  if (name[0] == '@') {
    /* Abstract namespace: a leading NUL, length without a terminator. */
    size_t n = strlen(name + 1);
    memcpy(addr.sun_path + 1, name + 1, n);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  } else {
    strncpy(addr.sun_path, name, sizeof addr.sun_path - 1);
    len = (socklen_t)sizeof addr;
  }
  int fd = (int)report("unix-socket", socket(AF_UNIX, SOCK_STREAM, 0), NULL);
  if (fd < 0) return last_errno;
  if (report("unix-connect", connect(fd, (struct sockaddr *)&addr, len), NULL) < 0) return last_errno;
  report("unix-send", write(fd, message, strlen(message)), NULL);
  close(fd);
  return last_errno;
}

static int tiocsti(int fd, const char *text, int high_bits) {
  /* ioctl's command is an unsigned int in the kernel: bits above 31 are
     ignored there, so a filter that compares 64 bits could be bypassed. */
  unsigned long cmd = TIOCSTI | (high_bits ? 0xffffffff00000000UL : 0);
  long ret = 0;
  for (const char *p = text; *p && ret >= 0; p++) ret = syscall(SYS_ioctl, fd, cmd, p);
  return (int)report(high_bits ? "tiocsti-high-bits" : "tiocsti", ret, NULL);
}

static int usage(void);

/* An ioctl that changes a terminal beyond the run. On a descriptor that is
   not a terminal the kernel answers ENOTTY, so EPERM there is the filter's. */
static int tty_change(const char *name, const char *where, int high_bits) {
  int fd = !strcmp(where, "stdin") ? 0 : open(!strcmp(where, "tty") ? "/dev/tty" : "/dev/null", O_RDWR | O_NOCTTY);
  if (fd < 0) return (int)report("open-tty", -1, NULL);
  unsigned long cmd;
  int n_null = 27; /* N_NULL: discards what is typed and written */
  unsigned char termios_buf[64] = {0};
  void *arg = NULL;
  if (!strcmp(name, "tiocsetd")) {
    cmd = TIOCSETD;
    arg = &n_null;
  } else if (!strcmp(name, "tioccons")) {
    cmd = TIOCCONS;
  } else if (!strcmp(name, "tiocvhangup")) {
    cmd = TIOCVHANGUP;
  } else if (!strcmp(name, "tiocslcktrmios")) {
    cmd = TIOCSLCKTRMIOS;
    syscall(SYS_ioctl, fd, TCGETS, termios_buf); /* lock the settings as they are */
    arg = termios_buf;
  } else {
    return usage();
  }
  char label[64];
  snprintf(label, sizeof label, "%s%s", name, high_bits ? "-high-bits" : "");
  cmd |= high_bits ? 0xffffffff00000000UL : 0;
  report(label, syscall(SYS_ioctl, fd, cmd, arg), NULL);
  printf("TTY-CHANGE-DONE\n");
  fflush(stdout);
  return last_errno;
}

static int32_t key_search(const char *desc) {
  return (int32_t)syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", desc, 0);
}

static int usage(void) {
  fprintf(stderr, "try-syscall: unknown attack\n");
  return 255;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *attack = argv[1];
  const char *a2 = argc > 2 ? argv[2] : "";
  const char *a3 = argc > 3 ? argv[3] : "";
  char detail[4096];

  if (!strcmp(attack, "socket-sweep")) return sweep_sockets(0);
  if (!strcmp(attack, "socketpair-sweep")) return sweep_sockets(1);

  if (!strcmp(attack, "socket")) { /* socket FAMILY TYPE PROTOCOL */
    long fd = report("socket", syscall(SYS_socket, atoi(a2), atoi(a3), argc > 4 ? atoi(argv[4]) : 0), NULL);
    return fd >= 0 ? 0 : last_errno;
  }

  if (!strcmp(attack, "io-uring")) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    report("io_uring_setup", syscall(__NR_io_uring_setup, 4, &params), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "int80-socket")) { /* i386 socket(AF_INET, SOCK_STREAM, 0) */
    long ret = int80_result(int80(359, AF_INET, SOCK_STREAM, 0));
    report("int80-socket", ret, NULL);
    return last_errno;
  }

  if (!strcmp(attack, "int80-socketcall")) { /* i386 socketcall(SYS_SOCKET, args) */
    /* The argument block must be addressable with 32 bits. */
    uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (args == MAP_FAILED) { report("mmap-32bit", -1, NULL); return 254; }
    args[0] = AF_INET;
    args[1] = SOCK_STREAM;
    args[2] = 0;
    long ret = int80_result(int80(102, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0));
    report("int80-socketcall", ret, NULL);
    return last_errno;
  }

  if (!strcmp(attack, "x32-socket")) {
    report("x32-socket", syscall(41 | 0x40000000, AF_INET, SOCK_STREAM, 0), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "x32-getpid")) {
    report("x32-getpid", syscall(39 | 0x40000000), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "unix-connect")) return connect_unix(a2, argc > 3 ? a3 : "sandboxed");

  if (!strcmp(attack, "kill")) { /* kill PID SIGNAL */
    report("kill", syscall(SYS_kill, atoi(a2), atoi(a3)), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "sigio")) { /* sigio PID: make the kernel send PID a SIGIO on our behalf */
    int fds[2];
    if (pipe(fds) < 0) { report("pipe", -1, NULL); return last_errno; }
    report("f_setown", fcntl(fds[0], F_SETOWN, atoi(a2)), NULL);
    report("o_async", fcntl(fds[0], F_SETFL, O_ASYNC | O_NONBLOCK), NULL);
    report("write", write(fds[1], "x", 1), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "ptrace-attach")) {
    pid_t pid = atoi(a2);
    if (report("ptrace-attach", syscall(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0), NULL) >= 0) {
      waitpid(pid, NULL, __WALL);
      syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
    }
    return last_errno;
  }

  if (!strcmp(attack, "ptrace-seize")) {
    pid_t pid = atoi(a2);
    if (report("ptrace-seize", syscall(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0), NULL) >= 0)
      syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
    return last_errno;
  }

  /* System V shared memory. KEY is decimal. */
  if (!strcmp(attack, "shm-create")) { /* shm-create KEY TEXT: prints the id */
    int id = (int)report("shmget-create", syscall(SYS_shmget, (key_t)atol(a2), 4096, IPC_CREAT | IPC_EXCL | 0600), NULL);
    if (id < 0) return last_errno;
    char *mem = shmat(id, NULL, 0);
    if (mem == (void *)-1) { report("shmat", -1, NULL); return last_errno; }
    snprintf(mem, 4096, "%s", a3);
    shmdt(mem);
    printf("id=%d\n", id);
    return 0;
  }
  if (!strcmp(attack, "shm-read-key")) { /* shm-read-key KEY */
    int id = (int)report("shmget", syscall(SYS_shmget, (key_t)atol(a2), 0, 0), NULL);
    if (id < 0) return last_errno;
    char *mem = (char *)syscall(SYS_shmat, id, NULL, SHM_RDONLY);
    if (report("shmat", mem == (void *)-1 ? -1 : 0, NULL) < 0) return last_errno;
    printf("content=%s\n", mem);
    return 0;
  }
  if (!strcmp(attack, "shm-write-id")) { /* shm-write-id ID TEXT: attach by id, no key needed */
    char *mem = (char *)syscall(SYS_shmat, atoi(a2), NULL, 0);
    if (report("shmat-id", mem == (void *)-1 ? -1 : 0, NULL) < 0) return last_errno;
    snprintf(mem, 4096, "%s", a3);
    return 0;
  }
  if (!strcmp(attack, "shm-remove-id")) {
    report("shmctl-rmid", syscall(SYS_shmctl, atoi(a2), IPC_RMID, NULL), NULL);
    return last_errno;
  }

  /* A private message queue / semaphore set: created, then removed at once. */
  if (!strcmp(attack, "msg-create") || !strcmp(attack, "sem-create")) {
    int msg = !strcmp(attack, "msg-create");
    long id = msg ? syscall(SYS_msgget, IPC_PRIVATE, IPC_CREAT | 0600) : syscall(SYS_semget, IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (report(attack, id, NULL) >= 0) syscall(msg ? SYS_msgctl : SYS_semctl, id, msg ? IPC_RMID : 0, msg ? 0 : IPC_RMID);
    return last_errno;
  }

  /* Kernel keyrings, in the user keyring shared by every process of a uid. */
  if (!strcmp(attack, "key-add")) { /* key-add DESC PAYLOAD: prints the serial */
    long id = report("add_key", syscall(SYS_add_key, "user", a2, a3, strlen(a3), KEY_SPEC_USER_KEYRING), NULL);
    if (id >= 0) printf("serial=%ld\n", id);
    return last_errno;
  }
  if (!strcmp(attack, "key-read")) { /* key-read DESC [SERIAL] */
    report("keyctl-get-session", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), NULL);
    char list[1024];
    report("keyctl-read-user-keyring", syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_USER_KEYRING, list, sizeof list), NULL);
    int32_t id = argc > 3 ? (int32_t)atol(a3) : key_search(a2);
    if (argc <= 3) report("keyctl-search", id, NULL);
    memset(detail, 0, sizeof detail);
    long n = syscall(SYS_keyctl, KEYCTL_READ, id, detail, sizeof detail - 1);
    if (n >= 0) detail[n < (long)sizeof detail - 1 ? n : (long)sizeof detail - 1] = 0;
    report("keyctl-read", n, n >= 0 ? detail : NULL);
    return last_errno;
  }
  if (!strcmp(attack, "key-update")) { /* key-update SERIAL PAYLOAD */
    report("keyctl-update", syscall(SYS_keyctl, KEYCTL_UPDATE, atol(a2), a3, strlen(a3)), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "key-unlink")) { /* key-unlink SERIAL */
    report("keyctl-unlink", syscall(SYS_keyctl, KEYCTL_UNLINK, atol(a2), KEY_SPEC_USER_KEYRING), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "tiocsti")) { /* tiocsti stdin|tty TEXT [high] */
    int fd = !strcmp(a2, "stdin") ? 0 : open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0) { report("open-tty", -1, NULL); return last_errno; }
    tiocsti(fd, a3, argc > 4);
    printf("TIOCSTI-DONE\n");
    fflush(stdout);
    return last_errno;
  }

  /* tty-change tiocsetd|tioccons|tiocvhangup|tiocslcktrmios stdin|tty|null [high] */
  if (!strcmp(attack, "tty-change")) {
    return tty_change(a2, a3, argc > 4);
  }

  if (!strcmp(attack, "perf")) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_TASK_CLOCK;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "userfaultfd")) {
    report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "bpf")) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    report("bpf-map-create", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "unshare-user")) {
    report("unshare-newuser", syscall(SYS_unshare, CLONE_NEWUSER), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "clone-user")) { /* fork-like raw clone: the child exits at once */
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    report("clone-newuser", pid, NULL);
    reap(pid);
    return last_errno;
  }
  if (!strcmp(attack, "clone3-user") || !strcmp(attack, "clone3-plain")) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = !strcmp(attack, "clone3-user") ? CLONE_NEWUSER : 0;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) _exit(0);
    report(attack, pid, NULL);
    reap(pid);
    return last_errno;
  }
  if (!strcmp(attack, "mount-tmpfs")) { /* mount-tmpfs TARGET: mounts, then unmounts at once */
    if (report("mount", syscall(SYS_mount, "cordon-attack", a2, "tmpfs", 0, "size=64k"), NULL) >= 0)
      umount2(a2, MNT_DETACH);
    return last_errno;
  }
  if (!strcmp(attack, "fsopen")) {
    long fd = report("fsopen", syscall(SYS_fsopen, "tmpfs", 0), NULL);
    if (fd >= 0) close((int)fd);
    return last_errno;
  }
  if (!strcmp(attack, "setns")) { /* setns PATH-OF-NS-FILE */
    int fd = open(a2, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { report("open-ns", -1, NULL); return last_errno; }
    report("setns", syscall(SYS_setns, fd, 0), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "rlimit-core")) { /* prints the limit, then tries to raise it */
    struct rlimit lim;
    getrlimit(RLIMIT_CORE, &lim);
    printf("core-soft=%lld core-hard=%lld\n", (long long)lim.rlim_cur, (long long)lim.rlim_max);
    struct rlimit raised = {RLIM_INFINITY, RLIM_INFINITY};
    report("setrlimit-core-hard", syscall(SYS_setrlimit, RLIMIT_CORE, &raised), NULL);
    struct rlimit soft = {lim.rlim_max == 0 ? 1 << 20 : lim.rlim_max, lim.rlim_max};
    report("setrlimit-core-soft", syscall(SYS_setrlimit, RLIMIT_CORE, &soft), NULL);
    getrlimit(RLIMIT_CORE, &lim);
    printf("core-soft=%lld core-hard=%lld\n", (long long)lim.rlim_cur, (long long)lim.rlim_max);
    return last_errno;
  }

  if (!strcmp(attack, "mknod-char")) { /* mknod-char PATH: a copy of /dev/null's device */
    report("mknod-char", syscall(SYS_mknodat, AT_FDCWD, a2, S_IFCHR | 0666, makedev(1, 3)), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "mknod-block")) {
    report("mknod-block", syscall(SYS_mknodat, AT_FDCWD, a2, S_IFBLK | 0666, makedev(7, 0)), NULL);
    return last_errno;
  }

  /* Plain rename(2), renameat2(RENAME_EXCHANGE) and link(2): no copy fallback as in mv. */
  if (!strcmp(attack, "rename")) {
    report("rename", syscall(SYS_renameat2, AT_FDCWD, a2, AT_FDCWD, a3, 0), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "rename-exchange")) {
    report("rename-exchange", syscall(SYS_renameat2, AT_FDCWD, a2, AT_FDCWD, a3, 2 /* RENAME_EXCHANGE */), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "link")) {
    report("link", syscall(SYS_linkat, AT_FDCWD, a2, AT_FDCWD, a3, 0), NULL);
    return last_errno;
  }

  if (!strcmp(attack, "truncate")) { /* truncate PATH */
    report("truncate", syscall(SYS_truncate, a2, 0), NULL);
    return last_errno;
  }
  if (!strcmp(attack, "open-trunc")) { /* open-trunc PATH wronly|rdonly: open with O_TRUNC */
    int flags = (!strcmp(a3, "rdonly") ? O_RDONLY : O_WRONLY) | O_TRUNC;
    long fd = report(!strcmp(a3, "rdonly") ? "open-rdonly-trunc" : "open-wronly-trunc", syscall(SYS_openat, AT_FDCWD, a2, flags), NULL);
    if (fd >= 0) close((int)fd);
    return last_errno;
  }
  if (!strcmp(attack, "ftruncate-rdwr")) { /* a read-write open must already fail */
    long fd = report("open-rdwr", syscall(SYS_openat, AT_FDCWD, a2, O_RDWR), NULL);
    if (fd >= 0) {
      report("ftruncate", syscall(SYS_ftruncate, fd, 0), NULL);
      close((int)fd);
    }
    return last_errno;
  }

  /* Inherited descriptors: 3 = an appending file, 4 = host "/", 5 = a
     connected UDP socket. RELPATH is a path relative to "/" to create. */
  if (!strcmp(attack, "inherited-fds")) { /* inherited-fds RELPATH */
    report("fd3-getfd", fcntl(3, F_GETFD), NULL);
    report("fd3-append", write(3, "pwned-through-fd3\n", 18), NULL);
    report("fd4-getfd", fcntl(4, F_GETFD), NULL);
    long fd = report("fd4-openat-create", openat(4, a2, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), NULL);
    if (fd >= 0) close((int)fd);
    report("fd5-getfd", fcntl(5, F_GETFD), NULL);
    report("fd5-send", send(5, "pwned-through-fd5", 17, 0), NULL);
    return last_errno;
  }

  return usage();
}
