"""CaptureIndex: archived answers read back from WARC files by the offsets of their index."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from caseharvest.archive.capture_index import CaptureIndex, parse_cdxj_line

URLS = [f"https://commerce.shandong.gov.cn/art/2024/1/{day}/art_21482_{day}.html" for day in (1, 2)]


def body_of(url: str) -> bytes:
    return f"<html><body><p>{url}</p></body></html>".encode() * 50


def write_warc(path: Path) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True, warc_version="1.1")
        for url in URLS:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body_of(url)), http_headers=headers
            )
            writer.write_record(record)


@pytest.fixture
def index(tmp_path: Path) -> CaptureIndex:
    warc = tmp_path / "cases.warc.gz"
    write_warc(warc)
    return CaptureIndex.build([warc])


def test_each_answer_is_read_whole_from_its_offset(index: CaptureIndex) -> None:
    # Read out of order, each twice: one open file serves every read at its own offset.
    for url in [*reversed(URLS), *URLS]:
        entry = index.lookup("GET", url)
        assert entry is not None
        answer = index.read(entry)
        assert answer.status == 200
        assert answer.body == body_of(url)
    index.close()
    entry = index.lookup("GET", URLS[0])
    assert entry is not None and index.read(entry).body == body_of(URLS[0])  # opens again
    index.close()


def test_an_index_without_lengths_reads_through_the_file(index: CaptureIndex) -> None:
    entry = index.lookup("GET", URLS[1])
    assert entry is not None
    line = f'{entry.url} {entry.timestamp} {{"url": "{entry.url}", "status": "200", '
    line += f'"offset": "{entry.offset}", "filename": "{entry.filename}"}}'
    unsized = parse_cdxj_line(line)  # an index without lengths (some tools write none)
    assert unsized is not None and unsized.length == 0
    assert index.read(unsized).body == body_of(URLS[1])
    index.close()


def test_a_file_cut_inside_a_record_is_an_error_naming_it(
    index: CaptureIndex, tmp_path: Path
) -> None:
    entry = index.lookup("GET", URLS[1])
    assert entry is not None
    warc = tmp_path / "cases.warc.gz"
    with warc.open("r+b") as cut:
        cut.truncate(entry.offset + entry.length // 2)
    with pytest.raises(ValueError, match=r"cases\.warc\.gz ends inside the record"):
        index.read(entry)
    index.close()
