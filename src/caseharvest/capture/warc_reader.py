"""Read WARC files record by record, with their offsets, tolerating a torn tail.

One gzip member per record lets a reader find exactly where the last whole record ends, which
is what recovery after a crash and the `verify` command need.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from caseharvest.capture import warcio_brotli

CHUNK = 1 << 16
warcio_brotli.install()  # br bodies read through warcio


@dataclass(frozen=True)
class WarcRecordInfo:
    """One whole record of a WARC file, as the catalog and checks need it."""

    offset: int
    length: int
    record_type: str
    record_id: str
    warc_date: str
    target_uri: str
    concurrent_to: str | None
    payload_digest: str | None
    http_status: int | None
    http_method: str | None
    http_headers: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str], ...]
    digest_problems: tuple[str, ...]
    warc_version: str
    http_first_line: str | None
    payload_length: int
    payload_prefix: bytes
    warcinfo: tuple[tuple[str, str], ...]

    def field(self, name: str) -> str | None:
        """A WARC header value (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.fields if key.lower() == wanted), None)

    def http_header(self, name: str) -> str | None:
        """The last value of an HTTP header of the record, or None."""
        wanted = name.lower()
        values = [value for key, value in self.http_headers if key.lower() == wanted]
        return values[-1] if values else None


@dataclass(frozen=True)
class TornTail:
    """Bytes after the last whole record that do not form a record."""

    offset: int
    reason: str


def _members(stream: BinaryIO) -> Iterator[tuple[int, int, bytes] | TornTail]:
    """(offset, compressed length, content) of each gzip member; a TornTail ends the walk."""
    offset = 0
    pending = b""
    while True:
        if not pending:
            pending = stream.read(CHUNK)
            if not pending:
                return
        start = offset
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        parts = []
        try:
            while not decompressor.eof:
                if not pending:
                    pending = stream.read(CHUNK)
                    if not pending:
                        yield TornTail(start, "file ends inside a gzip member")
                        return
                parts.append(decompressor.decompress(pending))
                used = len(pending) - len(decompressor.unused_data)
                offset += used
                pending = decompressor.unused_data
        except zlib.error as exc:
            yield TornTail(start, f"not gzip data ({exc})")
            return
        yield start, offset - start, b"".join(parts)


def sha1_digest(data: bytes) -> str:
    """``sha1:`` + base32, the form WARC digests take."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _digest_problems(fields: dict[str, str], block: bytes, has_http: bool) -> tuple[str, ...]:
    problems = []
    block_digest = fields.get("warc-block-digest")
    if block_digest is None:
        problems.append("no WARC-Block-Digest")
    elif block_digest.lower().startswith("sha1:") and block_digest != sha1_digest(block):
        problems.append("WARC-Block-Digest does not match the block")
    payload_digest = fields.get("warc-payload-digest")
    if payload_digest and fields.get("warc-type") == "response" and has_http:
        payload = block.partition(b"\r\n\r\n")[2]
        if payload_digest.lower().startswith("sha1:") and payload_digest != sha1_digest(payload):
            problems.append("WARC-Payload-Digest does not match the payload")
    return tuple(problems)


def _warc_fields(block: bytes) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if colon:
            pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _parse(offset: int, length: int, content: bytes) -> WarcRecordInfo | None:
    head, sep, rest = content.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/"):
        return None
    fields = []
    for line in head.decode("utf-8", "replace").split("\r\n")[1:]:
        key, colon, value = line.partition(":")
        if colon:
            fields.append((key.strip(), value.strip()))
    declared = next((v for k, v in fields if k.lower() == "content-length"), None)
    if declared is None or not declared.isdigit():
        return None
    block_length = int(declared)
    if len(rest) != block_length + 4 or rest[block_length:] != b"\r\n\r\n":
        return None
    block = rest[:block_length]
    record = next(iter(ArchiveIterator(BytesIO(content), check_digests=False)))
    lookup = dict((k.lower(), v) for k, v in fields)
    http = record.http_headers
    http_head, _, payload = block.partition(b"\r\n\r\n") if http is not None else (b"", b"", block)
    status = method = None
    headers: tuple[tuple[str, str], ...] = ()
    if http is not None:
        headers = tuple(http.headers)
        if lookup.get("warc-type") == "request":
            method = http.protocol
        else:
            code = http.get_statuscode()
            status = int(code) if code and code.isdigit() else None
    return WarcRecordInfo(
        offset=offset,
        length=length,
        record_type=lookup.get("warc-type", ""),
        record_id=lookup.get("warc-record-id", ""),
        warc_date=lookup.get("warc-date", ""),
        target_uri=lookup.get("warc-target-uri", ""),
        concurrent_to=lookup.get("warc-concurrent-to"),
        payload_digest=lookup.get("warc-payload-digest"),
        http_status=status,
        http_method=method,
        http_headers=headers,
        fields=tuple(fields),
        digest_problems=_digest_problems(lookup, rest[:block_length], http is not None),
        warc_version=head.split(b"\r\n", 1)[0].decode("ascii", "replace"),
        http_first_line=http_head.split(b"\r\n", 1)[0].decode("latin-1") if http else None,
        payload_length=len(payload),
        payload_prefix=payload[:8],
        warcinfo=_warc_fields(block) if lookup.get("warc-type") == "warcinfo" else (),
    )


def iter_records(path: Path) -> Iterator[WarcRecordInfo | TornTail]:
    """Every whole record of *path* in order, then a TornTail if bytes follow the last one.

    Streams: one record's bytes in memory at a time.
    """
    with path.open("rb") as stream:
        for item in _members(stream):
            if isinstance(item, TornTail):
                yield item
                return
            offset, length, content = item
            info = _parse(offset, length, content)
            if info is None:
                yield TornTail(offset, "gzip member is not a whole WARC record")
                return
            yield info
