/*
 * swap-racer: swaps the components of a deny path in a tight loop, as a
 * concurrent sandboxed run with the same policy could while another run
 * plans and sets up its protection.
 *
 *   swap-racer DIR MAX_ROUNDS
 *
 * DIR holds `sub` (the parent of the protected `.git`), `decoy` (a look-alike
 * repository) and `sublink`, a symlink to `decoy`. One round:
 *   1. renameat2(sub, decoy, RENAME_EXCHANGE), and back;
 *   2. renameat2(sub, sublink, RENAME_EXCHANGE), and back: `sub` is briefly a
 *      symlink to decoy;
 *   3. rename(sub, sub.away), symlink(decoy, sub), unlink(sub),
 *      rename(sub.away, sub): the same with plain renames.
 * Every step that succeeded is undone at once, so the tree is as it was
 * between rounds. It stops after MAX_ROUNDS or on SIGTERM (at the end of a
 * round) and prints "ready" when it starts and, when it ends,
 * "rounds=N exchanged=N symlinked=N undo-failed=N". Exit status 0, or 1 when
 * an undo failed (the tree was left changed).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static volatile sig_atomic_t stop = 0;

static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static long rename2(const char *from, const char *to, unsigned flags) {
  return syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static long undo_failed = 0;

/* Retries an undo step a bounded number of times; counts it when it never succeeds. */
static void undo(const char *from, const char *to, unsigned flags) {
  for (int i = 0; i < 1000; i++)
    if (rename2(from, to, flags) == 0) return;
  undo_failed++;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: swap-racer DIR MAX_ROUNDS\n");
    return 255;
  }
  if (chdir(argv[1]) != 0) {
    perror("chdir");
    return 255;
  }
  long max_rounds = atol(argv[2]);
  struct sigaction action = {0};
  action.sa_handler = on_term;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  printf("ready\n");
  fflush(stdout);

  long rounds = 0, exchanged = 0, symlinked = 0;
  for (; rounds < max_rounds && !stop; rounds++) {
    if (rename2("sub", "decoy", RENAME_EXCHANGE) == 0) {
      exchanged++;
      undo("sub", "decoy", RENAME_EXCHANGE);
    }
    if (rename2("sub", "sublink", RENAME_EXCHANGE) == 0) {
      symlinked++;
      undo("sub", "sublink", RENAME_EXCHANGE);
    }
    if (rename2("sub", "sub.away", 0) == 0) {
      if (symlink("decoy", "sub") == 0) {
        symlinked++;
        for (int i = 0; i < 1000 && unlink("sub") != 0; i++) {
        }
      }
      undo("sub.away", "sub", 0);
    }
  }
  printf("rounds=%ld exchanged=%ld symlinked=%ld undo-failed=%ld\n", rounds, exchanged, symlinked, undo_failed);
  return undo_failed ? 1 : 0;
}
