"""WARC files from elsewhere, made part of an archive: found in sources, linked (or copied) in.

`replay` and `fetch --from-warc` read files the user names; the archive must hold them too, so
that `serve`, `export --wacz` and `verify` see what the catalog points at.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.warc_index import current_index, index_path_for


class SourceError(ValueError):
    """The sources or the target archive cannot be used; the message says why."""


def find_warc_files(sources: list[Path]) -> list[Path]:
    """WARC files named by *sources* (files, or folders searched recursively), in write order."""
    found: dict[Path, None] = {}
    for source in sources:
        if source.is_dir():
            found.update(dict.fromkeys(sorted(source.rglob("*.warc.gz"))))
        elif source.is_file():
            found[source] = None
        else:
            raise SourceError(f"{source}: no such file or folder")
    if not found:
        raise SourceError("no .warc.gz files in the given sources")
    # File names carry the write time and the serial: sort on those, not on the folder.
    return sorted(found, key=lambda path: path.name.split("-")[1:3])


def refuse_archive_holding(files: list[Path], archive: Path) -> None:
    """Raise when the *archive* folder holds one of *files*: it would read what it writes."""
    target = archive.resolve()
    for path in files:
        if target == path.resolve() or target in path.resolve().parents:
            raise SourceError(
                f"--archive {archive} holds the source {path}: use another --archive folder"
            )


def link_into_archive(files: list[Path], archive: Path, site: str) -> None:
    """Make *files* part of *archive* (``warc/<site>/``): hard links, else copies.

    A file's current CDXJ index comes along, so it is not indexed again.
    """
    refuse_archive_holding(files, archive)
    folder = ArchiveLayout(archive).warc_dir(site)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        linked = folder / path.name
        index = current_index(path)
        _link_or_copy(path, linked)
        if index is not None:
            target = index_path_for(linked)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(index, target)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # same bytes, no second copy on disk
    except OSError:
        shutil.copy2(source, target)
