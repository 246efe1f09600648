"""Connections that go stale or never open: the crawl completes, or says why in a line or two."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from caseharvest.replica import ReplicaConfig
from tests.conftest import FAST, run_caseharvest
from tests.faults.fault_server import faulty_replica


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_server_dropping_kept_alive_connections_is_crawled_completely(
    tmp_path: Path, concurrency: int
) -> None:
    config = ReplicaConfig(cases=60, per_page=5, group_size=2)
    with faulty_replica(config=config, hang_up=True, log_path=tmp_path / "log.jsonl") as replica:
        result = run_caseharvest(
            "fetch",
            "--archive",
            str(tmp_path / "archive"),
            *FAST,
            "-s",
            f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
            replica=replica,
        )
        posts = [e for e in replica.exchanges() if e.method == "POST"]
    assert result.returncode == 0, result.stderr[-2000:]
    if concurrency == 1:
        # One connection: the first listing POST is always sent on a reused (stale) one.
        assert "drops kept-alive connections" in result.stderr
    assert "new                   59" in result.stdout  # every case but the dead link
    assert len(posts) == 5  # every listing group, each answered once
    assert "Traceback" not in result.stderr


def test_an_unreachable_site_is_a_few_clear_lines_not_tracebacks(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # Nothing listens there once the socket is closed: every connection is refused.
    env_replica = type("Proxy", (), {"proxy_url": f"http://127.0.0.1:{port}"})()
    result = run_caseharvest(
        "fetch",
        "--archive",
        str(tmp_path / "archive"),
        *FAST,
        "-s",
        "RETRY_TIMES=0",
        replica=env_replica,  # type: ignore[arg-type]
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 6, lines
    assert any("column page" in line or "listing request" in line for line in lines), lines
    assert any("refused" in line.lower() for line in lines), lines
