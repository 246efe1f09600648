"""Cut any WARC or ARC file into records, with where each one lies, and stop at damage.

Containers: uncompressed files, gzip files with one member per record (what the WARC
standard recommends, and what everyone but a plain ``gzip file.warc`` writes), gzip files with
one member for many records, and the ``archive/`` members of a WACZ zip (stored or deflated).
Records: WARC/1.0 and 1.1 (``WARC/`` header block, ``Content-Length`` block) and ARC v1/v2
(one header line whose last field is the length), even mixed.

Each record comes with a :class:`RecordLocation` that :func:`read_record` can seek to later,
in another process if need be. Damage (a truncated gzip member, garbage after the last
record, a header that is not one) ends the walk with one :class:`Damage` item naming the file
and byte offset, after every whole record before it: no zlib or parser exception escapes.
"""

from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

_CHUNK = 1 << 18  # bytes read from disk at a time
_MAX_HEADER = 1 << 20  # a record header longer than this is damage, not a header still coming
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_NEWLINES = b"\r\n"

PLAIN = "plain"  # offset/length in the (uncompressed) file
GZIP_MEMBER = "gzip-member"  # offset/length of the gzip member holding just this record
GZIP_STREAM = "gzip-stream"  # offset/length in the decompressed stream of a whole-file gzip


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where one record lies, enough to read it again with :func:`read_record`.

    ``member`` names the WACZ entry (``archive/data.warc.gz``) whose bytes the offsets are in;
    it is None for a file on its own. With ``framing`` GZIP_STREAM the offsets are in the
    decompressed data (reading one record again means decompressing up to it: slow, but such
    files cannot be seeked into any other way).
    """

    path: str
    offset: int
    length: int
    framing: str = PLAIN
    member: str | None = None

    def describe(self) -> str:
        """``file`` or ``file!member``, for messages."""
        return f"{self.path}!{self.member}" if self.member else self.path


@dataclass(frozen=True, slots=True)
class Damage:
    """The file cannot be read past ``offset``: every whole record before it was yielded."""

    path: str
    offset: int
    reason: str
    member: str | None = None

    @property
    def message(self) -> str:
        """One line for a user: which file, which byte, why."""
        where = f"{self.path}!{self.member}" if self.member else self.path
        return f"{where}: damaged at byte {self.offset}: {self.reason}"


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record's header and block, undecoded; ``fields`` keys are lowercase.

    ``concurrent_to`` holds every ``WARC-Concurrent-To`` value (the field may repeat).
    An ARC record gets WARC-like fields (``warc-type: response``, ``warc-target-uri``,
    ``warc-date`` in ISO form, and a record id made from its file and offset).
    """

    location: RecordLocation
    version: str
    fields: dict[str, str]
    concurrent_to: tuple[str, ...]
    block: bytes


class _BadRecord(ValueError):
    """A record header that cannot be one."""


_Header = tuple[str, dict[str, str], tuple[str, ...]]  # version, fields, concurrent-to values


class _Cut(NamedTuple):
    """A record the splitter finished: stream span, and whether its gzip member ended it."""

    start: int
    end: int
    by_member: bool
    header: _Header
    block: bytes


class _Splitter:
    """Cuts a decompressed byte stream into records as data arrives.

    A record is handed out once the next record starts (or its gzip member / the file ends),
    as only then is its end known: blank lines after a block belong to the record before.
    """

    def __init__(self, path: str, member: str | None) -> None:
        self.path, self.member = path, member
        self.buf = bytearray()
        self.pos = 0  # stream offset of buf[0]
        self.need = 0  # bytes the record at buf[0] needs, once its header is parsed
        self.header: tuple[_Header, int] | None = None  # parsed header, its length
        # (stream start, header, block) of the record whose block is complete
        self.done: tuple[int, _Header, bytes] | None = None
        self.member_start = 0
        self.records_in_member = 0
        self.member_per_record = True  # so far, every gzip member held exactly one record
        self.members_closed = 0

    def feed(self, data: bytes) -> Iterator[_Cut]:
        """Records finished by *data*."""
        self.buf += data
        yield from self._cut()

    def _cut(self) -> Iterator[_Cut]:
        buf = self.buf
        while True:
            if self.header is None:
                # Blank lines between records belong to the record before.
                skip = len(buf) - len(buf.lstrip(_NEWLINES))
                if skip:
                    del buf[:skip]
                    self.pos += skip
                if not buf:
                    return
                if self.done is not None:
                    yield self._finish(by_member=False)
                self.header = self._parse_header()
                if self.header is None:
                    return
                self.records_in_member += 1
            header, header_length = self.header
            if len(buf) < self.need:
                return
            self.done = (self.pos, header, bytes(buf[header_length : self.need]))
            del buf[: self.need]
            self.pos += self.need
            self.header = None
            self.need = 0

    def _finish(self, *, by_member: bool) -> _Cut:
        assert self.done is not None
        start, header, block = self.done
        self.done = None
        return _Cut(start, self.pos, by_member, header, block)

    def _parse_header(self) -> tuple[_Header, int] | None:
        buf = self.buf
        if buf.startswith(b"WARC/"):
            end = buf.find(b"\r\n\r\n")
            skip = 4
            if end < 0:
                end = buf.find(b"\n\n")
                skip = 2
            if end < 0:
                if len(buf) > _MAX_HEADER:
                    raise _BadRecord("WARC header block without an end")
                return None
            header = _warc_fields(bytes(buf[:end]))
            declared = header[1].get("content-length", "")
            if not declared.isdigit():
                raise _BadRecord("WARC record without a valid Content-Length")
            self.need = end + skip + int(declared)
            return header, end + skip
        end = buf.find(b"\n")
        if end < 0:
            if len(buf) > _MAX_HEADER:
                raise _BadRecord("not a WARC or ARC record")
            return None
        fields = _arc_fields(bytes(buf[:end]), self.path, self.member, self.pos)
        self.need = end + 1 + int(fields["content-length"])
        return ("ARC", fields, ()), end + 1

    def member_started(self) -> None:
        """A gzip member begins at the current stream position."""
        self.member_start = self.pos + len(self.buf)
        self.records_in_member = 0

    def member_ended(self) -> Iterator[_Cut]:
        """A gzip member ended: its record, if it held exactly one, is located by the member."""
        if self.header is not None or self.buf.strip(_NEWLINES):
            # A record runs on into the next member. Fine in a whole-file gzip cut into
            # blocks; in a file of one record per member it is a record cut short.
            if self.member_per_record and self.members_closed:
                raise _BadRecord("record shorter than its Content-Length")
            self.member_per_record = False
            return
        self.pos += len(self.buf)
        self.buf.clear()
        if self.done is not None:
            only_one = self.records_in_member == 1 and self.done[0] == self.member_start
            self.member_per_record &= only_one
            self.members_closed += 1
            yield self._finish(by_member=only_one)

    def close(self) -> Iterator[_Cut]:
        """The stream ended: hand out the last record, or complain about a partial one."""
        if self.header is not None or self.buf.strip(_NEWLINES):
            raise _BadRecord("file ends inside a record")
        if self.done is not None:
            yield self._finish(by_member=False)


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _warc_fields(head: bytes) -> _Header:
    lines = _decode(head).split("\n")
    version = lines[0].strip()
    if not version.startswith("WARC/"):
        raise _BadRecord("not a WARC record")
    fields: dict[str, str] = {}
    concurrent: list[str] = []
    name = ""
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()  # an old-style folded line
            continue
        key, colon, value = line.partition(":")
        if not colon:
            continue
        name = key.strip().lower()
        value = value.strip()
        if name == "warc-concurrent-to":
            concurrent.append(value)
        fields[name] = value
    return version, fields, tuple(concurrent)


def _arc_fields(line: bytes, path: str, member: str | None, offset: int) -> dict[str, str]:
    """ARC v1 (``URL IP DATE MIME LENGTH``) and v2 (ten fields, length last) header lines."""
    parts = line.decode("latin-1").split()
    if len(parts) < 5 or not parts[-1].isdigit() or not parts[2].isdigit():
        raise _BadRecord("not a WARC or ARC record")
    url, ip, date = parts[0], parts[1], parts[2]
    # The first record, filedesc://, is the ARC file's version block.
    kind = "warcinfo" if url.startswith("filedesc:") else "response"
    stamp = date.ljust(14, "0")[:14]
    iso = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}Z"
    where = f"{path}!{member}" if member else path
    return {
        "warc-type": kind,
        "warc-target-uri": url,
        "warc-date": iso,
        "warc-ip-address": ip,
        "warc-record-id": f"<urn:arc:{where}:{offset}>",
        "content-type": parts[3],
        "content-length": parts[-1],
    }


# --- containers ------------------------------------------------------------------------------


def iter_raw_records(path: Path | str) -> Generator[RawRecord | Damage, None, None]:
    """Every record of a WARC, ARC or WACZ file in order, then a Damage if the file is damaged.

    A WACZ is read entry by entry (``archive/*``, by name) straight from the zip, nothing
    extracted to disk.
    """
    name = str(path)
    try:
        with open(path, "rb") as stream:
            first = stream.read(4)
            stream.seek(0)
            if first == _ZIP_MAGIC:
                yield from _zip_records(name, stream)
            else:
                yield from _stream_records(name, None, stream.read)
    except OSError as exc:
        yield Damage(name, 0, f"cannot be read ({exc.strerror or exc})")


def _zip_records(path: str, stream: BinaryIO) -> Iterator[RawRecord | Damage]:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as exc:
        yield Damage(path, 0, f"not a readable zip ({exc})")
        return
    with archive:
        for info in sorted(wacz_archive_members(archive), key=lambda item: item.filename):
            try:
                with archive.open(info) as member:
                    for item in _stream_records(path, info.filename, member.read):
                        yield item
                        if isinstance(item, Damage):
                            return
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                yield Damage(path, info.header_offset, f"zip entry unreadable ({exc})", None)
                return


def wacz_archive_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The WARC/ARC entries of a WACZ (``archive/``; any folder if there is no such one)."""
    suffixes = (".warc", ".warc.gz", ".arc", ".arc.gz")
    found = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.lower().endswith(suffixes)
    ]
    inside = [info for info in found if info.filename.startswith("archive/")]
    return inside or found


def _stream_records(
    path: str, member: str | None, read: Callable[[int], bytes]
) -> Iterator[RawRecord | Damage]:
    splitter = _Splitter(path, member)
    head = read(_CHUNK)
    gzipped = head.startswith(_GZIP_MAGIC)
    if not gzipped:
        yield from _plain(path, member, splitter, head, read)
        return
    yield from _gzipped(path, member, splitter, head, read)


def _span(path: str, cut: _Cut, framing: str, member: str | None) -> RecordLocation:
    return RecordLocation(path, cut.start, cut.end - cut.start, framing, member)


def _make(location: RecordLocation, cut: _Cut) -> RawRecord:
    version, fields, concurrent = cut.header
    return RawRecord(location, version, fields, concurrent, cut.block)


def _plain(
    path: str,
    member: str | None,
    splitter: _Splitter,
    head: bytes,
    read: Callable[[int], bytes],
) -> Iterator[RawRecord | Damage]:
    data = head
    try:
        while data:
            for cut in splitter.feed(data):
                yield _make(_span(path, cut, PLAIN, member), cut)
            data = read(_CHUNK)
        for cut in splitter.close():
            yield _make(_span(path, cut, PLAIN, member), cut)
    except _BadRecord as exc:
        yield Damage(path, splitter.pos, str(exc), member)


def _gzipped(
    path: str,
    member: str | None,
    splitter: _Splitter,
    head: bytes,
    read: Callable[[int], bytes],
) -> Iterator[RawRecord | Damage]:
    offset = 0  # compressed offset of the next member
    pending = head

    def located(found: Iterator[_Cut], at: int, size: int) -> Iterator[RawRecord]:
        for cut in found:
            if cut.by_member:
                where = RecordLocation(path, at, size, GZIP_MEMBER, member)
            else:
                where = _span(path, cut, GZIP_STREAM, member)
            yield _make(where, cut)

    member_start = 0
    try:
        while True:
            if not pending:
                pending = read(_CHUNK)
                if not pending:
                    break
            member_start = offset
            decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
            splitter.member_started()
            while not decompressor.eof:
                if not pending:
                    pending = read(_CHUNK)
                    if not pending:
                        yield Damage(path, member_start, "file ends inside a gzip member", member)
                        return
                try:
                    out = decompressor.decompress(pending)
                except zlib.error as exc:
                    reason = "not gzip data" if offset == member_start else "corrupt gzip data"
                    yield Damage(path, member_start, f"{reason} ({exc})", member)
                    return
                offset += len(pending) - len(decompressor.unused_data)
                pending = decompressor.unused_data
                yield from located(splitter.feed(out), member_start, 0)
            yield from located(splitter.member_ended(), member_start, offset - member_start)
        yield from located(splitter.close(), member_start, offset - member_start)
    except _BadRecord as exc:
        yield Damage(path, member_start, _stream_reason(str(exc), splitter), member)


def _stream_reason(reason: str, splitter: _Splitter) -> str:
    if splitter.member_per_record:
        return reason
    # In a whole-file gzip only the decompressed offset says where the damage is.
    return f"{reason} (at byte {splitter.pos} of the decompressed data)"


# --- reading one record again ------------------------------------------------------------------


def read_record(location: RecordLocation) -> RawRecord:
    """The record at *location* (from an earlier walk), read by seeking where possible.

    Raises ValueError when the bytes there are not one whole record (the file changed).
    """
    with open(location.path, "rb") as stream:
        if location.member is None:
            data = _read_at(stream, location)
        else:
            with zipfile.ZipFile(stream) as archive:
                info = archive.getinfo(location.member)
                if info.compress_type == zipfile.ZIP_STORED and location.framing != GZIP_STREAM:
                    stream.seek(_stored_data_offset(stream, info))
                    data = _read_at(_Window(stream, stream.tell()), location)
                else:
                    with archive.open(info) as inner:
                        data = _read_at(inner, location)  # type: ignore[arg-type]
    splitter = _Splitter(location.path, location.member)
    splitter.pos = location.offset
    try:
        found = [*splitter.feed(data), *splitter.close()]
    except _BadRecord as exc:
        raise ValueError(f"{location.describe()} at {location.offset}: {exc}") from None
    if len(found) != 1:
        raise ValueError(f"{location.describe()} at {location.offset}: not one whole record")
    return _make(location, found[0])


class _Window:
    """A file seen from a base offset on (a stored zip entry inside the WACZ)."""

    def __init__(self, stream: BinaryIO, base: int) -> None:
        self.stream, self.base = stream, base

    def seek(self, offset: int) -> None:
        self.stream.seek(self.base + offset)

    def read(self, size: int) -> bytes:
        return self.stream.read(size)


def _stored_data_offset(stream: BinaryIO, info: zipfile.ZipInfo) -> int:
    # The local header repeats name and extra field, with lengths that may differ from the
    # central directory's: read them there.
    stream.seek(info.header_offset)
    local = stream.read(30)
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_length + extra_length


def _read_at(stream: BinaryIO | _Window, location: RecordLocation) -> bytes:
    if location.framing == GZIP_STREAM:
        with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
            unzipped.seek(location.offset)
            return unzipped.read(location.length)
    stream.seek(location.offset)
    data = stream.read(location.length)
    if location.framing == GZIP_MEMBER:
        try:
            return zlib.decompress(data, zlib.MAX_WBITS | 16)
        except zlib.error as exc:
            raise ValueError(f"{location.describe()} at {location.offset}: {exc}") from None
    return data
