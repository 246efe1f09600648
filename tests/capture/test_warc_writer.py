"""The WARC writer on its own: exact bytes with pinned ids and dates, rotation, revisits."""

from __future__ import annotations

import gzip
import itertools
import zlib
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from caseharvest.capture.exchange import HttpExchange
from caseharvest.capture.warc_writer import (
    REVISIT_IDENTICAL,
    REVISIT_NOT_MODIFIED,
    RevisitOf,
    RevisitProfile,
    RotatingWarcWriter,
    next_serial,
)

MOMENT = datetime(2026, 11, 26, 8, 30, 0, 123456, tzinfo=UTC)
URL = "http://commerce.shandong.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15"


def pinned_writer(directory: Path, **kwargs: object) -> RotatingWarcWriter:
    counter = itertools.count(1)
    return RotatingWarcWriter(
        directory,
        "shandong",
        {"software": "caseharvest/test", "operator": "tests"},
        hostname="testhost",
        clock=lambda: MOMENT,
        record_ids=lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(counter):012d}>",
        **kwargs,  # type: ignore[arg-type]
    )


def exchange(status: int = 200, body: bytes = b"", **kwargs: object) -> HttpExchange:
    values: dict[str, object] = {
        "url": URL,
        "method": "POST",
        "request_headers": ((b"User-Agent", b"caseharvest/test"),),
        "request_body": b"col=1&webid=36&webname=%E5%B1%B1",
        "status": status,
        "response_headers": (
            (b"Content-Type", b"text/html;charset=UTF-8"),
            (b"Set-Cookie", b"JSESSIONID=abc; Path=/"),
            (b"Set-Cookie", b"SERVERID=s1; Path=/"),
            (b"Content-Disposition", "attachment; filename=附件.pdf".encode("gbk")),
            (b"Transfer-Encoding", b"chunked"),
        ),
        "response_body": body,
        "date": MOMENT,
        "ip_address": "127.0.0.1",
    }
    values.update(kwargs)
    return HttpExchange(**values)  # type: ignore[arg-type]


def records(path: Path) -> list[tuple[str, dict[str, str], bytes]]:
    with path.open("rb") as stream:
        return [
            (
                record.rec_type,
                dict(record.rec_headers.headers),
                record.http_headers.to_bytes() if record.http_headers else b"",
            )
            for record in ArchiveIterator(stream)
        ]


def test_response_then_request_with_exact_heads(tmp_path: Path) -> None:
    body = gzip.compress("<datastore>山东</datastore>".encode())
    writer = pinned_writer(tmp_path)
    written = writer.write_exchange(exchange(body=body))
    writer.close()
    path = tmp_path / "shandong-20261126083000-00000-testhost.warc.gz"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert written.warc_file == path.name
    raw = gzip.decompress(path.read_bytes())
    response_block = (
        b"HTTP/1.1 200 OK\r\n"
        b"Content-Type: text/html;charset=UTF-8\r\n"
        b"Set-Cookie: JSESSIONID=abc; Path=/\r\n"
        b"Set-Cookie: SERVERID=s1; Path=/\r\n"
        b"Content-Disposition: attachment; filename=" + "附件".encode("gbk") + b".pdf\r\n"
        b"\r\n" + body
    )
    assert response_block in raw, "head kept byte for byte, body still gzip, no chunked claim"
    request_block = (
        b"POST /module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15 HTTP/1.1\r\n"
        b"Host: commerce.shandong.gov.cn\r\n"
        b"User-Agent: caseharvest/test\r\n"
        b"Content-Length: 32\r\n\r\n"
        b"col=1&webid=36&webname=%E5%B1%B1"
    )
    assert request_block in raw
    kinds = records(path)
    assert [kind for kind, _, _ in kinds] == ["warcinfo", "response", "request"]
    info, response, request = (fields for _, fields, _ in kinds)
    assert info["WARC-Record-ID"] == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    assert response["WARC-Warcinfo-ID"] == info["WARC-Record-ID"]
    assert request["WARC-Warcinfo-ID"] == info["WARC-Record-ID"]
    assert request["WARC-Concurrent-To"] == response["WARC-Record-ID"] == written.record_id
    assert response["WARC-Date"] == request["WARC-Date"] == "2026-11-26T08:30:00.123456Z"
    assert response["WARC-IP-Address"] == "127.0.0.1"
    assert response["Content-Type"] == "application/http; msgtype=response"
    assert request["Content-Type"] == "application/http; msgtype=request"
    assert response["WARC-Payload-Digest"].startswith("sha1:")
    assert response["WARC-Block-Digest"].startswith("sha1:")
    warcinfo_payload = raw.split(b"\r\n\r\n", 2)[1]
    for field in (b"format: WARC File Format 1.1", b"conformsTo: ", b"operator: tests"):
        assert field in warcinfo_payload


def test_one_gzip_member_per_record(tmp_path: Path) -> None:
    writer = pinned_writer(tmp_path)
    first = writer.write_exchange(exchange(body=b"a" * 100))
    writer.write_exchange(exchange(body=b"b" * 100))
    writer.close()
    data = next(tmp_path.iterdir()).read_bytes()
    members = 0
    rest = data
    while rest:
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        decompressor.decompress(rest)
        rest = decompressor.unused_data
        members += 1
    assert members == 5  # warcinfo + two (response, request) pairs
    # The recorded offset and length address exactly the response's gzip member.
    member = data[first.offset : first.offset + first.length]
    assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")
    assert b"WARC-Type: response" in gzip.decompress(member)


def test_rotation_continues_serials_and_keeps_pairs_together(tmp_path: Path) -> None:
    (tmp_path / "shandong-20250101000000-00007-other.warc.gz").write_bytes(b"")
    writer = pinned_writer(tmp_path, max_size=1)
    writer.write_exchange(exchange(body=b"x"))
    assert writer.current_name == "shandong-20261126083000-00008-testhost.warc.gz"
    assert (tmp_path / "shandong-20261126083000-00008-testhost.warc.gz.open").exists()
    writer.write_exchange(exchange(body=b"y"))
    writer.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "shandong-20250101000000-00007-other.warc.gz",
        "shandong-20261126083000-00008-testhost.warc.gz",
        "shandong-20261126083000-00009-testhost.warc.gz",
    ]
    for name in names[1:]:
        kinds = [kind for kind, _, _ in records(tmp_path / name)]
        assert kinds == ["warcinfo", "response", "request"], "a file starts with warcinfo"
    assert next_serial(tmp_path, "shandong") == 10


def test_revisit_records_carry_refers_to_fields(tmp_path: Path) -> None:
    writer = pinned_writer(tmp_path)
    original = writer.write_exchange(exchange(method="GET", body=b"same body"))
    profiles: tuple[tuple[RevisitProfile, int], ...] = (
        ("identical-payload-digest", 200),
        ("server-not-modified", 304),
    )
    for profile, status in profiles:
        revisit = writer.write_exchange(
            exchange(method="GET", status=status, body=b"same body" if status == 200 else b""),
            RevisitOf(
                profile,
                original.record_id,
                URL,
                original.warc_date,
                original.payload_digest,
            ),
        )
        assert revisit.record_type == "revisit"
    writer.close()
    found = [fields for kind, fields, _ in records(next(tmp_path.iterdir())) if kind == "revisit"]
    assert [fields["WARC-Profile"] for fields in found] == [REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED]
    for fields in found:
        assert fields["WARC-Refers-To"] == original.record_id
        assert fields["WARC-Refers-To-Target-URI"] == URL
        assert fields["WARC-Refers-To-Date"] == original.warc_date
        assert fields["WARC-Payload-Digest"] == original.payload_digest
        assert fields["WARC-Truncated"] == "length"


def test_recovery_cuts_a_response_left_without_its_request(tmp_path: Path) -> None:
    from caseharvest.capture.conformance import check_warc_file
    from caseharvest.capture.recovery import recover_open_files

    writer = pinned_writer(tmp_path)
    writer.write_exchange(exchange(body=b"first"))
    second = writer.write_exchange(exchange(body=b"second"))
    assert writer._path is not None and writer._file is not None
    writer._file.flush()
    open_path = writer._path
    # Killed right after the second response record, before its request record.
    with open_path.open("r+b") as handle:
        handle.truncate(second.offset + second.length)
    (recovered,) = recover_open_files(tmp_path)
    assert not recovered.removed and recovered.cut_bytes == second.length
    assert [r.record_type for r in recovered.records] == ["warcinfo", "response", "request"]
    problems = check_warc_file(recovered.path)
    # (this test's writer leaves out warcinfo fields a real run writes)
    assert [p for p in problems if "warcinfo lacks" not in p] == []
