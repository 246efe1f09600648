"""Files other tools write, made by hand: Heritrix WARC/1.0, ARC, WACZ, br/zstd, whole-file gzip."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import brotli
import pytest
import zstandard
from warcio.archiveiterator import ArchiveIterator

from caseharvest.capture.archive_sources import find_archive_files
from caseharvest.capture.archive_walk import OriginalIndex, iter_captures
from caseharvest.capture.http_capture import Capture, iter_file_captures, read_capture, sha1_digest
from caseharvest.capture.record_framing import GZIP_MEMBER, GZIP_STREAM, PLAIN, Damage

from .conftest import Page, chunked, gz_members, http_response, new_id, replica_pages, warc_record

PAGES = replica_pages(3, gzip_only=True)


def _captures(items: list[Capture | Damage]) -> list[Capture]:
    assert not [item for item in items if isinstance(item, Damage)]
    return [item for item in items if isinstance(item, Capture)]


def _heritrix_crawl(page: Page, date: str, *, revisit: bool) -> bytes:
    """A Heritrix 3 style file: warcinfo, dns:, response (raw chunked gzip, Transfer-Encoding
    kept) or digest-only revisit (no WARC-Refers-To), request, metadata."""
    raw_body = chunked(page.body, size=512)
    headers = [*page.headers, ("Transfer-Encoding", "chunked")]
    digest = sha1_digest(raw_body)
    response_id = new_id()
    records = [
        warc_record(
            "warcinfo",
            "",
            b"software: Heritrix/3.4.0\r\nformat: WARC File Format 1.0\r\n",
            date=date,
            content_type="application/warc-fields",
        ),
        warc_record(
            "response",
            "dns:commerce.shandong.gov.cn",
            b"20240101000000\ncommerce.shandong.gov.cn.\t300\tIN\tA\t10.0.0.1\n",
            date=date,
            content_type="text/dns",
        ),
    ]
    if revisit:
        block = http_response(200, headers, b"")
        records.append(
            warc_record(
                "revisit",
                page.url,
                block,
                date=date,
                record_id=response_id,
                fields={
                    "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
                    "WARC-Payload-Digest": digest,
                    "WARC-Truncated": "length",
                },
            )
        )
    else:
        block = http_response(200, headers, raw_body)
        records.append(
            warc_record(
                "response",
                page.url,
                block,
                date=date,
                record_id=response_id,
                fields={"WARC-Payload-Digest": digest, "WARC-IP-Address": "10.0.0.1"},
            )
        )
    request = (
        b"GET "
        + page.url.split("gov.cn", 1)[1].encode()
        + b" HTTP/1.0\r\nHost: commerce.shandong.gov.cn\r\n\r\n"
    )
    records.append(
        warc_record(
            "request", page.url, request, date=date, fields={"WARC-Concurrent-To": response_id}
        )
    )
    records.append(
        warc_record(
            "metadata",
            page.url,
            b"via: http://commerce.shandong.gov.cn/\r\nhopsFromSeed: L\r\n",
            date=date,
            content_type="application/warc-fields",
            fields={"WARC-Concurrent-To": response_id},
        )
    )
    return gz_members(records)


def test_heritrix_revisit_resolves_by_digest_to_an_original_in_another_file(tmp_path: Path) -> None:
    page = PAGES[0]
    # The later crawl's name sorts first: order must come from the records' dates.
    (tmp_path / "WEB-20240301-00000~host~8443.warc.gz").write_bytes(
        _heritrix_crawl(page, "2024-03-01T00:00:00Z", revisit=True)
    )
    (tmp_path / "WEB-20240101-00000~host~8443.warc.gz").write_bytes(
        _heritrix_crawl(page, "2024-01-01T00:00:00Z", revisit=False)
    )
    captures = _captures(list(iter_captures([tmp_path])))
    assert [(c.record_type, c.warc_date) for c in captures] == [
        ("response", "2024-01-01T00:00:00Z"),
        ("revisit", "2024-03-01T00:00:00Z"),
    ]
    response, revisit = captures
    assert response.body == page.decoded and response.codings == ("chunked", "gzip")
    assert revisit.body == page.decoded
    assert revisit.original == response.location
    assert revisit.missing_original is None
    assert revisit.method == "GET" and revisit.request_location is not None


def test_a_revisit_before_its_original_is_resolved_after_the_last_file(tmp_path: Path) -> None:
    page = PAGES[0]
    # Named so and dated so that the revisit's file comes first.
    (tmp_path / "a.warc.gz").write_bytes(
        _heritrix_crawl(page, "2023-01-01T00:00:00Z", revisit=True)
    )
    (tmp_path / "b.warc.gz").write_bytes(
        _heritrix_crawl(page, "2024-01-01T00:00:00Z", revisit=False)
    )
    captures = _captures(list(iter_captures([tmp_path])))
    assert [c.record_type for c in captures] == ["response", "revisit"]
    assert captures[1].body == page.decoded


def test_an_unresolvable_revisit_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "only.warc.gz").write_bytes(
        _heritrix_crawl(PAGES[0], "2024-03-01T00:00:00Z", revisit=True)
    )
    (revisit,) = _captures(list(iter_captures([tmp_path])))
    assert revisit.body is None and revisit.original is None
    assert revisit.missing_original is not None
    assert revisit.missing_original.startswith(f"revisit of {PAGES[0].url} (sha1:")
    assert "original not found" in revisit.warnings[-1]


def test_an_earlier_archive_resolves_revisits_through_the_hook(tmp_path: Path) -> None:
    earlier, later = tmp_path / "earlier", tmp_path / "later"
    earlier.mkdir()
    later.mkdir()
    (earlier / "old.warc.gz").write_bytes(
        _heritrix_crawl(PAGES[1], "2024-01-01T00:00:00Z", revisit=False)
    )
    (later / "new.warc.gz").write_bytes(
        _heritrix_crawl(PAGES[1], "2024-03-01T00:00:00Z", revisit=True)
    )
    hook = OriginalIndex.from_sources([earlier]).lookup
    (revisit,) = _captures(list(iter_captures([later], find_original=hook)))
    assert revisit.body == PAGES[1].decoded
    assert revisit.original is not None and revisit.original.path.endswith("old.warc.gz")


def test_caseharvest_style_revisit_resolves_by_refers_to(tmp_path: Path) -> None:
    page = PAGES[2]
    original_id = new_id()
    original = warc_record(
        "response",
        page.url,
        http_response(200, page.headers, page.body),
        version="WARC/1.1",
        record_id=original_id,
        fields={"WARC-Payload-Digest": "sha1:DIFFERENT"},
    )
    revisit = warc_record(
        "revisit",
        page.url,
        http_response(304, [("ETag", '"x"')], b""),
        version="WARC/1.1",
        date="2024-02-02T00:00:00Z",
        fields={
            "WARC-Profile": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
            "WARC-Refers-To": original_id,
            "WARC-Refers-To-Target-URI": page.url,
            "WARC-Refers-To-Date": "2024-01-02T03:04:05Z",
        },
    )
    (tmp_path / "x.warc.gz").write_bytes(gz_members([original, revisit]))
    first, second = _captures(list(iter_captures([tmp_path])))
    assert first.record_type == "response" and second.record_type == "revisit"
    assert second.status == 304 and second.body == page.decoded
    assert second.original_headers == page.headers and second.refers_to == original_id


def _arc_record(
    url: str, date: str, payload: bytes, mime: str = "text/html", ip: str = "10.0.0.1"
) -> bytes:
    return f"{url} {ip} {date} {mime} {len(payload)}\n".encode() + payload + b"\n"


def _arc_file(pages: list[Page]) -> bytes:
    version_block = (
        b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n\n"
    )
    records = [
        _arc_record(
            "filedesc://IA-2008.arc", "20080102030405", version_block, "text/plain", "0.0.0.0"
        )
    ]
    records.append(
        _arc_record("dns:commerce.shandong.gov.cn", "20080102030405", b"10.0.0.1\n", "text/dns")
    )
    for page in pages:
        records.append(
            _arc_record(page.url, "20080102030406", http_response(200, page.headers, page.body))
        )
    return gz_members(records)


def test_an_arc_file_is_read_as_warcio_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "IA-2008.arc.gz"
    path.write_bytes(_arc_file(PAGES))
    # The hand-made file is a real ARC file: warcio reads it.
    with path.open("rb") as stream:
        seen = [
            (r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
            for r in ArchiveIterator(stream, arc2warc=True)
            if r.rec_type == "response" and r.http_headers
        ]
    assert [uri for uri, _ in seen] == [page.url for page in PAGES]
    captures = _captures(list(iter_captures([path])))
    assert [(c.target_uri, c.method, c.status, c.warc_date) for c in captures] == [
        (page.url, "GET", 200, "2008-01-02T03:04:06Z") for page in PAGES
    ]
    assert (
        [c.body for c in captures] == [page.decoded for page in PAGES] == [body for _, body in seen]
    )
    assert all(read_capture(c.location).body == c.body for c in captures)


def _wacz(path: Path, warc: bytes, compression: int) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.warc.gz", warc, compress_type=compression)
        archive.writestr("indexes/index.cdxj", "", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "pages/pages.jsonl",
            json.dumps({"format": "json-pages-1.0", "id": "pages"}) + "\n",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "datapackage.json",
            json.dumps({"profile": "data-package", "wacz_version": "1.1.1"}),
            compress_type=zipfile.ZIP_DEFLATED,
        )


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_scrapy_webarchive_wacz_with_bodies_already_decoded(
    tmp_path: Path, compression: int
) -> None:
    # scrapy-webarchive writes Scrapy's decoded body under the original Content-Encoding.
    records = [
        warc_record(
            "response", page.url, http_response(200, page.headers, page.decoded), version="WARC/1.1"
        )
        for page in PAGES
    ]
    records += [
        warc_record(
            "resource",
            "urn:pageinfo:" + PAGES[0].url,
            b"{}",
            version="WARC/1.1",
            content_type="application/json",
        )
    ]
    path = tmp_path / "crawl.wacz"
    _wacz(path, gz_members(records), compression)
    captures = _captures(list(iter_captures([path])))
    assert [c.body for c in captures] == [page.decoded for page in PAGES]
    assert all("declared gzip, but the body is not gzip data" in c.warnings[0] for c in captures)
    assert {c.location.member for c in captures} == {"archive/data.warc.gz"}
    assert all(read_capture(c.location).body == c.body for c in captures)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
        ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
    ],
)
def test_br_and_zstd_bodies_are_decoded(tmp_path: Path, coding: str, encode: object) -> None:
    page = PAGES[0]
    headers = [(k, v) for k, v in page.headers if k.lower() != "content-encoding"] + [
        ("Content-Encoding", coding)
    ]
    block = http_response(200, headers, encode(page.decoded))  # type: ignore[operator]
    path = tmp_path / "coded.warc"
    path.write_bytes(warc_record("response", page.url, block, version="WARC/1.1"))
    (capture,) = _captures(list(iter_file_captures(path)))
    assert capture.body == page.decoded and capture.warnings == []
    assert capture.location.framing == PLAIN and capture.location.offset == 0


def _plain_file(count: int = 3) -> tuple[bytes, list[bytes]]:
    records = [
        warc_record("warcinfo", "", b"software: x\r\n", content_type="application/warc-fields")
    ]
    records += [
        warc_record("response", page.url, http_response(200, page.headers, page.body))
        for page in PAGES[:count]
    ]
    return b"".join(records), records


def test_a_whole_file_gzip_is_read_and_records_can_be_read_again(tmp_path: Path) -> None:
    plain, _ = _plain_file()
    path = tmp_path / "whole.warc.gz"
    path.write_bytes(gzip.compress(plain))
    captures = _captures(list(iter_file_captures(path)))
    assert [c.body for c in captures] == [page.decoded for page in PAGES]
    assert {c.location.framing for c in captures} == {GZIP_STREAM}
    assert [read_capture(c.location).body for c in captures] == [c.body for c in captures]


def test_one_member_per_record_is_located_by_member(tmp_path: Path) -> None:
    _, records = _plain_file()
    data = gz_members(records)
    path = tmp_path / "members.warc.gz"
    path.write_bytes(data)
    captures = _captures(list(iter_file_captures(path)))
    offsets = [
        sum(len(gzip.compress(r, mtime=0)) for r in records[:i]) for i in range(1, len(records))
    ]
    assert [(c.location.framing, c.location.offset) for c in captures] == [
        (GZIP_MEMBER, o) for o in offsets
    ]


def test_sources_are_found_by_suffix_and_ordered_by_first_record_date(tmp_path: Path) -> None:
    def crawl(date: str) -> bytes:
        return gz_members(
            [
                warc_record(
                    "warcinfo", "", b"x: y\r\n", date=date, content_type="application/warc-fields"
                )
            ]
        )

    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "z-oldest.warc.gz").write_bytes(crawl("2019-01-01T00:00:00Z"))
    (tmp_path / "sub" / "a-newest.WARC.GZ").write_bytes(crawl("2025-01-01T00:00:00Z"))
    (tmp_path / "sub" / "deeper" / "m.arc.gz").write_bytes(_arc_file(PAGES[:1]))  # 2008
    (tmp_path / "sub" / "middle.warc").write_bytes(
        warc_record("warcinfo", "", b"x: y\r\n", date="2020-06-01T00:00:00.123456Z")
    )
    (tmp_path / "undated.warc").write_bytes(b"not an archive at all\n")
    (tmp_path / "busy.warc.gz.open").write_bytes(crawl("2018-01-01T00:00:00Z"))
    (tmp_path / "notes.txt").write_text("x")
    found = [path.name for path in find_archive_files([tmp_path, tmp_path / "z-oldest.warc.gz"])]
    assert found == [
        "m.arc.gz",
        "z-oldest.warc.gz",
        "middle.warc",
        "a-newest.WARC.GZ",
        "undated.warc",
    ]


@pytest.mark.parametrize("request_first", [True, False])
def test_requests_without_links_pair_by_uri_next_to_their_response(
    tmp_path: Path, request_first: bool
) -> None:
    page = PAGES[0]
    post = b"POST /x HTTP/1.1\r\nHost: commerce.shandong.gov.cn\r\nContent-Length: 3\r\n\r\na=1"
    other = b"GET /y HTTP/1.1\r\nHost: commerce.shandong.gov.cn\r\n\r\n"
    response = warc_record("response", page.url, http_response(200, page.headers, page.body))
    request = warc_record("request", page.url, post)
    stray = warc_record("request", page.url + "?other", other)  # pairs with nothing
    pair = [request, response] if request_first else [response, request]
    path = tmp_path / "pairs.warc"
    path.write_bytes(b"".join([stray, *pair]))
    (capture,) = _captures(list(iter_file_captures(path)))
    assert (capture.method, capture.request_body, capture.body) == ("POST", b"a=1", page.decoded)
