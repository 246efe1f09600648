"""Archive files from elsewhere, made part of an archive: found in sources, linked (or copied) in.

`replay` and `fetch --from-warc` read files the user names, whoever wrote them (caseharvest,
wget, Heritrix, warcio, a WACZ …); the archive must hold them too, so that `serve`,
`export --wacz` and `verify` see what the catalog points at.

Files go into ``warc/<site>/`` unchanged (hard links, else copies), under their own name when
it is free in the archive; a name taken by other bytes gets a number (``crawl.2.warc.gz``).
A WACZ is a zip: pywb, cdxj-indexer, `export --wacz` and `fetch --from-warc` all read WARC
files by path and offset, which a deflated zip entry has not. So each WARC/ARC entry of a WACZ
(``archive/*.warc.gz``) is written out byte for byte as a file of its own,
``<wacz stem>-<entry name>``: the records, their digests and their offsets inside the entry are
the same as in the WACZ; the zip wrapper (pages, its own index, datapackage) is not kept.
"""

from __future__ import annotations

import filecmp
import gzip
import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.warc_index import ARCHIVE_FILE_SUFFIXES, current_index, index_path_for
from caseharvest.capture.archive_sources import SourceError, find_archive_files
from caseharvest.capture.record_framing import (
    GZIP_STREAM,
    Damage,
    RecordLocation,
    iter_raw_records,
)
from caseharvest.capture.warc_writer import warc_file_pattern

__all__ = [
    "ArchivePlacement",
    "SourceError",
    "archive_record_id",
    "find_warc_files",
    "is_caseharvest_file",
    "link_into_archive",
    "read_foreign_file",
    "refuse_archive_holding",
]

_COPY_CHUNK = 1 << 20


def find_warc_files(sources: list[Path]) -> list[Path]:
    """Archive files named by *sources* (files, or folders searched recursively), in time order.

    Any ``.warc``, ``.warc.gz``, ``.arc``, ``.arc.gz`` or ``.wacz`` file, whoever wrote it
    and whatever its name; ordered by the date of each file's first record.
    """
    return find_archive_files(sources)


def refuse_archive_holding(files: list[Path], archive: Path) -> None:
    """Raise when the *archive* folder holds one of *files*: it would read what it writes."""
    target = archive.resolve()
    for path in files:
        if target == path.resolve() or target in path.resolve().parents:
            raise SourceError(
                f"--archive {archive} holds the source {path}: use another --archive folder"
            )


def link_into_archive(files: list[Path], archive: Path, site: str) -> None:
    """Make *files* part of *archive* (``warc/<site>/``) under their own names.

    For `fetch --from-warc`, whose capture index names source files by their bare names. A
    file's current CDXJ index comes along, so it is not indexed again; a WACZ's WARC entries
    are written out as files of their own (see the module docstring).
    """
    refuse_archive_holding(files, archive)
    folder = ArchiveLayout(archive).warc_dir(site)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        if zipfile.is_zipfile(path):
            for member in wacz_members(path):
                target = folder / wacz_member_name(path, member)
                if not target.exists():
                    _extract_member(path, member, target)
            continue
        linked = folder / path.name
        index = current_index(path)
        _link_or_copy(path, linked)
        if index is not None:
            target = index_path_for(linked)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(index, target)


def wacz_members(path: Path) -> list[str]:
    """Names of the WARC/ARC entries of the WACZ at *path*."""
    from caseharvest.capture.record_framing import wacz_archive_members

    with zipfile.ZipFile(path) as archive:
        return [info.filename for info in wacz_archive_members(archive)]


def wacz_member_name(wacz: Path, member: str) -> str:
    """The file name a WACZ's WARC entry gets in an archive: ``<wacz stem>-<entry name>``."""
    stem = wacz.name[: -len(".wacz")] if wacz.name.lower().endswith(".wacz") else wacz.stem
    return f"{stem}-{PurePosixPath(member).name}"


def is_caseharvest_file(path: Path) -> bool:
    """True for a WARC file caseharvest wrote in ``warc/<site>/`` (named as it names them)."""
    return bool(warc_file_pattern(path.parent.name).match(path.name))


def archive_record_id(record_id: str, archive_name: str, location: RecordLocation) -> str:
    """The record id a capture is registered under in the archive.

    WARC records carry their own. ARC records have none: the reader makes one from the file
    it read and the offset; in the archive that file is the archive's copy, named here, so the
    id stays the same whichever source path the file was replayed from.
    """
    if record_id.startswith("<urn:arc:"):
        return f"<urn:arc:{archive_name}:{location.offset}>"
    return record_id


def read_foreign_file(path: Path) -> tuple[list[str], dict[int, str]]:
    """(problems, {offset: record id}) of a WARC/ARC file another tool wrote, for `verify`.

    Only readability is checked (every record whole, up to the end): caseharvest's own
    conformance rules (WARC/1.1, request after response, IP address …) are not other tools'.
    """
    offsets: dict[int, str] = {}
    problems: list[str] = []
    for item in iter_raw_records(path):
        if isinstance(item, Damage):
            problems.append(f"{path.name}: damaged at byte {item.offset}: {item.reason}")
            break
        record_id = item.fields.get("warc-record-id", "")
        offsets[item.location.offset] = archive_record_id(record_id, path.name, item.location)
    return problems, offsets


class ArchivePlacement:
    """Puts source files into an archive's ``warc/<site>/`` folders as a replay meets them.

    Each source file (or WACZ entry) is placed once, into the folder of the first site whose
    capture it holds; :meth:`place` returns the bare name the catalog and indexes use.
    """

    def __init__(self, archive: Path) -> None:
        self.layout = ArchiveLayout(archive)
        self.placed: dict[tuple[str, str | None], Path] = {}
        self.by_site: dict[str, list[str]] = {}
        # Whole-file gzip: end of the last record seen, in the decompressed data.
        self.stream_end: dict[tuple[str, str | None], int] = {}

    def place(self, location: RecordLocation, site: str) -> str:
        """The archive's name for the file holding *location*, placing it on first sight."""
        key = (location.path, location.member)
        found = self.placed.get(key)
        if found is None:
            found = self._place(Path(location.path), location.member, site)
            self.placed[key] = found
            self.by_site.setdefault(found.parent.name, []).append(found.name)
        if location.framing == GZIP_STREAM:
            end = location.offset + location.length
            self.stream_end[key] = max(self.stream_end.get(key, 0), end)
        return found.name

    def _place(self, source: Path, member: str | None, site: str) -> Path:
        folder = self.layout.warc_dir(site)
        folder.mkdir(parents=True, exist_ok=True)
        wanted = wacz_member_name(source, member) if member else source.name
        for name in _candidate_names(wanted):
            holder = self._holder(name)
            if holder is None:
                target = folder / name
                if member:
                    _extract_member(source, member, target)
                else:
                    _link_or_copy(source, target)
                    _bring_index(source, target)
                return target
            if _same_bytes(source, member, holder):
                return holder
            if _is_prefix_of(holder, source, member):
                # An earlier replay kept only the whole records of this file while it was
                # damaged: the complete file holds the same bytes first, so it replaces it.
                _replace(source, member, holder)
                return holder
        raise AssertionError("unreachable: candidate names are endless")

    def _holder(self, name: str) -> Path | None:
        # Indexes name files by bare name: a name must be unique across every site's folder.
        for path in sorted(self.layout.warc_root.glob(f"*/{name}")):
            return path
        return None

    def keep_whole_records(self, damage: Damage) -> str | None:
        """After damage in a placed file: keep only its whole records in the archive.

        The archive's copy is cut before the damaged bytes (a new file; the source is never
        written to), so every capture registered from it points at whole records and `verify`
        finds the file sound. A damaged whole-file gzip cannot be cut in its compressed form:
        its whole records are compressed again as one gzip stream, in which their offsets are
        what they were. Returns the name of the file kept, or None when it was never placed.
        """
        key = (damage.path, damage.member)
        target = self.placed.get(key)
        if target is None:
            return None
        if key in self.stream_end:
            _write_atomically(target, _gzipped(_decompressed_prefix(target, self.stream_end[key])))
            return target.name
        _write_atomically(target, _prefix(target, damage.offset))
        return target.name


def _candidate_names(name: str) -> Iterable[str]:
    yield name
    lowered = name.lower()
    suffix = next((s for s in ARCHIVE_FILE_SUFFIXES if lowered.endswith(s)), "")
    stem = name[: len(name) - len(suffix)]
    number = 2
    while True:
        yield f"{stem}.{number}{suffix}"
        number += 1


def _open_source(source: Path, member: str | None) -> Iterable[bytes]:
    if member is None:
        with source.open("rb") as stream:
            while chunk := stream.read(_COPY_CHUNK):
                yield chunk
        return
    with zipfile.ZipFile(source) as archive, archive.open(member) as inner:
        while chunk := inner.read(_COPY_CHUNK):
            yield chunk


def _same_bytes(source: Path, member: str | None, held: Path) -> bool:
    if member is None:
        try:
            if os.path.samefile(source, held):
                return True
        except OSError:
            return False
        return source.stat().st_size == held.stat().st_size and filecmp.cmp(
            source, held, shallow=False
        )
    with zipfile.ZipFile(source) as archive:
        if archive.getinfo(member).file_size != held.stat().st_size:
            return False
    return _starts_with(_open_source(source, member), held, held.stat().st_size)


def _is_prefix_of(held: Path, source: Path, member: str | None) -> bool:
    size = held.stat().st_size
    if member is None:
        whole = source.stat().st_size
    else:
        with zipfile.ZipFile(source) as archive:
            whole = archive.getinfo(member).file_size
    return size < whole and _starts_with(_open_source(source, member), held, size)


def _starts_with(chunks: Iterable[bytes], held: Path, size: int) -> bool:
    """True when the first *size* bytes of *chunks* are the bytes of *held*."""
    with held.open("rb") as theirs:
        remaining = size
        for chunk in chunks:
            part = chunk[:remaining]
            if theirs.read(len(part)) != part:
                return False
            remaining -= len(part)
            if remaining == 0:
                return True
    return remaining == 0


def _replace(source: Path, member: str | None, target: Path) -> None:
    if member is not None:
        _extract_member(source, member, target, replace=True)
        return
    temporary = target.with_name(f".{target.name}.linking")
    temporary.unlink(missing_ok=True)
    _link_or_copy(source, temporary)
    os.replace(temporary, target)


def _extract_member(source: Path, member: str, target: Path, *, replace: bool = False) -> None:
    if target.exists() and not replace:
        return
    _write_atomically(target, _open_source(source, member))


def _prefix(path: Path, length: int) -> Iterable[bytes]:
    with path.open("rb") as stream:
        remaining = length
        while remaining and (chunk := stream.read(min(_COPY_CHUNK, remaining))):
            remaining -= len(chunk)
            yield chunk


def _decompressed_prefix(path: Path, length: int) -> Iterable[bytes]:
    """The first *length* decompressed bytes of the whole-file gzip at *path*."""
    remaining = length
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
        while remaining:
            try:
                chunk = stream.read(min(_COPY_CHUNK, remaining))
            except (OSError, EOFError, zlib.error):
                return
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    for chunk in chunks:
        yield compressor.compress(chunk)
    yield compressor.flush()


def _write_atomically(target: Path, chunks: Iterable[bytes]) -> None:
    """Write a new file from *chunks* and rename it over *target* (never writing through a
    hard link into a source file)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _bring_index(source: Path, target: Path) -> None:
    """A source file's current CDXJ index comes along (a file of another archive): its lines
    name the file by its bare name, which it keeps."""
    index = current_index(source)
    if index is not None and source.name == target.name:
        linked = index_path_for(target)
        linked.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(index, linked)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # same bytes, no second copy on disk
    except OSError:
        shutil.copy2(source, target)
