"""Fallback for bench-wrapper (wrapper.c) where no C compiler is installed.

Same interface and output line. Caveat: a forked child starts with this
interpreter's resident pages counted, so maxrss_kib has a floor of roughly
python's own RSS (~10 MiB); small commands read high. Use the C wrapper for
numbers you publish.
"""
import os
import resource
import sys
import time


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: wrapper.py COMMAND [ARG...]", file=sys.stderr)
        return 2
    devnull = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
    sys.stdout.flush()
    start = time.monotonic_ns()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(devnull, 1)
            os.execvp(sys.argv[1], sys.argv[1:])
        except OSError as error:
            print(f"bench-wrapper: exec {sys.argv[1]}: {error.strerror}", file=sys.stderr)
            os._exit(127 if isinstance(error, FileNotFoundError) else 126)
    _, status = os.waitpid(pid, 0)
    end = time.monotonic_ns()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    print(f"exit={code} signal={signal} wall_ns={end - start} maxrss_kib={usage.ru_maxrss}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
