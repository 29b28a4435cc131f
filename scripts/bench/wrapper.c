/*
 * bench-wrapper: runs one command and reports what the OS measured for it.
 *
 *   bench-wrapper COMMAND [ARG...]
 *
 * The command's stdout goes to /dev/null and its stderr is inherited. When it
 * ends, one line goes to our stdout:
 *
 *   exit=N signal=N wall_ns=N maxrss_kib=N
 *
 * wall_ns spans fork() to the reaping wait, so neither this wrapper's start
 * nor the harness's spawn is counted. maxrss_kib is ru_maxrss of
 * RUSAGE_CHILDREN: the largest resident set of any waited-for descendant
 * (the kernel folds grandchildren reaped by our child into it), i.e. the
 * largest process of the run. The wrapper is tiny on purpose: a forked child
 * starts with its parent's resident pages counted, so a big parent (Bun,
 * python) would raise the floor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench-wrapper COMMAND [ARG...]\n");
    return 2;
  }
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (devnull < 0) {
    perror("bench-wrapper: /dev/null");
    return 2;
  }
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = fork();
  if (pid < 0) {
    perror("bench-wrapper: fork");
    return 2;
  }
  if (pid == 0) {
    if (dup2(devnull, STDOUT_FILENO) < 0) _exit(126);
    execvp(argv[1], argv + 1);
    fprintf(stderr, "bench-wrapper: exec %s: %s\n", argv[1], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("bench-wrapper: waitpid");
      return 2;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  struct rusage usage;
  if (getrusage(RUSAGE_CHILDREN, &usage) != 0) {
    perror("bench-wrapper: getrusage");
    return 2;
  }
  long long wall = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  printf("exit=%d signal=%d wall_ns=%lld maxrss_kib=%ld\n", code, signal, wall, usage.ru_maxrss);
  return 0;
}
