/*
 * seccomp-dump PID: prints, in hex, the bytes of the most recently installed
 * seccomp filter of PID (struct sock_filter[]), read back from the kernel
 * with PTRACE_SECCOMP_GET_FILTER. Needs CAP_SYS_ADMIN (root). Lets a test
 * compare what a run really installed with what `cordon explain` says.
 * Exit: 0 ok, 2 usage, 3 attach failed, 4 no filter / read failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <linux/filter.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  pid_t pid = (pid_t)atoi(argv[1]);
  if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) {
    fprintf(stderr, "attach: %s\n", strerror(errno));
    return 3;
  }
  int status;
  if (waitpid(pid, &status, __WALL) < 0) return 3;
  long count = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, NULL);
  if (count <= 0) {
    fprintf(stderr, "filter count: %s\n", strerror(errno));
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return 4;
  }
  struct sock_filter *filter = calloc((size_t)count, sizeof *filter);
  if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, filter) != count) {
    fprintf(stderr, "filter read: %s\n", strerror(errno));
    ptrace(PTRACE_DETACH, pid, 0, 0);
    return 4;
  }
  ptrace(PTRACE_DETACH, pid, 0, 0);
  const unsigned char *bytes = (const unsigned char *)filter;
  for (size_t i = 0; i < (size_t)count * sizeof *filter; i++) printf("%02x", bytes[i]);
  printf("\n");
  return 0;
}
