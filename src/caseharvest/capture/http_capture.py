"""The HTTP captures of one archive file: response and revisit records, with their requests.

Every other record (warcinfo, metadata, resource, conversion, ``dns:`` and other non-HTTP
responses, an ARC version block) is skipped quietly. A request record gives its response the
method and body: it is paired by ``WARC-Concurrent-To`` in either direction (wget, warcio and
caseharvest point different ways) or, when neither names the other, by being next to a
response for the same URI; requests may come before or after their response.
"""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from caseharvest.capture.content_coding import DEFAULT_LIMIT, decode_http_body
from caseharvest.capture.record_framing import (
    Damage,
    RawRecord,
    RecordLocation,
    iter_raw_records,
    read_record,
)

HTTP_TYPES = frozenset(("response", "revisit", "request"))
_WAITING_REQUESTS = 64  # unpaired request records kept: pairs are near each other


@dataclass(slots=True)
class Capture:
    """One response or revisit record as plain values.

    ``body`` is the decoded body (None when bodies were not asked for, or for a revisit whose
    original was not found: then ``missing_original`` says so). ``payload_digest`` is the
    record's ``WARC-Payload-Digest`` (computed as ``sha1:`` base32 of the raw payload when a
    response lacks one). ``method`` is GET when no request record was found (ARC files have
    none). For a resolved revisit, ``original`` is where the body came from and
    ``original_headers`` the headers that went with it.
    """

    target_uri: str
    method: str
    request_body: bytes
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes | None
    payload_digest: str | None
    warc_date: str
    record_id: str
    record_type: str
    location: RecordLocation
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_location: RecordLocation | None = None
    concurrent_to: tuple[str, ...] = ()
    refers_to: str | None = None
    refers_to_target_uri: str | None = None
    refers_to_date: str | None = None
    profile: str | None = None
    codings: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    original: RecordLocation | None = None
    original_headers: list[tuple[str, str]] | None = None
    missing_original: str | None = None

    def header(self, name: str) -> str | None:
        """The last value of a response header (case-insensitive), or None."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found


@dataclass(slots=True)
class _Request:
    record_id: str
    target_uri: str
    concurrent_to: tuple[str, ...]
    method: str
    headers: list[tuple[str, str]]
    body: bytes
    location: RecordLocation


def iter_file_captures(
    path: Path | str, *, bodies: bool = True, limit: int = DEFAULT_LIMIT
) -> Iterator[Capture | Damage]:
    """The HTTP captures of one WARC/ARC/WACZ file in file order, then a Damage if damaged.

    With ``bodies=False`` no body is decoded (``body`` is None): a quick pass that finds what
    is where, for :func:`read_capture` to read later. Revisits are not resolved here (see
    ``archive_walk.iter_captures``).
    """
    pending: Capture | None = None  # a response that may still get its request
    waiting = _Requests()
    for record in iter_raw_records(path):
        if isinstance(record, Damage):
            if pending is not None:
                yield pending
            yield record
            return
        kind = record.fields.get("warc-type", "")
        if kind not in HTTP_TYPES or not _is_http(record):
            continue
        if kind == "request":
            request = _request(record)
            if pending is not None and _paired(pending, request):
                _attach(pending, request)
                yield pending
                pending = None
                continue
            if pending is not None:
                yield pending
                pending = None
            waiting.add(request)
            continue
        capture = capture_from_record(record, bodies=bodies, limit=limit)
        if capture is None:
            continue
        if pending is not None:
            yield pending
            pending = None
        earlier = waiting.take(capture)
        if earlier is not None:
            _attach(capture, earlier)
            yield capture
        else:
            pending = capture
    if pending is not None:
        yield pending


def read_capture(
    location: RecordLocation, *, bodies: bool = True, limit: int = DEFAULT_LIMIT
) -> Capture:
    """The capture at *location* read again (by seek), e.g. in a worker process.

    The request is not re-read (its location is in ``request_location`` of the first walk);
    revisits come back unresolved. Raises ValueError when no HTTP capture is there.
    """
    capture = capture_from_record(read_record(location), bodies=bodies, limit=limit)
    if capture is None:
        raise ValueError(f"{location.describe()} at {location.offset}: not an HTTP capture")
    return capture


def capture_from_record(
    record: RawRecord, *, bodies: bool = True, limit: int = DEFAULT_LIMIT
) -> Capture | None:
    """A response or revisit record as a :class:`Capture`; None for any other record."""
    fields = record.fields
    kind = fields.get("warc-type", "")
    if kind not in ("response", "revisit") or not _is_http(record):
        return None
    first_line, headers, payload, http = split_http(record.block)
    if kind == "response" and not http:
        return None  # a response record that holds no HTTP message
    status = _status(first_line) if http else None
    warnings: list[str] = []
    body: bytes | None = None
    codings: tuple[str, ...] = ()
    digest = fields.get("warc-payload-digest")
    if kind == "response":
        if digest is None:
            digest = sha1_digest(payload)
        if bodies:
            decoded = decode_http_body(payload, headers, limit=limit)
            body, codings = decoded.body, decoded.applied
            warnings.extend(decoded.warnings)
    return Capture(
        target_uri=_uri(fields.get("warc-target-uri", "")),
        method="GET",
        request_body=b"",
        status=status,
        headers=headers,
        body=body,
        payload_digest=digest,
        warc_date=fields.get("warc-date", ""),
        record_id=fields.get("warc-record-id", ""),
        record_type=kind,
        location=record.location,
        concurrent_to=record.concurrent_to,
        refers_to=fields.get("warc-refers-to"),
        refers_to_target_uri=_uri(fields["warc-refers-to-target-uri"])
        if "warc-refers-to-target-uri" in fields
        else None,
        refers_to_date=fields.get("warc-refers-to-date"),
        profile=fields.get("warc-profile"),
        codings=codings,
        warnings=warnings,
    )


def split_http(block: bytes) -> tuple[str, list[tuple[str, str]], bytes, bool]:
    """(first line, header pairs in order with repeats, payload, is HTTP) of an HTTP message.

    A block that is only a header (a revisit's) is fine; bare-LF line ends are tolerated.
    """
    if not block.startswith((b"HTTP/", b"http/")) and not _is_request_line(block):
        return "", [], block, False
    end = block.find(b"\r\n\r\n")
    skip = 4
    if end < 0:
        end = block.find(b"\n\n")
        skip = 2
    if end < 0:
        head, payload = block, b""
    else:
        head, payload = block[:end], block[end + skip :]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
    lines = text.split("\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")  # obsolete line folding
            continue
        name, colon, value = line.partition(":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return lines[0].strip(), headers, payload, True


def sha1_digest(data: bytes) -> str:
    """``sha1:`` + base32, the form WARC payload digests take."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _is_request_line(block: bytes) -> bool:
    method, _, rest = block[:16].partition(b" ")
    return bool(rest) and method.isalpha() and method.isupper()


def _is_http(record: RawRecord) -> bool:
    return _uri(record.fields.get("warc-target-uri", "")).startswith(("http:", "https:"))


def _uri(value: str) -> str:
    # WARC/1.1 drafts wrote the URI in angle brackets; some tools followed.
    return value[1:-1] if value.startswith("<") and value.endswith(">") else value


def _status(first_line: str) -> int | None:
    parts = first_line.split(None, 2)
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def _request(record: RawRecord) -> _Request:
    first_line, headers, payload, http = split_http(record.block)
    method = first_line.split(" ", 1)[0] if http else "GET"
    if payload:
        payload = decode_http_body(payload, headers).body
    return _Request(
        record_id=record.fields.get("warc-record-id", ""),
        target_uri=_uri(record.fields.get("warc-target-uri", "")),
        concurrent_to=record.concurrent_to,
        method=method,
        headers=headers,
        body=payload,
        location=record.location,
    )


def _paired(capture: Capture, request: _Request) -> bool:
    if capture.record_id in request.concurrent_to or request.record_id in capture.concurrent_to:
        return True
    # Without links, only a request for the same URI right next to the response pairs.
    return (
        not request.concurrent_to
        and not capture.concurrent_to
        and request.target_uri == capture.target_uri
    )


def _attach(capture: Capture, request: _Request) -> None:
    capture.method = request.method
    capture.request_body = request.body
    capture.request_headers = request.headers
    capture.request_location = request.location


class _Requests:
    """Request records waiting for their response (which comes later in wget's files)."""

    def __init__(self) -> None:
        self.by_id: OrderedDict[str, _Request] = OrderedDict()

    def add(self, request: _Request) -> None:
        self.by_id[request.record_id] = request
        if len(self.by_id) > _WAITING_REQUESTS:
            self.by_id.popitem(last=False)

    def take(self, capture: Capture) -> _Request | None:
        for record_id in capture.concurrent_to:
            found = self.by_id.pop(record_id, None)
            if found is not None:
                return found
        for record_id, request in reversed(self.by_id.items()):
            if capture.record_id in request.concurrent_to:
                return self.by_id.pop(record_id)
        if self.by_id:
            # Only the latest request can pair by URI alone (adjacency).
            record_id, request = next(reversed(self.by_id.items()))
            if _paired(capture, request):
                return self.by_id.pop(record_id)
        return None
