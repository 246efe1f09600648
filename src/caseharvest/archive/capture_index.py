"""Look captures up in WARC files through a CDXJ index, and read them back as they were sent.

Used by `fetch --from-warc`: the spider asks for a URL (and, for a POST, a body) and gets the
capture current at a given time, with its status, headers and body bytes as archived.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator

from caseharvest.archive.source_files import wacz_member_name, wacz_members
from caseharvest.archive.warc_index import REVISIT_MIME, current_index
from caseharvest.capture.content_coding import decode_http_body


@dataclass(frozen=True)
class IndexEntry:
    """One CDXJ line: a response or revisit record and where it is."""

    url: str
    timestamp: str
    status: int
    mime: str
    digest: str
    offset: int
    length: int
    filename: str
    method: str

    @property
    def is_revisit(self) -> bool:
        return self.mime == REVISIT_MIME


@dataclass(frozen=True)
class ArchivedResponse:
    """What the server sent, as archived: status, headers (repeats kept), raw body."""

    entry: IndexEntry
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    record_id: str
    warc_date: str
    payload_digest: str


def parse_cdxj_line(line: str) -> IndexEntry | None:
    """An entry from a CDXJ line, or None for lines that are not captures."""
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) != 3 or not parts[2].startswith("{"):
        return None
    fields = json.loads(parts[2])
    if "offset" not in fields or "filename" not in fields:
        return None
    return IndexEntry(
        url=fields["url"],
        timestamp=parts[1],
        status=int(fields.get("status") or 0),
        mime=fields.get("mime", ""),
        digest=fields.get("digest", ""),
        offset=int(fields["offset"]),
        length=int(fields.get("length") or 0),
        filename=fields["filename"],
        method=fields.get("method", "GET").upper(),
    )


class CaptureIndex:
    """Captures by (method, URL), oldest first, with the WARC files they live in."""

    def __init__(self, entries: list[IndexEntry], files: dict[str, Path]) -> None:
        self.files = files
        self._by_key: dict[tuple[str, str], list[IndexEntry]] = defaultdict(list)
        for entry in sorted(entries, key=lambda e: (e.timestamp, e.filename, e.offset)):
            self._by_key[(entry.method, entry.url)].append(entry)
        self._request_bodies: dict[tuple[str, int], bytes] = {}
        self._copies: tempfile.TemporaryDirectory[str] | None = None  # a WACZ's WARC entries
        # One descriptor per WARC file for the index's life: a record is one pread of the
        # length the index gives, where opening the file for each answer cost five syscalls,
        # each a moment for another thread to take the GIL from the crawl's.
        self._descriptors: dict[str, int] = {}

    @classmethod
    def build(cls, warc_files: list[Path]) -> CaptureIndex:
        """Load the CDXJ entries of *warc_files* (WARC, ARC or WACZ files).

        A file's own index in its archive (``indexes/<site>/…cdxj``) is used when it is
        current; other files are indexed into a temporary folder (cdxj-indexer, POST bodies
        appended), so sources are never written to. A WACZ's WARC entries are read from
        copies in a temporary folder that lives as long as the index, under the names
        ``link_into_archive`` gives them in the archive.
        """
        entries: list[IndexEntry] = []
        copies = tempfile.TemporaryDirectory(prefix="caseharvest-wacz-")
        files: dict[str, Path] = {}
        for path in warc_files:
            if zipfile.is_zipfile(path):
                for member in wacz_members(path):
                    copy = Path(copies.name) / wacz_member_name(path, member)
                    with (
                        zipfile.ZipFile(path) as wacz,
                        wacz.open(member) as inner,
                        copy.open("wb") as out,
                    ):
                        shutil.copyfileobj(inner, out)
                    files[copy.name] = copy
            else:
                files[path.name] = path
        with tempfile.TemporaryDirectory(prefix="caseharvest-index-") as folder:
            for number, path in enumerate(files.values()):
                output = current_index(path)
                if output is None:
                    # Imported only here: 0.17 s, for an archive whose files all have theirs.
                    from cdxj_indexer.main import CDXJIndexer

                    output = Path(folder) / f"{number}.cdxj"
                    CDXJIndexer(str(output), [str(path)], post_append=True).process_all()
                with output.open(encoding="utf-8") as lines:
                    entries.extend(e for line in lines if (e := parse_cdxj_line(line)))
        index = cls([e for e in entries if e.filename in files], files)
        index._copies = copies
        return index

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_key.values())

    def lookup(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        at: str | None = None,
        conditional: bool = False,
    ) -> IndexEntry | None:
        """The capture current at *at* (a 14-digit timestamp or a prefix; default: latest).

        A POST matches only a capture whose request carried the same body. A 304 answers
        only a conditional request; otherwise the capture it revalidated is current.
        """
        candidates = self._by_key.get((method.upper(), url), [])
        if at:
            limit = at.ljust(14, "9")
            candidates = [e for e in candidates if e.timestamp <= limit]
        for entry in reversed(candidates):
            if entry.status == 304 and not conditional:
                continue
            if method.upper() != "GET" and self.request_body(entry) != body:
                continue
            return entry
        return None

    def original_of(self, revisit: IndexEntry) -> IndexEntry | None:
        """The newest earlier non-revisit capture of the URL with the revisit's payload."""
        for entry in reversed(self._by_key.get((revisit.method, revisit.url), [])):
            if (
                not entry.is_revisit
                and entry.digest == revisit.digest
                and entry.timestamp <= revisit.timestamp
            ):
                return entry
        return None

    def request_body(self, entry: IndexEntry) -> bytes:
        """Body of the request record that follows *entry*'s response record."""
        key = (entry.filename, entry.offset)
        if key not in self._request_bodies:
            with self.files[entry.filename].open("rb") as stream:
                stream.seek(entry.offset + entry.length)
                record = next(iter(ArchiveIterator(stream)))
                self._request_bodies[key] = (
                    record.raw_stream.read() if record.rec_type == "request" else b""
                )
        return self._request_bodies[key]

    def _record_stream(self, entry: IndexEntry) -> BinaryIO:
        """A stream at the start of *entry*'s record: its bytes read with one pread when
        the index gives their length, else the WARC file opened and sought to it."""
        if entry.length <= 0:
            stream = self.files[entry.filename].open("rb")
            stream.seek(entry.offset)
            return stream
        descriptor = self._descriptors.get(entry.filename)
        if descriptor is None:
            descriptor = os.open(self.files[entry.filename], os.O_RDONLY)
            self._descriptors[entry.filename] = descriptor
        data = os.pread(descriptor, entry.length, entry.offset)
        if len(data) < entry.length:
            raise ValueError(
                f"{entry.filename} ends inside the record at offset {entry.offset}"
                f" ({len(data)} of {entry.length} bytes)"
            )
        return io.BytesIO(data)

    def close(self) -> None:
        """Close the WARC files the index read and remove its WACZ copies."""
        descriptors, self._descriptors = self._descriptors, {}
        for descriptor in descriptors.values():
            os.close(descriptor)
        if self._copies is not None:
            self._copies.cleanup()
            self._copies = None

    def read(self, entry: IndexEntry) -> ArchivedResponse:
        """The archived answer of *entry*, its body decoded; a revisit's body from its original.

        Bodies are decoded here (chunked framing, then content codings) and the headers lose
        ``Transfer-Encoding``/``Content-Encoding``: other tools store bodies still chunked
        (wget, Heritrix) or already decoded under a ``Content-Encoding`` header
        (scrapy-webarchive, browsers), which a crawler decoding by the headers would choke on.
        """
        response = self._read(entry)
        headers, body = decoded_answer(response.headers, response.body)
        return ArchivedResponse(
            entry=response.entry,
            status=response.status,
            headers=headers,
            body=body,
            record_id=response.record_id,
            warc_date=response.warc_date,
            payload_digest=response.payload_digest,
        )

    def _read(self, entry: IndexEntry) -> ArchivedResponse:
        with self._record_stream(entry) as stream:
            record = next(iter(ArchiveIterator(stream)))
            headers = [(name, value) for name, value in record.http_headers.headers]
            body = record.raw_stream.read()
            fields = record.rec_headers
            response = ArchivedResponse(
                entry=entry,
                status=int(record.http_headers.get_statuscode() or 0),
                headers=headers,
                body=body,
                record_id=fields.get_header("WARC-Record-ID"),
                warc_date=fields.get_header("WARC-Date"),
                payload_digest=fields.get_header("WARC-Payload-Digest") or "",
            )
        if entry.is_revisit and response.status != 304:
            original = self.original_of(entry)
            if original is not None:
                return ArchivedResponse(
                    entry=entry,
                    status=response.status,
                    headers=headers,
                    body=decoded_answer(*self._read_pair(original))[1],
                    record_id=response.record_id,
                    warc_date=response.warc_date,
                    payload_digest=response.payload_digest,
                )
        return response

    def _read_pair(self, entry: IndexEntry) -> tuple[list[tuple[str, str]], bytes]:
        response = self._read(entry)
        return response.headers, response.body


_CODING_HEADERS = ("transfer-encoding", "content-encoding", "content-length")


def decoded_answer(
    headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    """(headers, body) with the body's transfer and content codings undone, headers to match.

    Bytes that are not in their declared coding are kept as they are (see content_coding).
    """
    decoded = decode_http_body(body, headers)
    if not decoded.applied and not decoded.warnings:
        return headers, body
    kept = [(name, value) for name, value in headers if name.lower() not in _CODING_HEADERS]
    return [*kept, ("Content-Length", str(len(decoded.body)))], decoded.body
