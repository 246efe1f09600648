"""CDXJ indexes: one per WARC file (POSTs with their bodies), merged, and the replay view."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caseharvest.archive.warc_index import (
    ensure_indexes,
    index_path_for,
    index_warc_file,
    merged_index,
    merged_index_path,
    replay_lines,
)
from caseharvest.capture.exchange import HttpExchange
from caseharvest.capture.warc_reader import WarcRecordInfo, iter_records, sha1_digest
from caseharvest.capture.warc_writer import RevisitOf, RotatingWarcWriter
from tests.conftest import Crawl

MOMENT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
ARTICLE = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
PROXY = "http://commerce.shandong.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15"


def cdxj(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(urlkey, timestamp, fields) of every line."""
    rows = []
    for line in path.read_text("utf-8").splitlines():
        urlkey, timestamp, fields = line.split(" ", 2)
        rows.append((urlkey, timestamp, json.loads(fields)))
    return rows


def exchange(
    url: str, body: bytes, *, method: str = "GET", status: int = 200, **kw: object
) -> HttpExchange:
    values: dict[str, object] = {
        "url": url,
        "method": method,
        "request_headers": ((b"User-Agent", b"caseharvest/test"),),
        "request_body": b"",
        "status": status,
        "response_headers": ((b"Content-Type", b"text/html; charset=utf-8"),),
        "response_body": body,
        "date": MOMENT,
    }
    values.update(kw)
    return HttpExchange(**values)  # type: ignore[arg-type]


def write_warc(archive: Path, exchanges: list[tuple[HttpExchange, RevisitOf | None]]) -> Path:
    writer = RotatingWarcWriter(
        archive / "warc" / "shandong", "shandong", {"software": "tests"}, hostname="test"
    )
    for ex, revisit_of in exchanges:
        writer.write_exchange(ex, revisit_of)
    writer.close()
    return writer.files_written[-1]


def records_by_offset(warc: Path) -> dict[int, WarcRecordInfo]:
    return {r.offset: r for r in iter_records(warc) if isinstance(r, WarcRecordInfo)}


def test_crawl_index_lists_every_capture_and_posts_with_their_bodies(
    default_crawl: Crawl, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(default_crawl.archive, archive)
    (warc,) = sorted((archive / "warc/shandong").glob("*.warc.gz"))
    index = index_warc_file(warc)
    assert index == archive / "indexes/shandong" / f"{warc.name}.cdxj"
    lines = index.read_text("utf-8").splitlines()
    assert lines == sorted(lines), "sorted, so replay tools can binary-search it"
    rows = cdxj(index)
    records = records_by_offset(warc)
    captures = [r for r in records.values() if r.record_type in ("response", "revisit")]
    assert len(rows) == len(captures)
    for _, _, fields in rows:
        record = records[int(fields["offset"])]
        assert record.target_uri == fields["url"]
        assert int(fields["length"]) == record.length
        assert fields["filename"] == warc.name, "bare name: the site prefix keeps it unique"
    posts = [(key, fields) for key, _, fields in rows if fields.get("method") == "POST"]
    assert posts, "the listing POSTs are indexed"
    for key, fields in posts:
        assert "__wb_method=post" in key and "webid=" in key, "POST body appended to the key"
        assert "webid=" in fields["requestBody"]
    assert not list(index.parent.glob(".*.tmp")), "no temporary file left behind"


def test_failed_indexing_leaves_nothing_behind(tmp_path: Path) -> None:
    warc = tmp_path / "archive/warc/shandong/shandong-20260101000000-00000-x.warc.gz"
    with pytest.raises(FileNotFoundError):
        index_warc_file(warc)  # gone before it could be indexed
    assert list(index_path_for(warc).parent.iterdir()) == [], "no temporary file, no index"


def test_index_path_needs_the_archive_layout(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="warc/<site>"):
        index_path_for(tmp_path / "loose.warc.gz")


def test_merged_index_is_a_sorted_merge_rebuilt_only_when_stale(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    first = write_warc(
        archive,
        [(exchange(ARTICLE, b"<p>one</p>"), None), (exchange("http://a.example/z", b"z"), None)],
    )
    second = write_warc(
        archive,
        [
            (
                exchange(PROXY, b"<datastore/>", method="POST", request_body=b"col=1&webid=36"),
                None,
            ),
            (exchange("http://a.example/a", b"a", date=MOMENT + timedelta(days=1)), None),
        ],
    )
    assert first != second
    merged = merged_index(archive)
    assert merged == merged_index_path(archive) == archive / "indexes/index.cdxj"
    per_file = [index_path_for(first), index_path_for(second)]
    assert all(path.exists() for path in per_file), "missing per-file indexes written first"
    expected = sorted(line for p in per_file for line in p.read_text("utf-8").splitlines())
    assert merged.read_text("utf-8").splitlines() == expected
    assert len(expected) == 4

    built = merged.stat().st_mtime_ns
    os.utime(merged, ns=(built - 10**9, built - 10**9))  # so a rewrite would show
    assert merged_index(archive).stat().st_mtime_ns == built - 10**9, "fresh: not rebuilt"

    third = write_warc(archive, [(exchange("http://b.example/", b"b"), None)])
    rebuilt = merged_index(archive).read_text("utf-8").splitlines()
    assert len(rebuilt) == 5 and rebuilt == sorted(rebuilt)
    assert any('"http://b.example/"' in line for line in rebuilt), third.name

    third.unlink()  # a WARC file removed: its lines go, even though its index stays
    assert len(merged_index(archive).read_text("utf-8").splitlines()) == 4

    site = merged_index(archive, "shandong")
    assert site == archive / "indexes/shandong.cdxj"
    assert site.read_text("utf-8").splitlines() == expected


def test_ensure_indexes_covers_older_archives_and_stale_indexes(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    warc = write_warc(archive, [(exchange(ARTICLE, b"<p>one</p>"), None)])
    (index,) = ensure_indexes(archive)
    assert index == index_path_for(warc) and len(cdxj(index)) == 1
    index.write_text("stale\n", "utf-8")
    os.utime(index, ns=(1, 1))  # older than its WARC file: written before the file changed
    assert ensure_indexes(archive) == [index]
    assert len(cdxj(index)) == 1 and index.read_text("utf-8") != "stale\n"
    (archive / "warc/shandong" / (warc.name + ".open")).write_bytes(b"")
    assert ensure_indexes(archive) == [index], "files still being written are not indexed"


def line(url_key: str, ts: str, **fields: str) -> str:
    return f"{url_key} {ts} {json.dumps(fields)}\n"


def test_replay_view_points_304_revisits_at_the_capture_they_revalidated() -> None:
    key = "cn,gov,shandong,commerce)/art/x.html"
    old = line(
        key,
        "20260101000000",
        url="u",
        mime="text/html",
        status="200",
        digest="sha1:OLD",
        length="10",
        offset="100",
        filename="a.warc.gz",
    )
    new = line(
        key,
        "20260201000000",
        url="u",
        mime="text/html",
        status="200",
        digest="sha1:NEW",
        length="20",
        offset="200",
        filename="b.warc.gz",
    )
    same = line(
        key,
        "20260301000000",
        url="u",
        mime="warc/revisit",
        status="200",
        digest="sha1:NEW",
        length="5",
        offset="300",
        filename="c.warc.gz",
    )
    not_modified = line(
        key,
        "20260401000000",
        url="u",
        mime="warc/revisit",
        status="304",
        digest="sha1:OLD",
        length="6",
        offset="400",
        filename="c.warc.gz",
    )
    other_key = "cn,gov,shandong,commerce)/art/y.html"
    orphan = line(
        other_key,
        "20260101000000",
        url="v",
        mime="warc/revisit",
        status="304",
        digest="sha1:OLD",
        length="7",
        offset="500",
        filename="c.warc.gz",
    )
    out = list(replay_lines([old, new, same, not_modified, orphan]))
    assert out[:3] == [old, new, same], "responses and identical-payload revisits unchanged"
    resolved_key, resolved_ts, fields = out[3].split(" ", 2)
    assert (resolved_key, resolved_ts) == (key, "20260401000000"), "keeps its date"
    assert json.loads(fields) == {
        "url": "u",
        "mime": "text/html",
        "status": "200",
        "digest": "sha1:OLD",
        "length": "10",
        "offset": "100",
        "filename": "a.warc.gz",
    }, "the original with the revisit's digest, not merely the newest"
    assert out[4] == orphan, "no original of the same URL: left as it is"


def test_replay_view_of_a_real_304_revisit(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    body = b"<html><body>case text</body></html>"
    first = write_warc(archive, [(exchange(ARTICLE, body), None)])
    original = next(
        r
        for r in iter_records(first)
        if isinstance(r, WarcRecordInfo) and r.record_type == "response"
    )
    revisit = RevisitOf(
        "server-not-modified", original.record_id, ARTICLE, original.warc_date, sha1_digest(body)
    )
    write_warc(
        archive,
        [(exchange(ARTICLE, b"", status=304, date=MOMENT + timedelta(days=30)), revisit)],
    )
    lines = list(replay_lines(merged_index(archive).read_text("utf-8").splitlines(keepends=True)))
    assert len(lines) == 2
    fields = [json.loads(entry.split(" ", 2)[2]) for entry in lines]
    assert [entry.split(" ")[1] for entry in lines] == ["20260304050607", "20260403050607"]
    assert fields[1]["filename"] == first.name and fields[1]["offset"] == str(original.offset)
    assert fields[1]["status"] == "200" and fields[1]["mime"] == "text/html"


def test_replay_view_drops_failed_tries_a_retry_got_past_in_the_same_second() -> None:
    key = "cn,gov,shandong,commerce)/art/z.html"
    failed = line(key, "20260101000000", url="u", mime="text/html", status="503", offset="1")
    retried = line(key, "20260101000000", url="u", mime="text/html", status="200", offset="2")
    failed_alone = line(key, "20260102000000", url="u", mime="text/html", status="503", offset="3")
    missing = line(key, "20260103000000", url="u", mime="text/html", status="404", offset="4")
    out = list(replay_lines(sorted([failed, retried, failed_alone, missing])))
    assert out == [retried, failed_alone, missing], "only a superseded 5xx goes"
