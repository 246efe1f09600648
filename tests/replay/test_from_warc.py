"""`fetch --from-warc`: the spider run against the archive instead of the network."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from caseharvest.archive import search_index
from caseharvest.archive.upgrade import open_catalog
from caseharvest.cli import cli
from caseharvest.replica import ReplicaServer
from tests.conftest import FAST, Crawl, run_caseharvest


def export(archive: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive), *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def from_warc(replica: ReplicaServer, source: Path, target: Path, *extra: str) -> Any:
    return run_caseharvest(
        "fetch",
        "--from-warc",
        str(source),
        "--archive",
        str(target),
        *FAST,
        *extra,
        replica=replica,
    )


def test_from_warc_reproduces_the_cases_without_network(
    default_crawl: Crawl, start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    replica = start_replica()  # the proxy the run would use if it went to the network
    result = from_warc(replica, default_crawl.archive / "warc", tmp_path / "again")
    assert result.returncode == 0, result.stderr
    assert replica.exchanges() == [], "zero network requests"
    rebuilt = export(tmp_path / "again")
    assert rebuilt == export(default_crawl.archive)
    # As after `replay`: every case's row is stored, its tokenizing left to the next search,
    # which finds the cases before and after catching up.
    catalog = open_catalog(tmp_path / "again", read_only=True)
    try:
        assert search_index.pending(catalog) == len(rebuilt)
    finally:
        catalog.close()
    title = rebuilt[0]["title"]
    found = CliRunner().invoke(cli, ["search", "--archive", str(tmp_path / "again"), title])
    assert found.exit_code == 0, found.output
    assert rebuilt[0]["url"] in found.output
    catalog = open_catalog(tmp_path / "again", read_only=True)
    try:
        assert search_index.pending(catalog) == 0
    finally:
        catalog.close()


def test_a_case_missing_from_the_archive_is_a_miss(
    default_crawl: Crawl, start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    missing = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
    source = tmp_path / "source"
    source.mkdir()
    for path in (default_crawl.archive / "warc/shandong").glob("*.warc.gz"):
        with path.open("rb") as reading, (source / path.name).open("wb") as out:
            writer = WARCWriter(out, gzip=True, warc_version="1.1")
            for record in ArchiveIterator(reading):
                if record.rec_headers.get_header("WARC-Target-URI") != missing:
                    writer.write_record(record)
    replica = start_replica()
    result = from_warc(replica, source, tmp_path / "again")
    assert result.returncode == 1
    assert f"not in the archive: GET {missing}" in result.stderr
    assert replica.exchanges() == [], "a miss is never fetched, nor turned into a 404"
    urls = {row["url"] for row in export(tmp_path / "again")}
    assert missing not in urls and len(urls) == 62


def test_at_picks_the_capture_current_then(
    revised_archive: Crawl, start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    rows = export(revised_archive.archive, "--all-versions")
    first = next(
        row
        for row in rows
        if row["version"] == 1
        and any(other["url"] == row["url"] and other["version"] == 2 for other in rows)
    )
    second = next(r for r in rows if r["url"] == first["url"] and r["version"] == 2)
    # A second before the revision was fetched: the second run had only just started (a new
    # process takes longer than that to get going), so the first run's captures are current.
    revised_at = dt.datetime.strptime(second["fetched_at"], "%Y-%m-%dT%H:%M:%SZ")
    at = (revised_at - dt.timedelta(seconds=1)).strftime("%Y%m%d%H%M%S")
    replica = start_replica()
    result = from_warc(replica, revised_archive.archive / "warc", tmp_path / "then", "--at", at)
    assert result.returncode == 0, result.stderr
    then = {row["url"]: row for row in export(tmp_path / "then")}
    assert then[first["url"]]["text"] == first["text"], "the text before the revision"
    assert replica.exchanges() == []
