"""The project's own WARC conformance checks, beyond digests (which is all `warcio check` does).

`warcio check` passes files with faked status lines, decoded bodies under
``Content-Encoding: gzip``, request records without query strings and records that name no
warcinfo; these checks catch such files. `verify` and the tests use them.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from caseharvest.capture.warc_reader import TornTail, WarcRecordInfo, iter_records
from caseharvest.capture.warc_writer import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED

WARCINFO_FIELDS = (
    "software",
    "format",
    "conformsTo",
    "operator",
    "robots",
    "http-header-user-agent",
)
_RECORD_ID = re.compile(r"^<urn:uuid:[0-9a-f-]{36}>$")
_WARC_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
_URI_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_STATUS_LINE = re.compile(r"^HTTP/\d\.\d \d{3} \S.*$")
_GZIP_MAGIC = b"\x1f\x8b"


def _record_problems(record: WarcRecordInfo, warcinfo_id: str | None) -> list[str]:
    where = f"record at offset {record.offset} ({record.record_type or '?'})"
    problems = []
    if record.warc_version != "WARC/1.1":
        problems.append(f"{where}: version {record.warc_version!r}, not WARC/1.1")
    if not _RECORD_ID.match(record.record_id):
        problems.append(f"{where}: WARC-Record-ID {record.record_id!r} is not <urn:uuid:…>")
    if not _WARC_DATE.match(record.warc_date):
        problems.append(f"{where}: WARC-Date {record.warc_date!r} is not a UTC W3C date")
    problems.extend(f"{where}: {problem}" for problem in record.digest_problems)
    if record.record_type == "warcinfo":
        return problems
    if warcinfo_id is None or record.field("WARC-Warcinfo-ID") != warcinfo_id:
        problems.append(f"{where}: WARC-Warcinfo-ID does not name the file's warcinfo record")
    uri = record.target_uri
    if not uri or _URI_UNSAFE.search(uri) or not urlsplit(uri).scheme:
        problems.append(f"{where}: WARC-Target-URI {uri!r} is not a percent-encoded URI")
    if record.record_type in ("response", "revisit"):
        problems.extend(_response_problems(record, where))
    return problems


def _response_problems(record: WarcRecordInfo, where: str) -> list[str]:
    problems = []
    if record.field("Content-Type") != "application/http; msgtype=response":
        problems.append(f"{where}: Content-Type is not application/http; msgtype=response")
    if not record.field("WARC-IP-Address"):
        problems.append(f"{where}: no WARC-IP-Address")
    if not (record.payload_digest or "").startswith("sha1:"):
        problems.append(f"{where}: no sha1 WARC-Payload-Digest")
    if not _STATUS_LINE.match(record.http_first_line or ""):
        problems.append(f"{where}: status line {record.http_first_line!r} is not HTTP")
    if "chunked" in (record.http_header("Transfer-Encoding") or "").lower():
        problems.append(f"{where}: claims Transfer-Encoding: chunked for a de-chunked body")
    if record.record_type == "revisit":
        if record.field("WARC-Profile") not in (REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED):
            problems.append(f"{where}: unknown WARC-Profile {record.field('WARC-Profile')!r}")
        for name in ("WARC-Refers-To", "WARC-Refers-To-Target-URI", "WARC-Refers-To-Date"):
            if not record.field(name):
                problems.append(f"{where}: revisit without {name}")
        if record.field("WARC-Truncated") != "length":
            problems.append(f"{where}: revisit without WARC-Truncated: length")
        return problems
    encoding = (record.http_header("Content-Encoding") or "").lower()
    if (
        encoding in ("gzip", "x-gzip")
        and record.payload_length
        and (not record.payload_prefix.startswith(_GZIP_MAGIC))
    ):
        problems.append(f"{where}: Content-Encoding: gzip over a body that is not gzip")
    declared = record.http_header("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) != record.payload_length:
        problems.append(
            f"{where}: HTTP Content-Length {declared} but the body holds "
            f"{record.payload_length} bytes"
        )
    return problems


def _pair_problems(response: WarcRecordInfo, request: WarcRecordInfo | None) -> list[str]:
    where = f"record at offset {response.offset} ({response.record_type})"
    if request is None or request.record_type != "request":
        return [f"{where}: not followed by its request record"]
    problems = []
    if request.concurrent_to != response.record_id:
        problems.append(f"{where}: the next request record does not name it in WARC-Concurrent-To")
    if request.warc_date != response.warc_date:
        problems.append(f"{where}: its request record has another WARC-Date")
    if request.target_uri != response.target_uri:
        problems.append(f"{where}: its request record has another WARC-Target-URI")
    if request.field("Content-Type") != "application/http; msgtype=request":
        problems.append(f"{where}: request Content-Type is not application/http; msgtype=request")
    parts = urlsplit(response.target_uri)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request_line = (request.http_first_line or "").split(" ")
    if len(request_line) != 3 or request_line[1] != target:
        problems.append(
            f"{where}: request line {request.http_first_line!r} does not carry the path and "
            f"query {target!r}"
        )
    return problems


def check_warc_file(path: Path, offsets: dict[int, str] | None = None) -> list[str]:
    """Every conformance problem of one ``.warc.gz`` file (empty when it conforms).

    With *offsets*, also fills it with each whole record's offset and WARC-Record-ID, so a
    caller can check references into the file without reading it twice.
    """
    problems: list[str] = []
    records: list[WarcRecordInfo] = []
    for item in iter_records(path):
        if isinstance(item, TornTail):
            problems.append(
                f"bytes after the last whole record at offset {item.offset}: {item.reason}"
            )
            break
        records.append(item)
        if offsets is not None:
            offsets[item.offset] = item.record_id
    if not records or records[0].record_type != "warcinfo":
        return [*problems, "the file does not begin with a warcinfo record"]
    warcinfo = records[0]
    present = {key for key, _ in warcinfo.warcinfo}
    missing = [name for name in WARCINFO_FIELDS if name not in present]
    if missing:
        problems.append(f"warcinfo lacks {', '.join(missing)}")
    if warcinfo.field("Content-Type") != "application/warc-fields":
        problems.append("warcinfo Content-Type is not application/warc-fields")
    for index, record in enumerate(records):
        problems.extend(_record_problems(record, warcinfo.record_id))
        if record.record_type in ("response", "revisit"):
            following = records[index + 1] if index + 1 < len(records) else None
            problems.extend(_pair_problems(record, following))
        if index and record.record_type == "warcinfo":
            problems.append(f"record at offset {record.offset}: a second warcinfo record")
    return [f"{path.name}: {problem}" for problem in problems]
