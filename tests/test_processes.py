"""Worker processes end with the process that made their pool, even one killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

OWNER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from caseharvest.processes import end_with_process, worker_pool
if sys.argv[1] == "forkserver":
    pool = worker_pool(1)
else:  # replay's forked pool
    pool = ProcessPoolExecutor(1, initializer=end_with_process, initargs=(os.getpid(),))
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not yet reaped by its parent) counts as ended.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("start", ["forkserver", "fork"])
def test_workers_end_when_their_owner_is_killed(start: str) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, start], stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        worker = int(owner.stdout.readline())
        assert alive(worker)
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the worker outlived the process that made its pool"
    finally:
        owner.kill()
        owner.wait()
