"""A disk that refuses writes stops the run within seconds, with one clear line."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from caseharvest.replica import ReplicaConfig
from tests.conftest import FAST
from tests.faults.fault_server import faulty_replica


def _limit_file_size(limit: int) -> Callable[[], None]:
    def limit_it() -> None:
        # What a full disk does to a writer: writes fail (here EFBIG; CPython ignores SIGXFSZ).
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_it


# Bytes any file of the run may reach, then every write fails: different limits make a
# different file fail first (the catalog's WAL, the WARC file, the run's log).
@pytest.mark.parametrize("limit", [60_000, 150_000, 400_000])
def test_write_errors_stop_the_run_with_one_line_and_a_recoverable_warc(
    tmp_path: Path, limit: int
) -> None:
    archive = tmp_path / "archive"
    config = ReplicaConfig(cases=200, per_page=10, group_size=2)
    with faulty_replica(config=config, log_path=tmp_path / "log.jsonl") as replica:
        env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
        env["http_proxy"] = replica.proxy_url
        result = subprocess.run(
            [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            preexec_fn=_limit_file_size(limit),
        )
        requests = len(replica.exchanges())
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    causes = [
        line
        for line in result.stderr.splitlines()
        if line.lower().startswith("error: cannot write")
    ]
    assert len(causes) == 1, result.stderr[-3000:]
    # Whichever file hit the limit first: the catalog (SQLite's words) or a WARC/text file.
    assert any(words in causes[0].lower() for words in ("disk i/o error", "file too large"))
    # Stopped soon after the first failed write, not after crawling the whole site.
    assert requests < 150, requests
    # The WARC file is closed, or left .open for the next run to recover: a normal run
    # over the same archive recovers it and goes on.
    with faulty_replica(config=config) as replica:
        env["http_proxy"] = replica.proxy_url
        rerun = subprocess.run(
            [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    verify = subprocess.run(
        [sys.executable, "-m", "caseharvest", "verify", "--archive", str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
