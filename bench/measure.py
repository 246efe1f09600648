"""Run one command and print its wall time, CPU time and peak RSS as JSON (for bench/run.py).

Run as a separate process so ``RUSAGE_CHILDREN`` covers that command (and its workers) only.
Peak RSS is the largest single process of the command's tree, as the kernel reports it.
On Linux this process is a child subreaper: workers of a fork server, which are not the
command's children, are reaped here, so their CPU time counts too.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import subprocess
import sys
import time

_PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def main() -> int:
    command = sys.argv[1:]
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1)
    started = time.perf_counter()
    completed = subprocess.run(command, check=False)
    wall = time.perf_counter() - started
    while True:  # orphaned descendants (a fork server, its workers) end with the command
        try:
            os.wait()
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "exit": completed.returncode,
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
