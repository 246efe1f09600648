"""Find the web archive files among sources, whatever tool wrote them and however named."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from caseharvest.capture.record_framing import Damage, iter_raw_records

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz")


class SourceError(ValueError):
    """A source names nothing readable; the message says which."""


def is_archive_name(path: Path) -> bool:
    """Whether a file name ends like a WARC, ARC or WACZ file (case-insensitive)."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def find_archive_files(sources: Iterable[Path | str]) -> list[Path]:
    """The archive files of *sources*: files as given, folders searched recursively.

    Folders contribute ``.warc``, ``.warc.gz``, ``.arc``, ``.arc.gz`` and ``.wacz`` files
    (an ``.open`` file still being written is not one); a file named directly is read
    whatever its name. Order: by the date of each file's first record (read from its first
    record only), files whose first record has no date after the others; ties by path.
    Raises SourceError for a source that does not exist or when nothing is found.
    """
    found: dict[Path, None] = {}
    for source in map(Path, sources):
        if source.is_dir():
            files = (path for path in sorted(source.rglob("*")) if is_archive_name(path))
            found.update(dict.fromkeys(path for path in files if path.is_file()))
        elif source.is_file():
            found[source] = None
        else:
            raise SourceError(f"{source}: no such file or folder")
    if not found:
        raise SourceError("no WARC, ARC or WACZ files in the given sources")
    unique = {path.resolve(): path for path in found}
    dated = [(first_record_date(path), str(path), path) for path in unique.values()]
    # Undated files go last; "~" sorts after every ISO date.
    return [path for _, _, path in sorted(dated, key=lambda item: (item[0] or "~", item[1]))]


def first_record_date(path: Path) -> str | None:
    """``WARC-Date`` (ISO) of the file's first record, or None when it cannot be had cheaply.

    Reads one record: for a whole-file gzip or a deflated WACZ entry that is still only the
    start of the file.
    """
    records = iter_raw_records(path)
    try:
        first = next(records, None)
    finally:
        records.close()
    if first is None or isinstance(first, Damage):
        return None
    return _normal_date(first.fields.get("warc-date", "")) or None


def _normal_date(value: str) -> str:
    # "2024-01-02T03:04:05Z" and "2024-01-02T03:04:05.123456Z" compare right as text once the
    # zone letter is dropped.
    return value.strip().rstrip("Z")
