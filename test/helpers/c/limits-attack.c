#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static void report(const char *label, int rc) {
  if (rc >= 0) printf("%s ok\n", label); else printf("%s errno=%d\n", label, errno);
  fflush(stdout);
}
static void mark(const char *work, const char *name) {
  char p[4096]; snprintf(p, sizeof p, "%s/%s", work, name); close(open(p, O_CREAT | O_WRONLY, 0644));
}
static void ignore_all(void) {
  signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN); signal(SIGINT, SIG_IGN);
  sigset_t s; sigfillset(&s); sigprocmask(SIG_BLOCK, &s, 0);
}
/* Keeps forking for SECS seconds (at most 20 children alive), then marks WORK/late. */
static void forker(const char *work, int secs) {
  pid_t ring[32]; int n = 0, head = 0; time_t end = time(0) + secs;
  while (time(0) < end) {
    pid_t k = fork();
    if (k == 0) { ignore_all(); sleep(secs + 5); _exit(0); }
    if (k > 0) { ring[(head + n) % 32] = k; n++; }
    if (n >= 20 || (k < 0 && n > 0)) { kill(ring[head], SIGKILL); waitpid(ring[head], 0, 0); head = (head + 1) % 32; n--; }
    usleep(20000);
  }
  mark(work, "late");
  _exit(0);
}
int main(int argc, char **argv) {
  const char *what = argv[1];
  if (!strcmp(what, "prlimit-parent")) {           /* MARKER SECS */
    int secs = atoi(argv[3]);
    if (fork() == 0) { setsid(); if (fork() == 0) { ignore_all(); sleep(secs + 5); _exit(0); } _exit(0); }
    wait(0);
    struct rlimit zero = {0, 0};
    report("prlimit-parent-nofile", prlimit(getppid(), RLIMIT_NOFILE, &zero, 0));
    sleep(secs);
    return 0;
  }
  if (!strcmp(what, "stubborn")) {                  /* WORK SECS */
    const char *work = argv[2]; int secs = atoi(argv[3]);
    ignore_all();
    /* a daemon: setsid, double fork, every signal blocked, forking on */
    if (fork() == 0) { setsid(); if (fork() == 0) forker(work, secs); _exit(0); }
    /* a process that stops itself, then forks on once continued */
    if (fork() == 0) { raise(SIGSTOP); ignore_all(); forker(work, secs); }
    /* a tracer holding a tracee that would swallow the SIGTERM */
    pid_t tracee = fork();
    if (tracee == 0) { signal(SIGTERM, SIG_DFL); sigset_t s; sigemptyset(&s); sigprocmask(SIG_SETMASK, &s, 0);
      for (time_t end = time(0) + secs; time(0) < end;) { usleep(10000); }
      mark(work, "late"); _exit(0); }
    if (fork() == 0) {
      if (ptrace(PTRACE_SEIZE, tracee, 0, 0) == 0) {
        mark(work, "traced");
        for (;;) { int st; pid_t w = waitpid(tracee, &st, __WALL); if (w < 0) break;
          if (WIFSTOPPED(st)) ptrace(PTRACE_CONT, tracee, 0, 0); /* swallows every signal */ }
      }
      forker(work, secs);
    }
    wait(0);
    mark(work, "ready");
    for (;;) pause();
  }
  if (!strcmp(what, "fsize")) {                     /* DIR LIMIT: every way to make a file bigger than LIMIT */
    const char *dir = argv[2]; long limit = atol(argv[3]);
    signal(SIGXFSZ, SIG_IGN);
    char p[4096]; static char buf[65536]; memset(buf, 'x', sizeof buf);
    const char *labels[] = {"write", "pwrite-far", "ftruncate", "fallocate", "copy-range", "mmap-extend", "append-fd"};
    for (int i = 0; i < 7; i++) {
      snprintf(p, sizeof p, "%s/fsize-%d", dir, i); unlink(p);
      int fd = open(p, O_CREAT | O_RDWR | (i == 6 ? O_APPEND : 0), 0644); if (fd < 0) { report(labels[i], -1); continue; }
      int rc = 0;
      switch (i) {
        case 0: case 6: for (long done = 0; done <= limit + 65536 && rc >= 0; done += 65536) rc = write(fd, buf, sizeof buf); break;
        case 1: rc = pwrite(fd, buf, 10, limit + 4096); break;
        case 2: rc = ftruncate(fd, limit * 2); break;
        case 3: rc = fallocate(fd, 0, 0, limit * 2); break;
        case 4: { char q[4200]; snprintf(q, sizeof q, "%s.src", p); int src = open(q, O_CREAT | O_RDWR | O_TRUNC, 0644); write(src, buf, sizeof buf); unlink(q); loff_t out = limit - 1; loff_t in = 0; rc = copy_file_range(src, &in, fd, &out, 65536, 0); close(src); break; }
        case 5: { rc = ftruncate(fd, limit); if (rc == 0) { char *m = mmap(0, limit * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
          if (m == MAP_FAILED) rc = -1; else { rc = -1; errno = EFBIG; /* touching past EOF is SIGBUS, never growth */ munmap(m, limit * 2); } } break; }
      }
      struct stat st; fstat(fd, &st); close(fd); unlink(p);
      if (st.st_size > limit) printf("%s ok size=%ld\n", labels[i], (long)st.st_size); else printf("%s held\n", labels[i]);
      fflush(stdout);
    }
    return 0;
  }
  if (!strcmp(what, "raise")) {                     /* try to lift each limit back up */
    int res[] = {RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CPU}; const char *names[] = {"fsize", "nofile", "cpu"};
    for (int i = 0; i < 3; i++) {
      struct rlimit r; getrlimit(res[i], &r); char l[64];
      struct rlimit up = {r.rlim_max + 1, r.rlim_max + 1};
      snprintf(l, sizeof l, "raise-hard-%s", names[i]); report(l, setrlimit(res[i], &up));
      struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
      snprintf(l, sizeof l, "prlimit-infinity-%s", names[i]); report(l, prlimit(0, res[i], &inf, 0));
      snprintf(l, sizeof l, "raise-soft-%s", names[i]); struct rlimit soft = {r.rlim_max + 1, r.rlim_max}; report(l, setrlimit(res[i], &soft));
    }
    return 0;
  }
  if (!strcmp(what, "nofile")) {                    /* more descriptors than RLIMIT_NOFILE */
    struct rlimit r; getrlimit(RLIMIT_NOFILE, &r);
    int sv[2]; socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    errno = 0; report("dup2-high", dup2(0, (int)r.rlim_cur + 5));
    int last = -1; while ((last = open("/dev/null", O_RDONLY)) >= 0) {}
    printf("filled errno=%d\n", errno);
    /* full: send one of our descriptors to ourselves and receive it */
    char c = 'x'; struct iovec io = {&c, 1}; char cb[CMSG_SPACE(sizeof(int))];
    struct msghdr m = {0}; m.msg_iov = &io; m.msg_iovlen = 1; m.msg_control = cb; m.msg_controllen = sizeof cb;
    struct cmsghdr *h = CMSG_FIRSTHDR(&m); h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
    int one = 0; memcpy(CMSG_DATA(h), &one, sizeof one);
    sendmsg(sv[0], &m, 0);
    memset(cb, 0, sizeof cb); m.msg_controllen = sizeof cb; m.msg_flags = 0;
    int got = recvmsg(sv[1], &m, 0);
    h = CMSG_FIRSTHDR(&m);
    if (got >= 0 && h && h->cmsg_type == SCM_RIGHTS) { int fd; memcpy(&fd, CMSG_DATA(h), sizeof fd); printf("scm-rights-over-limit ok fd=%d\n", fd); }
    else { printf("scm-rights-over-limit errno=%d\n", (m.msg_flags & MSG_CTRUNC) ? EMFILE : errno); }
    return 0;
  }
  if (!strcmp(what, "burn")) {                      /* CHILDREN MS: each child burns MS of CPU */
    int kids = atoi(argv[2]); long ms = atol(argv[3]);
    for (int i = 0; i < kids; i++) if (fork() == 0) { clock_t end = clock() + ms * (CLOCKS_PER_SEC / 1000); while (clock() < end) {} _exit(0); }
    int ok = 0, st; while (wait(&st) > 0) if (WIFEXITED(st) && WEXITSTATUS(st) == 0) ok++;
    struct rusage u; getrusage(RUSAGE_CHILDREN, &u);
    printf("burned ok children=%d cpu_ms=%ld\n", ok, (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000);
    return 0;
  }
  return 2;
}
