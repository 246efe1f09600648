"""Listings that lie or run away: the walk ends, withdraws nothing, and says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from caseharvest.archive.upgrade import open_catalog
from caseharvest.replica import ReplicaConfig
from tests.conftest import fetch
from tests.faults.fault_server import (
    empty_recordset_from_call,
    faulty_replica,
    listing_total,
    repeat_last_group,
)

COLUMN = "/col/col21482/index.html"
DATAPROXY = "/module/web/jpage/dataproxy.jsp"


def withdrawn(archive: Path) -> list[str]:
    catalog = open_catalog(archive, read_only=True)
    try:
        return [case.url for case in catalog.iter_cases() if case.withdrawn_at]
    finally:
        catalog.close()


def test_an_empty_recordset_during_a_full_walk_withdraws_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with faulty_replica() as replica:
        first = fetch(archive, replica)
    assert first.result.returncode == 0, first.result.stderr
    # Second run: a full walk whose second dataproxy answer is empty with totalrecord 0.
    with faulty_replica({DATAPROXY: empty_recordset_from_call(1)}) as replica:
        broken = fetch(archive, replica, "--full")
    assert broken.result.returncode == 1
    assert "shrank from 20 to 0" in broken.result.stderr
    assert withdrawn(archive) == []
    assert not broken.report["full_walk"]
    assert "Traceback" not in broken.result.stderr


def test_a_huge_total_with_repeating_groups_ends_the_walk_quickly(tmp_path: Path) -> None:
    last: list[bytes] = []
    faults = {COLUMN: listing_total(1_000_000), DATAPROXY: repeat_last_group(last)}
    with faulty_replica(faults, log_path=tmp_path / "log.jsonl") as replica:
        crawl = fetch(tmp_path / "archive", replica)
        listing_requests = [e for e in replica.exchanges() if DATAPROXY in e.url]
    # The POST form repeats, then the GET form repeats: the walk ends, with a warning.
    assert len(listing_requests) <= 4, [e.url for e in listing_requests]
    assert "brought no record not read before" in crawl.result.stdout
    assert crawl.report["listed"] == 20 and not crawl.report["full_walk"]
    assert "Traceback" not in crawl.result.stderr


def test_a_listing_that_shrinks_on_a_known_archive_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    config = ReplicaConfig(cases=24, per_page=5, group_size=2)
    with faulty_replica(config=config) as replica:
        assert fetch(archive, replica).result.returncode == 0
    shutil.copytree(archive, tmp_path / "before")
    with faulty_replica({COLUMN: listing_total(6)}, config=config) as replica:
        crawl = fetch(archive, replica, "--full")
    assert crawl.result.returncode == 1
    assert "looks broken" in crawl.result.stderr
    assert withdrawn(archive) == []
