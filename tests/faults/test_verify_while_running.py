"""`verify` while a fetch runs: what the run is writing is not reported as damage."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from caseharvest.replica import ReplicaConfig, ReplicaSite
from tests.conftest import FAST, run_caseharvest
from tests.faults.fault_server import faulty_replica, stalling

CONFIG = ReplicaConfig(cases=20, per_page=5, group_size=2)


def _wait_for_committed_captures(catalog: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)) as db:
            if db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]:
                return
        time.sleep(0.1)
    raise AssertionError("the running crawl committed no capture")


def test_verify_during_a_fetch_reports_no_false_problems(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    stalled = ReplicaSite(CONFIG).listed()[12].path
    arrived, release = threading.Event(), threading.Event()
    with faulty_replica({stalled: stalling(arrived, release)}, config=CONFIG) as replica:
        env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
        env["http_proxy"] = replica.proxy_url
        fetch = subprocess.Popen(
            [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert arrived.wait(60), "the crawl never asked for the stalled page"
            assert list((archive / "warc/shandong").glob("*.open"))  # mid-run, for sure
            # The run commits as it goes, at most COMMIT_SECONDS apart: what it has committed
            # of the file it is writing is what verify must not mistake for damage.
            _wait_for_committed_captures(archive / "catalog.sqlite3")
            during = run_caseharvest("verify", "--archive", str(archive))
        finally:
            release.set()
            _out, err = fetch.communicate(timeout=120)
            if fetch.returncode is None:
                fetch.send_signal(signal.SIGKILL)
    assert during.returncode == 0, during.stdout + during.stderr
    assert "a run is in progress" in during.stderr
    assert "all good" in during.stdout
    assert fetch.returncode == 0, err[-2000:]
    after = run_caseharvest("verify", "--archive", str(archive))
    assert after.returncode == 0 and "in progress" not in after.stderr
