"""CDXJ indexes of an archive's WARC files: one per file, a merged one, a replay view of it.

``indexes/<site>/<warc name>.cdxj`` is written when a WARC file is closed (and for any file
that lacks one); ``indexes/<site>.cdxj`` and ``indexes/index.cdxj`` (every site) are sorted
merges of those, rebuilt when one of their inputs changed. Lines name their WARC file by its
bare name, which the site prefix keeps unique across the archive.
"""

from __future__ import annotations

import heapq
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from caseharvest.archive.atomic_files import replaced_on_success
from caseharvest.archive.layout import INDEX_DIR, WARC_DIR
from caseharvest.capture import warcio_brotli

logger = logging.getLogger(__name__)
warcio_brotli.install()  # cdxj-indexer digests br bodies through warcio

WARC_SUFFIX = ".warc.gz"
# Files other tools wrote keep their format in the archive (`replay` links them in unchanged).
ARCHIVE_FILE_SUFFIXES = (WARC_SUFFIX, ".warc", ".arc.gz", ".arc")
INDEX_SUFFIX = ".cdxj"
ALL_SITES_INDEX = "index.cdxj"
# Beside each merged index: the per-file indexes it was built from (name, size, mtime).
SOURCES_SUFFIX = ".sources.json"
REVISIT_MIME = "warc/revisit"
# Lines sorted in memory before cdxj-indexer spills to temporary files: its 32 MB default
# made indexing a 1 GB WARC file the peak of a crawl's memory.
SORT_BUFFER_BYTES = 4 * 1024 * 1024
# What a 304 revisit's line takes from the capture it revalidated.
_LOCATION_FIELDS = ("mime", "status", "digest", "length", "offset", "filename")


def index_path_for(warc: Path) -> Path:
    """Where the CDXJ index of ``<archive>/warc/<site>/<name>.warc.gz`` lives."""
    site_dir = warc.parent
    if site_dir.parent.name != WARC_DIR:
        raise ValueError(f"{warc} is not in an archive's {WARC_DIR}/<site>/ folder")
    return site_dir.parent.parent / INDEX_DIR / site_dir.name / (warc.name + INDEX_SUFFIX)


def index_warc_file(warc: Path) -> Path:
    """Write the sorted CDXJ index of one closed WARC file, atomically; returns its path.

    POST requests are indexed with their bodies appended to the URL key (``--post-append``),
    as replay tools look them up; this relies on each request record following its response
    and naming it in WARC-Concurrent-To.
    """
    # Imported here: cdxj-indexer brings requests and tldextract (0.3 s), which a command
    # that indexes nothing (or indexes in an indexer process) need not load.
    from cdxj_indexer.main import CDXJIndexer

    target = index_path_for(warc)
    target.parent.mkdir(parents=True, exist_ok=True)
    with replaced_on_success(target, sync=True) as temporary:
        CDXJIndexer(
            str(temporary),
            [str(warc)],
            post_append=True,
            sort=True,
            max_sort_buff_size=SORT_BUFFER_BYTES,
        ).process_all()
    logger.info("indexed %s into %s", warc.name, target)
    return target


def _site_dirs(archive: Path, site: str | None) -> list[Path]:
    warc_root = archive / WARC_DIR
    if site is not None:
        return [warc_root / site]
    return sorted(path for path in warc_root.glob("*") if path.is_dir())


def warc_files(archive: Path, site: str | None = None) -> list[Path]:
    """The closed WARC (and ARC) files of one site (or of every site), in name order."""
    return [
        path
        for site_dir in _site_dirs(archive, site)
        for path in sorted(site_dir.glob("*"))
        if path.name.lower().endswith(ARCHIVE_FILE_SUFFIXES) and not path.name.startswith(".")
    ]


def current_index(warc: Path) -> Path | None:
    """The index of *warc* in its archive when it exists and is not older than the file."""
    try:
        index = index_path_for(warc)
    except ValueError:
        return None  # not inside an archive's warc/<site>/ folder
    return index if _is_current(index, warc) else None


def _is_current(index: Path, warc: Path) -> bool:
    try:
        return index.stat().st_mtime_ns >= warc.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def ensure_indexes(archive: Path, site: str | None = None) -> list[Path]:
    """Index every closed WARC file that has no index, or an older one; returns all indexes.

    Archives written before indexing existed, and files recovered after a crash, get theirs
    here.
    """
    indexes = []
    for warc in warc_files(archive, site):
        index = index_path_for(warc)
        if not _is_current(index, warc):
            try:
                index_warc_file(warc)
            except Exception as exc:  # cdxj-indexer's errors are of its own many kinds
                # Another tool's file cdxj-indexer cannot read (a whole-file gzip): replay
                # read it, replay tools cannot; the other files are served all the same.
                logger.warning("%s cannot be indexed: %s", warc.name, str(exc).strip())
                continue
        indexes.append(index)
    return indexes


def merged_index_path(archive: Path, site: str | None = None) -> Path:
    """``indexes/<site>.cdxj``, or ``indexes/index.cdxj`` for every site."""
    name = f"{site}{INDEX_SUFFIX}" if site is not None else ALL_SITES_INDEX
    return archive / INDEX_DIR / name


def _sources(indexes: Iterable[Path], root: Path) -> list[list[Any]]:
    found = []
    for index in indexes:
        stat = index.stat()
        found.append([index.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns])
    return found


def merged_index(archive: Path, site: str | None = None) -> Path:
    """The sorted merge of the per-file indexes of *site* (every site when None).

    Missing per-file indexes are written first; the merge is rebuilt only when the set of
    per-file indexes, or one of them, changed since it was written. It streams: one line per
    input in memory at a time.
    """
    indexes = ensure_indexes(archive, site)
    target = merged_index_path(archive, site)
    sources_file = target.with_name(target.name + SOURCES_SUFFIX)
    sources = _sources(indexes, archive / INDEX_DIR)
    if target.exists() and _recorded_sources(sources_file) == sources:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        inputs = [stack.enter_context(path.open(encoding="utf-8")) for path in indexes]
        _write_lines_atomically(target, heapq.merge(*inputs))
    _write_lines_atomically(sources_file, [json.dumps(sources) + "\n"])
    logger.info("merged %d WARC indexes into %s", len(indexes), target)
    return target


def _recorded_sources(path: Path) -> list[list[Any]] | None:
    try:
        recorded: list[list[Any]] = json.loads(path.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return recorded


def _write_lines_atomically(path: Path, lines: Iterable[str]) -> None:
    with (
        replaced_on_success(path, sync=True) as temporary,
        temporary.open("w", encoding="utf-8", newline="") as out,
    ):
        out.writelines(lines)


def _url_groups(lines: Iterable[str]) -> Iterator[list[str]]:
    """Consecutive lines of a sorted CDXJ stream that share a URL key."""
    group: list[str] = []
    key = None
    for line in lines:
        if not line.strip() or line.startswith("!"):
            continue
        line_key = line.split(" ", 1)[0]
        if line_key != key and group:
            yield group
            group = []
        key = line_key
        group.append(line)
    if group:
        yield group


def replay_lines(lines: Iterable[str]) -> Iterator[str]:
    """A sorted CDXJ stream made unambiguous for replay tools.

    - A server-not-modified revisit holds the 304 answer only; replay tools serve it as an
      empty 304, so a case revalidated with a 304 would show nothing at that date. Its line
      keeps its URL key and timestamp but takes the location, status and type of the newest
      earlier 200 response of the same URL with the same payload digest (the digest the
      revisit carries), else of the newest earlier 200 response.
    - A 5xx answer that a retry within the same second got past is left out: index timestamps
      have one-second precision, and replay tools pick one line per URL and second.

    Other lines pass through unchanged; the per-file and merged indexes keep every capture.
    """
    for group in _url_groups(lines):
        yield from _without_superseded_failures(_resolve_not_modified(group))


def _resolve_not_modified(group: list[str]) -> list[tuple[str, str]]:
    """(status, line) of one URL's lines, 304 revisits resolved to their original."""
    by_digest: dict[str, dict[str, Any]] = {}
    latest: dict[str, Any] | None = None
    resolved_group = []
    for line in group:
        prefix, _, body = line.partition(" {")
        fields: dict[str, Any] = json.loads("{" + body)
        status = str(fields.get("status", ""))
        if fields.get("mime") != REVISIT_MIME and status == "200":
            latest = fields
            if fields.get("digest"):
                by_digest[fields["digest"]] = fields
        elif fields.get("mime") == REVISIT_MIME and status == "304":
            original = by_digest.get(fields.get("digest", ""), latest)
            if original is None:
                logger.warning("no earlier 200 capture for the 304 revisit %s", prefix)
            else:
                resolved = dict(fields)
                resolved.update((key, original[key]) for key in _LOCATION_FIELDS if key in original)
                line = f"{prefix} {json.dumps(resolved)}\n"
                status = str(resolved.get("status", ""))
        resolved_group.append((status, line))
    return resolved_group


def _without_superseded_failures(group: list[tuple[str, str]]) -> Iterator[str]:
    by_second: dict[str, list[tuple[str, str]]] = {}
    for status, line in group:
        by_second.setdefault(line.split(" ", 2)[1], []).append((status, line))
    for captures in by_second.values():  # insertion order: still sorted by timestamp
        succeeded = any(not status.startswith("5") for status, _ in captures)
        for status, line in captures:
            if not (succeeded and status.startswith("5")):
                yield line


def write_replay_index(merged: Path, target: Path) -> Path:
    """Write :func:`replay_lines` of the merged index *merged* to *target*, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with merged.open(encoding="utf-8") as lines:
        _write_lines_atomically(target, replay_lines(lines))
    return target
