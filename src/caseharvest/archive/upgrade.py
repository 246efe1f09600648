"""Open an archive's catalog, bringing an archive of an older caseharvest up to date first.

0.1 kept text files as ``text/<site>/<year>/<article id>.txt``; from schema 2 on they live in
``text/<site>/<column>/<year>/<case id>.txt`` so two columns publishing one id cannot overwrite
each other. The files move before the catalog's schema changes: a crash in between leaves
files already in place and a catalog the next open migrates (moving is idempotent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
from pathlib import Path

from caseharvest.archive.catalog import Catalog, CatalogError, connect_read_only
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.schema import has_tables, schema_version
from caseharvest.model import CaseKey

logger = logging.getLogger(__name__)


def open_catalog(archive: Path, *, read_only: bool = False) -> Catalog:
    """The archive's catalog; an older archive is upgraded in place (unless *read_only*)."""
    layout = ArchiveLayout(archive)
    writable = os.access(layout.root, os.W_OK) and (
        not layout.catalog.exists() or os.access(layout.catalog, os.W_OK)
    )
    if layout.catalog.exists() and (not read_only or writable):
        needs_upgrade = _legacy_versions(layout.catalog) is not None
        _move_legacy_text_files(layout)
        if read_only and needs_upgrade:
            Catalog.for_archive(archive).close()  # upgrades the schema in place
    return Catalog.for_archive(archive, read_only=read_only)


def _legacy_versions(path: Path) -> list[tuple[str, str, str, int, int, str | None]] | None:
    """(site, column, article id, version, latest version, published) of a 0.1 catalog."""
    try:
        db = connect_read_only(path)
    except sqlite3.Error as exc:
        raise CatalogError(f"{path} cannot be opened: {exc}") from exc
    try:
        version = schema_version(db)
        if version >= 2 or (version == 0 and not has_tables(db)):
            return None
        rows = db.execute(
            "SELECT c.site, c.column_id, c.article_id, v.version, c.latest_version, v.metadata"
            " FROM versions v JOIN cases c ON c.site = v.site AND c.url = v.url"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise CatalogError(
            f"{path} cannot be read as a catalog ({exc}): it is damaged; `caseharvest replay` "
            "rebuilds a catalog from the archive's WARC files into a new folder"
        ) from exc
    finally:
        db.close()
    return [
        (site, column, article, number, latest, json.loads(metadata).get("published"))
        for site, column, article, number, latest, metadata in rows
    ]


def _move_legacy_text_files(layout: ArchiveLayout) -> None:
    versions = _legacy_versions(layout.catalog)
    if versions is None:
        return
    moved = 0
    emptied: set[Path] = set()
    for site, column, article, number, latest, published in versions:
        older = None if number == latest else number
        key = CaseKey(site, column, article)
        for old, new in zip(
            layout.legacy_text_paths(site, article, published, older),
            layout.text_paths(key, published, older),
            strict=True,
        ):
            if old.exists() and not new.exists():
                new.parent.mkdir(parents=True, exist_ok=True)
                os.replace(old, new)
                emptied.add(old.parent)
                moved += 1
    for folder in emptied:
        with contextlib.suppress(OSError):  # only when the upgrade left it empty
            folder.rmdir()
    logger.warning(
        "upgraded the archive %s from caseharvest 0.1: %d text files moved to "
        "text/<site>/<column>/<year>/",
        layout.root,
        moved,
    )
