"""`caseharvest search` and `reindex`: the catalog's full-text index, opened and kept ready."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

from caseharvest.archive import search_index
from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.search_index import IndexStats, SearchFilters, SearchHit
from caseharvest.archive.upgrade import open_catalog

logger = logging.getLogger(__name__)

Report = Callable[[str], None]

ROW_KEYS = (
    "url",
    "site",
    "column",
    "case_id",
    "title",
    "published",
    "source",
    "version",
    "withdrawn_at",
    "snippet",
    "highlights",
    "archived_page",
    "score",
)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class DateError(ValueError):
    """A --since/--until value that is not YYYY, YYYY-MM or YYYY-MM-DD."""


def check_date(value: str) -> str:
    """*value* when it is YYYY, YYYY-MM or YYYY-MM-DD naming a real date."""
    if not _DATE.match(value):
        raise DateError(f"{value!r} is not a date: use YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = (int(part) for part in (value + "-01-01")[:10].split("-"))
    try:
        date(year, month, day)
    except ValueError as exc:
        raise DateError(f"{value!r} is not a date: {exc}") from exc
    return value


def _writable(archive: Path) -> bool:
    layout = ArchiveLayout(archive)
    return os.access(layout.root, os.W_OK) and os.access(layout.catalog, os.W_OK)


def _commit_or_roll_back(catalog: Catalog, work: Callable[[], Any]) -> Any:
    """*work* in one immediate transaction of *catalog*."""
    catalog.commit()
    catalog.execute("BEGIN IMMEDIATE")
    try:
        result = work()
    except BaseException:
        catalog.execute("ROLLBACK")
        raise
    catalog.commit()
    return result


def catch_up_index(archive: Path, report: Report | None = None) -> int:
    """Index what `replay` stored without indexing (a writable archive only); how many."""
    if not _writable(archive):
        return 0
    catalog = open_catalog(archive)  # upgrades an older catalog, building its index
    try:
        waiting = search_index.pending(catalog)
        if not waiting:
            return 0
        if report is not None:
            report(f"indexing {waiting} cases for full-text search (once)")
        return int(_commit_or_roll_back(catalog, lambda: search_index.catch_up(catalog)))
    finally:
        catalog.close()


@contextlib.contextmanager
def searchable_catalog(archive: Path, report: Report | None = None) -> Iterator[Catalog]:
    """The archive's catalog, read-only, with a search index.

    A writable archive is brought up to date first (schema, and rows `replay` left for
    indexing). A read-only archive of an older schema gets a temporary index, built from its
    text files for this connection only.
    """
    catch_up_index(archive, report)
    catalog = open_catalog(archive, read_only=True)
    try:
        if not search_index.has_search_tables(catalog):
            if report is not None:
                report(f"{archive} is read-only and has no search index: reading its text files")
            search_index.build_temporary_index(catalog, archive)
        yield catalog
    finally:
        catalog.close()


def search_archive(
    archive: Path,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 20,
    report: Report | None = None,
) -> list[SearchHit]:
    """The archive's cases matching *query*, best first.

    Raises :class:`~caseharvest.archive.search_query.QuerySyntaxError` for a malformed query.
    """
    with searchable_catalog(archive, report) as catalog:
        return search_index.search(catalog, query, filters, limit)


def reindex_archive(archive: Path) -> IndexStats:
    """Rebuild the index from the text files, holding the archive's lock.

    Raises :class:`~caseharvest.archive.lock.ArchiveLockedError` while a run holds it.
    """
    with ArchiveLock(archive):
        catalog = open_catalog(archive)
        try:
            stats: IndexStats = _commit_or_roll_back(
                catalog, lambda: search_index.rebuild_index(catalog, archive)
            )
        finally:
            catalog.close()
    return stats


def hit_row(hit: SearchHit) -> dict[str, Any]:
    """A result as a row of `--format jsonl` / `csv`; ``highlights`` are snippet offsets."""
    return {
        "url": hit.url,
        "site": hit.key.site,
        "column": hit.key.column,
        "case_id": hit.key.case_id,
        "title": hit.title.text,
        "published": hit.published,
        "source": hit.source,
        "version": hit.version,
        "withdrawn_at": hit.withdrawn_at,
        "snippet": hit.snippet.text,
        "highlights": [list(span) for span in hit.snippet.spans],
        "archived_page": hit.archived_page,
        "score": round(hit.score, 4),
    }


def write_jsonl(hits: Iterable[SearchHit], out: IO[str]) -> None:
    """One JSON object per result, Chinese kept readable."""
    for hit in hits:
        out.write(json.dumps(hit_row(hit), ensure_ascii=False) + "\n")


def write_csv(hits: Iterable[SearchHit], out: IO[str]) -> None:
    """CSV with a header; ``highlights`` as JSON text."""
    writer = csv.DictWriter(out, fieldnames=list(ROW_KEYS), lineterminator="\r\n")
    writer.writeheader()
    for hit in hits:
        row = hit_row(hit)
        row["highlights"] = json.dumps(row["highlights"])
        writer.writerow(row)
