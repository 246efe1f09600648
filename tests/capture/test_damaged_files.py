"""Damaged files: every whole record before the damage, then one Damage naming file and byte."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from caseharvest.capture.archive_walk import DamagedArchiveError, iter_captures, raise_on_damage
from caseharvest.capture.http_capture import Capture, iter_file_captures
from caseharvest.capture.record_framing import Damage

from .conftest import http_response, replica_pages, warc_record
from .test_recorded_tools import Recording

PAGES = replica_pages(4)


def _split(items: list[Capture | Damage]) -> tuple[list[Capture], Damage]:
    assert isinstance(items[-1], Damage), items[-1]
    assert not any(isinstance(item, Damage) for item in items[:-1])
    return [item for item in items[:-1] if isinstance(item, Capture)], items[-1]


def _whole(path: Path) -> list[Capture]:
    items = list(iter_file_captures(path))
    assert not any(isinstance(item, Damage) for item in items)
    return [item for item in items if isinstance(item, Capture)]


def test_a_truncated_gzip_member_ends_the_file_after_the_records_before_it(
    wget_gz: Recording, tmp_path: Path
) -> None:
    whole = _whole(wget_gz.path)
    cut_at = whole[3].location
    damaged = tmp_path / "cut.warc.gz"
    damaged.write_bytes(wget_gz.path.read_bytes()[: cut_at.offset + cut_at.length // 2])
    captures, damage = _split(list(iter_file_captures(damaged)))
    assert [c.record_id for c in captures] == [c.record_id for c in whole[:3]]
    assert [c.body for c in captures] == [c.body for c in whole[:3]]
    assert (damage.path, damage.offset) == (str(damaged), cut_at.offset)
    assert (
        damage.message
        == f"{damaged}: damaged at byte {cut_at.offset}: file ends inside a gzip member"
    )


def test_garbage_after_the_last_record_is_damage_at_its_first_byte(
    wget_gz: Recording, tmp_path: Path
) -> None:
    good = wget_gz.path.read_bytes()
    damaged = tmp_path / "tail.warc.gz"
    damaged.write_bytes(good + b"<html>some stray download appended</html>\n")
    captures, damage = _split(list(iter_file_captures(damaged)))
    assert [c.body for c in captures] == [c.body for c in _whole(wget_gz.path)]
    assert damage.offset == len(good)
    assert "not gzip data" in damage.reason


def test_a_bad_record_header_in_an_uncompressed_file(tmp_path: Path) -> None:
    records = [
        warc_record("response", page.url, http_response(200, page.headers, page.body))
        for page in PAGES
    ]
    broken = records[2].replace(b"WARC/1.0", b"WRAC/1.0", 1)
    path = tmp_path / "bad.warc"
    path.write_bytes(b"".join([*records[:2], broken, records[3]]))
    captures, damage = _split(list(iter_file_captures(path)))
    assert [c.target_uri for c in captures] == [page.url for page in PAGES[:2]]
    assert damage.offset == len(records[0]) + len(records[1])


def test_an_uncompressed_file_cut_inside_a_record(tmp_path: Path) -> None:
    records = [
        warc_record("response", page.url, http_response(200, page.headers, page.body))
        for page in PAGES
    ]
    path = tmp_path / "cut.warc"
    path.write_bytes(b"".join(records)[: -len(records[-1]) // 2])
    captures, damage = _split(list(iter_file_captures(path)))
    assert len(captures) == 3
    assert damage.offset == sum(map(len, records[:3]))
    assert damage.reason == "file ends inside a record"


def test_a_record_shorter_than_its_content_length_in_its_own_member(tmp_path: Path) -> None:
    records = [
        warc_record("response", page.url, http_response(200, page.headers, page.body))
        for page in PAGES
    ]
    short = records[1][:-200] + b"\r\n\r\n"  # Content-Length still names the whole block
    members = [gzip.compress(record, mtime=0) for record in (records[0], short, *records[2:])]
    path = tmp_path / "short.warc.gz"
    path.write_bytes(b"".join(members))
    captures, damage = _split(list(iter_file_captures(path)))
    assert [c.target_uri for c in captures] == [PAGES[0].url]
    assert damage.offset == len(members[0])


def test_a_truncated_whole_file_gzip(tmp_path: Path) -> None:
    records = [
        warc_record("response", page.url, http_response(200, page.headers, page.body))
        for page in PAGES
    ]
    data = gzip.compress(b"".join(records))
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    captures, damage = _split(list(iter_file_captures(path)))
    assert 1 <= len(captures) < len(PAGES)
    assert [c.body for c in captures] == [page.decoded for page in PAGES[: len(captures)]]
    assert damage.offset == 0 and "gzip member" in damage.reason


def test_damage_in_one_file_does_not_stop_the_next_and_can_be_raised(
    wget_gz: Recording, tmp_path: Path
) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    good = wget_gz.path.read_bytes()
    (folder / "a.warc.gz").write_bytes(good + b"\0\0garbage")
    (folder / "b.warc.gz").write_bytes(good)
    items = list(iter_captures([folder]))
    damages = [item for item in items if isinstance(item, Damage)]
    assert len(damages) == 1 and damages[0].path == str(folder / "a.warc.gz")
    assert len(items) == 2 * len(_whole(wget_gz.path)) + 1
    seen: list[Capture] = []
    with pytest.raises(DamagedArchiveError) as raised:
        seen.extend(raise_on_damage(iter_captures([folder])))
    assert len(seen) == len(_whole(wget_gz.path))
    assert raised.value.damage.offset == len(good)
    assert (
        str(raised.value)
        == f"{folder / 'a.warc.gz'}: damaged at byte {len(good)}: " + raised.value.damage.reason
    )
