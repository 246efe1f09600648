"""Indexing WARC files while they are written gives the index of the closed file, exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from caseharvest.archive.warc_index import index_path_for, index_warc_file
from caseharvest.capture.exchange import HttpExchange
from caseharvest.capture.warc_reader import sha1_digest
from caseharvest.capture.warc_writer import RevisitOf, RotatingWarcWriter
from caseharvest.crawl import warc_indexing
from caseharvest.crawl.warc_indexing import WarcIndexing

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
HOST = "http://commerce.shandong.gov.cn"


@dataclass
class Summary:
    warc_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class Run:
    summary: Summary = field(default_factory=Summary)


def exchanges(count: int) -> list[tuple[HttpExchange, RevisitOf | None]]:
    """Case pages of incompressible sizes, listing POSTs, a redirect and revisits."""
    noise = random.Random(5)
    made: list[tuple[HttpExchange, RevisitOf | None]] = []
    for n in range(count):
        body = noise.randbytes(noise.randint(500, 6000))
        post = n % 7 == 0
        url = f"{HOST}/module/web/jpage/dataproxy.jsp" if post else f"{HOST}/art/{n}.html"
        exchange = HttpExchange(
            url=url,
            method="POST" if post else "GET",
            request_headers=((b"User-Agent", b"caseharvest/test"),),
            request_body=f"startrecord={n}&endrecord={n + 44}&perpage=15".encode() if post else b"",
            status=302 if n % 11 == 0 else 200,
            response_headers=((b"Content-Type", b"text/html; charset=UTF-8"),),
            response_body=body,
            date=MOMENT + timedelta(seconds=n),
            ip_address="127.0.0.1",
        )
        revisit = None
        if n % 13 == 0 and made:
            original, _ = made[-1]
            revisit = RevisitOf(
                "identical-payload-digest",
                "<urn:uuid:0>",
                original.url,
                "2026-03-04T05:06:07Z",
                sha1_digest(original.response_body),
            )
        made.append((exchange, revisit))
    return made


def _writer(tmp_path: Path, indexing: WarcIndexing, **options: Any) -> RotatingWarcWriter:
    return RotatingWarcWriter(
        tmp_path / "warc" / "shandong",
        "shandong",
        {"software": "caseharvest/test"},
        hostname="testhost",
        on_file_closed=indexing.file_closed,
        **options,
    )


@pytest.mark.parametrize("segment", [7_000, 50_000])
def test_segments_make_the_index_of_the_closed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, segment: int
) -> None:
    monkeypatch.setattr(warc_indexing, "SEGMENT_BYTES", segment)
    run = Run()
    indexing = WarcIndexing(run, background=True)  # type: ignore[arg-type]
    writer = _writer(tmp_path, indexing, max_size=400_000)  # several files, each closed mid-run
    for exchange, revisit in exchanges(300):
        writer.write_exchange(exchange, revisit)
        indexing.wrote(writer)
    writer.close()
    indexing.finish()

    files = sorted((tmp_path / "warc" / "shandong").glob("*.warc.gz"))
    assert len(files) >= 3 and [f.name for f in files] == run.summary.warc_files
    lines = 0
    for warc in files:
        written = index_path_for(warc).read_text("utf-8")
        index_warc_file(warc)  # the closed file, indexed in one pass
        assert written == index_path_for(warc).read_text("utf-8"), warc.name
        assert "__wb_method=post" in written or written.count("\n") < 7
        lines += written.count("\n")
    assert lines == 300  # each response or revisit once
    assert not run.summary.warnings


def test_a_segment_that_cannot_be_read_leaves_the_file_to_the_plain_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warc_indexing, "SEGMENT_BYTES", 20_000)
    run = Run()
    indexing = WarcIndexing(run, background=True)  # type: ignore[arg-type]
    writer = _writer(tmp_path, indexing)
    pairs = exchanges(60)
    for exchange, revisit in pairs[:30]:
        writer.write_exchange(exchange, revisit)
        indexing.wrote(writer)
    indexing._start += 5  # a segment starting inside a record: the indexer cannot read it
    for exchange, revisit in pairs[30:]:
        writer.write_exchange(exchange, revisit)
        indexing.wrote(writer)
    writer.close()
    indexing.finish()

    (warc,) = (tmp_path / "warc" / "shandong").glob("*.warc.gz")
    written = index_path_for(warc).read_text("utf-8")
    index_warc_file(warc)
    assert written == index_path_for(warc).read_text("utf-8")
    assert written.count("\n") == 60
