"""`caseharvest export --wacz`: the archive as one WACZ 1.1.1 package.

The ZIP holds the WARC files as they are (``archive/``, stored, not recompressed, so replay
tools can read records by offset), the replay CDXJ index (``indexes/index.cdxj``, 304 revisits
pointing at the capture they revalidated), ``pages/pages.jsonl`` with one entry per archived
case, and ``datapackage.json`` / ``datapackage-digest.json`` with every file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from caseharvest import __version__
from caseharvest.archive.atomic_files import replaced_on_success
from caseharvest.archive.upgrade import open_catalog
from caseharvest.archive.warc_index import merged_index, replay_lines, warc_files
from caseharvest.model import CaseStatus

WACZ_VERSION = "1.1.1"
PAGES_PATH = "pages/pages.jsonl"
INDEX_PATH = "indexes/index.cdxj"
COPY_CHUNK = 1 << 20
# Past this, a ZIP member needs ZIP64 fields; zipfile must know before it writes the header.
ZIP64_THRESHOLD = 1 << 30


class NothingToExportError(ValueError):
    """The archive (or the chosen site) holds no closed WARC file."""


@dataclass(frozen=True)
class WaczSummary:
    """What went into a WACZ file."""

    path: Path
    warc_files: int
    pages: int
    index_lines: int


@dataclass
class _Resource:
    path: str
    sha256: str
    size: int

    def entry(self) -> dict[str, Any]:
        return {
            "name": self.path.rsplit("/", 1)[-1].lower(),
            "path": self.path,
            "hash": f"sha256:{self.sha256}",
            "bytes": self.size,
        }


class _HashingWriter:
    """Writes to a ZIP member while taking its SHA-256 and size."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = datetime.now(UTC)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _member(
    zf: zipfile.ZipFile, path: str, chunks: Iterable[bytes], *, stored: bool, size: int = 0
) -> _Resource:
    info = zipfile.ZipInfo(path, _zip_time())
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.file_size = size
    with zf.open(info, "w", force_zip64=size > ZIP64_THRESHOLD) as raw:
        writer = _HashingWriter(raw)
        for chunk in chunks:
            writer.write(chunk)
    return _Resource(path, writer.digest.hexdigest(), writer.size)


def _file_chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(COPY_CHUNK):
            yield chunk


def page_entries(archive: Path, site: str | None = None) -> list[dict[str, Any]]:
    """One pages.jsonl entry per archived case: its URL, capture time, title and date."""
    catalog = open_catalog(archive, read_only=True)
    try:
        cases = catalog.cases(site, status=CaseStatus.ARCHIVED)
    finally:
        catalog.close()
    pages = [
        {
            "id": f"{case.key.site}-{case.key.column}-{case.key.case_id}",
            "url": case.url,
            # The capture of the version whose title this is: a WARC-Date, to the second.
            "ts": case.metadata["fetched_at"],
            "title": case.metadata.get("title") or case.url,
            "published": case.metadata.get("published"),
        }
        for case in cases
        if case.metadata is not None and case.metadata.get("fetched_at")
    ]
    pages.sort(key=lambda page: (page["published"] or "", page["url"]), reverse=True)
    return pages


def _pages_jsonl(pages: list[dict[str, Any]], title: str) -> bytes:
    header = {"format": "json-pages-1.0", "id": "pages", "title": title}
    return "".join(
        json.dumps(entry, ensure_ascii=False) + "\n" for entry in [header, *pages]
    ).encode("utf-8")


def _write_package(
    zf: zipfile.ZipFile, archive: Path, site: str | None, warcs: list[Path]
) -> tuple[int, int]:
    """Write every member; returns (pages, index lines)."""
    resources = []
    for warc in warcs:
        resources.append(
            _member(
                zf,
                f"archive/{warc.name}",
                _file_chunks(warc),
                stored=True,
                size=warc.stat().st_size,
            )
        )
    merged = merged_index(archive, site)
    lines = 0
    with merged.open(encoding="utf-8") as source:

        def encoded() -> Iterable[bytes]:
            nonlocal lines
            for line in replay_lines(source):
                lines += 1
                yield line.encode("utf-8")

        resources.append(
            _member(zf, INDEX_PATH, encoded(), stored=False, size=merged.stat().st_size)
        )
    title = f"caseharvest archive{f' ({site})' if site else ''}"
    pages = page_entries(archive, site)
    resources.append(_member(zf, PAGES_PATH, [_pages_jsonl(pages, title)], stored=False))
    package = {
        "profile": "data-package",
        "wacz_version": WACZ_VERSION,
        "title": title,
        "description": (
            "WARC files written by caseharvest, with a CDXJ index and one page per archived "
            "case (url, capture time, title, publication date)."
        ),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": f"caseharvest {__version__}",
        "resources": [resource.entry() for resource in resources],
    }
    package_bytes = (json.dumps(package, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    zf.writestr("datapackage.json", package_bytes, zipfile.ZIP_DEFLATED)
    digest = {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }
    zf.writestr(
        "datapackage-digest.json", json.dumps(digest, indent=2) + "\n", zipfile.ZIP_DEFLATED
    )
    return len(pages), lines


def write_wacz(archive: Path, output: Path, *, site: str | None = None) -> WaczSummary:
    """Package the closed WARC files of *archive* (of *site* only, if given) as *output*.

    Written to a temporary file beside *output* and renamed: never a half-written package.
    """
    warcs = warc_files(archive, site)
    if not warcs:
        where = f"site {site!r} of {archive}" if site else str(archive)
        raise NothingToExportError(f"{where} holds no closed WARC file to package")
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        replaced_on_success(output, sync=True) as temporary,
        zipfile.ZipFile(temporary, "w", allowZip64=True) as zf,
    ):
        pages, lines = _write_package(zf, archive, site, warcs)
    return WaczSummary(output, len(warcs), pages, lines)


__all__ = ["NothingToExportError", "WaczSummary", "page_entries", "write_wacz"]
