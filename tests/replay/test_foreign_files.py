"""`caseharvest replay` over archives other tools wrote: wget, warcio, Heritrix, ARC, WACZ."""

from __future__ import annotations

import filecmp
import os
import shutil
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from caseharvest.replica import ReplicaServer

from .conftest import (
    Recording,
    answers,
    arc_file,
    assert_gold,
    export,
    good_cases,
    heritrix_file,
    run_cli,
    webarchive_wacz,
)


def replay(*args: str) -> object:
    return run_cli("replay", "--workers", "2", "--quiet", *args)


def test_a_wget_warc_named_as_the_user_likes_is_replayed_linked_and_indexed(
    wget_warc: Recording, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    result = run_cli("replay", str(wget_warc.path), "--archive", str(archive), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert_gold(archive, wget_warc.cases)
    linked = archive / "warc" / "shandong" / wget_warc.path.name
    assert filecmp.cmp(linked, wget_warc.path, shallow=False), "linked in unchanged"
    index = (archive / "indexes" / "shandong" / f"{wget_warc.path.name}.cdxj").read_text()
    assert all(urlsplit(case.url).path in index for case in wget_warc.cases)
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0
    status = run_cli("status", "--archive", str(archive))
    assert f"{len(wget_warc.cases)} cases archived, 1 dead links" in status.output


def test_warcio_capture_http_plain_warc(warcio_warc: Recording, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = replay(str(warcio_warc.path), "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert_gold(archive, warcio_warc.cases)
    assert (archive / "warc" / "shandong" / "my-recording.warc").exists()
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_heritrix_files_with_digest_only_revisits_across_files(tmp_path: Path) -> None:
    cases = good_cases()[:4]
    pages = answers(cases)
    sources = tmp_path / "heritrix"
    sources.mkdir()
    # Crawled twice: the second crawl holds only revisits (by digest, no WARC-Refers-To).
    (sources / "IAH-20240102-00000.warc.gz").write_bytes(
        heritrix_file(pages, "2024-01-02T03:04:05Z")
    )
    (sources / "IAH-20240301-00001.warc.gz").write_bytes(
        heritrix_file([], "2024-03-01T03:04:05Z", revisits=pages)
    )
    archive = tmp_path / "archive"
    result = replay(str(sources), "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert_gold(archive, cases)
    assert all(row["version"] == 1 for row in export(archive, "--all-versions"))
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_a_revisit_whose_original_is_missing_is_reported_not_a_crash(tmp_path: Path) -> None:
    pages = answers(good_cases()[:2])
    source = tmp_path / "revisits-only.warc.gz"
    source.write_bytes(heritrix_file([], "2024-03-01T03:04:05Z", revisits=pages))
    result = replay(str(source), "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 1
    assert "original not found" in result.output
    assert "Traceback" not in result.output


def test_an_arc_file_of_an_old_crawl(tmp_path: Path) -> None:
    cases = good_cases()[:3]
    source = tmp_path / "IA-2008.arc.gz"
    source.write_bytes(arc_file(answers(cases)))
    archive = tmp_path / "archive"
    result = replay(str(source), "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert_gold(archive, cases)
    assert {row["fetched_at"] for row in export(archive)} == {"2008-01-02T03:04:06Z"}
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_a_wacz_with_bodies_already_decoded(tmp_path: Path) -> None:
    cases = good_cases()[:3]
    source = tmp_path / "crawl.wacz"
    webarchive_wacz(source, answers(cases), "2024-05-06T07:08:09Z")
    archive = tmp_path / "archive"
    result = replay(str(source), "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert_gold(archive, cases)
    # The WACZ's WARC entry is a file of the archive, byte for byte.
    extracted = archive / "warc" / "shandong" / "crawl-data.warc.gz"
    with zipfile.ZipFile(source) as wacz:
        assert extracted.read_bytes() == wacz.read("archive/data.warc.gz")
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_same_names_from_two_folders_both_stay(tmp_path: Path) -> None:
    cases = good_cases()[:4]
    pages = answers(cases)
    for number, part in enumerate((pages[:2], pages[2:])):
        folder = tmp_path / f"disk{number}"
        folder.mkdir()
        (folder / "crawl.warc.gz").write_bytes(
            heritrix_file(part, f"2024-01-0{number + 2}T00:00:00Z")
        )
    archive = tmp_path / "archive"
    result = replay(str(tmp_path / "disk0"), str(tmp_path / "disk1"), "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (archive / "warc" / "shandong").iterdir()) == [
        "crawl.2.warc.gz",
        "crawl.warc.gz",
    ]
    assert_gold(archive, cases)
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_files_holding_no_known_site_leave_nothing(tmp_path: Path) -> None:
    source = tmp_path / "other.warc"
    source.write_bytes(b"")
    result = replay(str(source), "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 1
    assert "no capture of a known site" in result.output
    assert not (tmp_path / "archive").exists()


def test_a_hard_link_is_used_when_it_can_be(wget_warc: Recording, tmp_path: Path) -> None:
    source = tmp_path / "w.warc.gz"
    shutil.copy(wget_warc.path, source)
    archive = tmp_path / "archive"
    assert replay(str(source), "--archive", str(archive)).exit_code == 0
    assert os.path.samefile(source, archive / "warc" / "shandong" / "w.warc.gz")


def test_replica_is_not_needed_to_replay(
    wget_warc: Recording, replica: ReplicaServer, tmp_path: Path
) -> None:
    before = len(replica.exchanges())
    assert replay(str(wget_warc.path), "--archive", str(tmp_path / "a")).exit_code == 0
    assert len(replica.exchanges()) == before
