"""A catalog deleted next to its WARC files is rebuilt from them, never a blind start."""

from __future__ import annotations

import shutil
from pathlib import Path

from caseharvest.replica import ReplicaConfig, ReplicaServer
from tests.conftest import Crawl, fetch, run_caseharvest


def test_a_deleted_catalog_is_rebuilt_before_the_next_run(
    tmp_path: Path, default_crawl: Crawl
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(default_crawl.archive, archive)
    for name in ("catalog.sqlite3", "catalog.sqlite3-wal", "catalog.sqlite3-shm"):
        (archive / name).unlink(missing_ok=True)

    status = run_caseharvest("status", "--archive", str(archive))
    assert status.returncode == 1
    assert "holds WARC files but no catalog" in status.stderr

    with ReplicaServer(ReplicaConfig(), log_path=tmp_path / "replica.jsonl") as replica:
        crawl = fetch(archive, replica)
        case_pages = [e for e in replica.exchanges() if "/art/" in e.url]
    assert crawl.result.returncode == 0, crawl.result.stderr[-2000:]
    assert "rebuilt the catalog" in crawl.result.stderr
    # Nothing fetched again: the rebuilt catalog knew every case.
    assert case_pages == [], [e.url for e in case_pages]
    assert crawl.report["known"] == 64 and crawl.report["new"] == 0
    verify = run_caseharvest("verify", "--archive", str(archive))
    assert verify.returncode == 0, verify.stdout + verify.stderr
