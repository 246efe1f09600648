"""SIGINT/SIGTERM: the run says it is stopping, stops promptly, and leaves a closed WARC file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from caseharvest.replica import ReplicaConfig, ReplicaServer, ReplicaSite
from tests.conftest import FAST
from tests.faults.fault_server import faulty_replica, stalling

CONFIG = ReplicaConfig(cases=20, per_page=5, group_size=2)


def start_fetch(archive: Path, replica: ReplicaServer) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
    env["http_proxy"] = replica.proxy_url
    return subprocess.Popen(
        [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("signum", "signals", "code"),
    [(signal.SIGTERM, 1, 143), (signal.SIGTERM, 2, 143), (signal.SIGINT, 1, 130)],
    ids=["one-sigterm", "two-sigterms", "ctrl-c"],
)
def test_a_stop_signal_is_announced_and_leaves_a_closed_warc(
    tmp_path: Path, signum: int, signals: int, code: int
) -> None:
    stalled_path = ReplicaSite(CONFIG).listed()[3].path
    arrived, release = threading.Event(), threading.Event()
    with faulty_replica({stalled_path: stalling(arrived, release)}, config=CONFIG) as replica:
        process = start_fetch(tmp_path / "archive", replica)
        try:
            assert arrived.wait(60), "the crawl never asked for the stalled page"
            for _ in range(signals):
                process.send_signal(signum)
            # The stalled download must not hold the stop: well before it would answer.
            _out, err = process.communicate(timeout=30)
        finally:
            release.set()
            if process.poll() is None:
                process.kill()
    assert process.returncode == code, err[-2000:]
    assert f"{signal.Signals(signum).name} received: stopping" in err
    assert "WARC files closed" in err
    assert "Traceback" not in err
    warc_dir = tmp_path / "archive/warc/shandong"
    assert not list(warc_dir.glob("*.open"))
    assert list(warc_dir.glob("*.warc.gz"))
    verify = subprocess.run(
        [sys.executable, "-m", "caseharvest", "verify", "--archive", str(tmp_path / "archive")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
