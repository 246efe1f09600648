"""Run one command and print its wall time, CPU time and peak RSS as JSON (for bench/run.py).

Run as a separate process so ``RUSAGE_CHILDREN`` covers that command (and its workers) only.
Peak RSS is the largest single process of the command's tree, as the kernel reports it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def main() -> int:
    command = sys.argv[1:]
    started = time.perf_counter()
    completed = subprocess.run(command, check=False)
    wall = time.perf_counter() - started
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
