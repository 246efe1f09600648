"""`replay --into`: another tool's captures added to a live archive, in time order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from caseharvest.archive.catalog import Catalog
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.run_summary import EXIT_LOCKED
from caseharvest.replica import ReplicaConfig, ReplicaServer

from .conftest import answers, export, heritrix_file, run_cli


def _captures(archive: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(archive / "catalog.sqlite3") as db:
        return db.execute("SELECT * FROM captures ORDER BY id").fetchall()


def _files(archive: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((archive / "warc").rglob("*.warc.gz"))}


def test_an_older_crawl_becomes_older_versions_and_nothing_there_changes(
    default_crawl_copy: Path, tmp_path: Path
) -> None:
    archive = default_crawl_copy
    site = ReplicaServer(ReplicaConfig()).site
    cases = [c for c in site.listed() if c.status == 200 and not c.flaky]
    changed, same = cases[3], cases[4]
    original_text = {row["url"]: row["text"] for row in export(archive)}[changed.url]
    site.revise(changed.article_id)  # what the page said in 2020 differs from today's
    old = tmp_path / "old-crawl.warc.gz"
    old.write_bytes(heritrix_file(answers([changed, same], site), "2020-02-03T04:05:06Z"))
    captures, files = _captures(archive), _files(archive)

    result = run_cli("replay", str(old), "--into", "--archive", str(archive), "--quiet")
    assert result.exit_code == 0, result.output
    rows = {(r["url"], r["version"]): r for r in export(archive, "--all-versions")}
    assert rows[(changed.url, 1)]["fetched_at"] == "2020-02-03T04:05:06Z"
    assert rows[(changed.url, 1)]["text"] != original_text
    assert rows[(changed.url, 2)]["text"] == original_text, "the latest stays the latest"
    assert (same.url, 2) not in rows, "identical content adds no version"
    latest = {r["url"]: r for r in export(archive)}
    assert latest[changed.url]["version"] == 2
    # What the archive held is all still there, unchanged; the old file is added beside it.
    after = _captures(archive)
    assert after[: len(captures)] == captures
    assert {k: v for k, v in _files(archive).items() if k in files} == files
    assert "old-crawl.warc.gz" in _files(archive)
    checked = run_cli("verify", "--archive", str(archive))
    assert checked.exit_code == 0, checked.output

    # The same captures once more add nothing.
    again = run_cli("replay", str(old), "--into", "--archive", str(archive), "--quiet")
    assert again.exit_code == 0, again.output
    assert _captures(archive) == after
    assert len(export(archive, "--all-versions")) == len(rows)


def test_a_revisit_of_a_capture_in_the_archive_is_resolved_there(
    default_crawl_copy: Path, tmp_path: Path
) -> None:
    archive = default_crawl_copy
    site = ReplicaServer(ReplicaConfig()).site
    case = next(c for c in site.listed() if c.status == 200 and not c.flaky)
    catalog = Catalog.for_archive(archive, read_only=True)
    try:
        original = catalog.latest_original(case.url)
    finally:
        catalog.close()
    assert original is not None and original.payload_digest
    page = answers([case], site)[0]
    later = tmp_path / "later.warc.gz"
    # Heritrix's digest is of what it stored; here it names the archive's capture's payload.
    later.write_bytes(
        heritrix_file(
            [], "2099-01-01T00:00:00Z", revisits=[page], revisit_digest=original.payload_digest
        )
    )
    before = len(export(archive, "--all-versions"))
    result = run_cli("replay", str(later), "--into", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert "original not found" not in result.output
    assert len(export(archive, "--all-versions")) == before


def test_into_holds_the_lock(default_crawl_copy: Path, tmp_path: Path) -> None:
    site = ReplicaServer(ReplicaConfig()).site
    case = next(c for c in site.listed() if c.status == 200 and not c.flaky)
    source = tmp_path / "x.warc.gz"
    source.write_bytes(heritrix_file(answers([case], site), "2020-01-01T00:00:00Z"))
    before = _captures(default_crawl_copy)
    lock = ArchiveLock(default_crawl_copy)
    lock.acquire()
    try:
        result = run_cli("replay", str(source), "--into", "--archive", str(default_crawl_copy))
    finally:
        lock.release()
    assert result.exit_code == EXIT_LOCKED
    assert _captures(default_crawl_copy) == before


def test_replay_without_into_refuses_a_live_archive(
    default_crawl_copy: Path, tmp_path: Path
) -> None:
    site = ReplicaServer(ReplicaConfig()).site
    case = next(c for c in site.listed() if c.status == 200 and not c.flaky)
    source = tmp_path / "x.warc.gz"
    source.write_bytes(heritrix_file(answers([case], site), "2020-01-01T00:00:00Z"))
    result = run_cli("replay", str(source), "--archive", str(default_crawl_copy))
    assert result.exit_code == 2
    assert "--into" in result.output
    into_nothing = run_cli("replay", str(source), "--into", "--archive", str(tmp_path / "new"))
    assert into_nothing.exit_code == 2
