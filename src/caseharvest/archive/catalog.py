"""The SQLite catalog of an archive: runs, captures (WARC records) and cases with their versions.

Rows come back as typed, frozen objects. Cases are keyed by :class:`~caseharvest.model.CaseKey`
(site, column, case id). Writes go into one transaction that :meth:`Catalog.commit` ends;
callers commit at points where the WARC records a row names are already on disk.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseharvest.archive.schema import SchemaError, check_version, schema_version, upgrade
from caseharvest.model import CaseKey, CaseStatus, WarcRecordRef

CATALOG_NAME = "catalog.sqlite3"


class CatalogError(RuntimeError):
    """The catalog cannot be opened or read; the message says what to do."""


@dataclass(frozen=True)
class CaptureRow:
    """A response or revisit record the catalog knows of."""

    id: int
    url: str
    method: str
    status: int
    record_type: str
    record_id: str
    warc_date: str
    warc_file: str
    warc_offset: int
    warc_length: int
    payload_digest: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class CaseRow:
    """One case as the catalog knows it, with its latest version's metadata."""

    key: CaseKey
    url: str
    status: CaseStatus
    reason: str | None
    withdrawn_at: str | None
    latest_version: int
    metadata: dict[str, Any] | None
    listing_title: str | None = None
    listing_date: str | None = None

    @property
    def site(self) -> str:
        return self.key.site


@dataclass(frozen=True)
class VersionRow:
    """One version of a case: what decided it, and its ``.json`` document."""

    key: CaseKey
    version: int
    capture_id: int
    content_sha256: str
    text_sha256: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class RunRow:
    """One run of a command over the archive."""

    id: str
    site: str
    command: str
    started_at: str
    ended_at: str | None
    exit_code: int | None
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class ArchiveTotals:
    """Archive-wide counts for `status`."""

    archived: int
    dead: int
    failed: int
    versions: int
    captures: int
    warc_files: int


def _settled(path: Path) -> bool:
    """No writer and nothing waiting in the WAL: the file alone is the whole database."""
    from caseharvest.archive.lock import ArchiveLock

    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        return False
    return ArchiveLock(path.parent).held_by() is None


# SQLite's words for a disk that refuses writes.
_STORAGE_WORDS = ("disk", "full", "i/o", "readonly", "read-only", "unable to open")


def is_storage_error(exc: BaseException) -> bool:
    """True for an error of the archive's storage (a full or read-only disk, an I/O error),
    not of the data or of a site."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return any(
            word in text
            for word in ("disk", "full", "i/o", "readonly", "read-only", "unable to open")
        )
    return isinstance(exc, OSError) and not isinstance(exc, (ConnectionError, TimeoutError))


def _damaged(path: Path, exc: Exception) -> str:
    return (
        f"{path} cannot be read as a catalog ({exc}): it is damaged; `caseharvest replay` "
        "rebuilds a catalog from the archive's WARC files into a new folder"
    )


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: not the catalog, not even SQLite's -shm/-wal files.

    A settled catalog is read as an immutable file (reading commands change nothing in the
    archive); with a run in progress, an ordinary read-only connection sees its commits.
    """
    options = "mode=ro&immutable=1" if _settled(path) else "mode=ro"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True, timeout=30)


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    if read_only:
        if not path.exists():
            raise CatalogError(f"{path} does not exist")
        db = connect_read_only(path)
        try:
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL database in a folder we cannot write: SQLite cannot make its -shm file.
            # Nobody can be writing it then either, so read it as an immutable file.
            db.close()
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, timeout=30
            )
    else:
        db = sqlite3.connect(path, timeout=30)
    db.row_factory = sqlite3.Row
    return db


class Catalog:
    """Typed access to ``<archive>/catalog.sqlite3``.

    Opening for writing creates the catalog, or upgrades an older schema in place; opening
    read-only (``read_only=True``) never writes, so read-only archives can be inspected.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        try:
            if read_only:
                self._db = _connect(path, read_only=True)
                found = schema_version(self._db)
                check_version(found, str(path))
                if found < 2:
                    raise SchemaError(
                        f"{path} is a catalog of an older caseharvest and the archive is "
                        "read-only: run a writing command (e.g. `caseharvest verify`) on a "
                        "writable copy once to upgrade it"
                    )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = _connect(path, read_only=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL keeps the database consistent across crashes and loses
                # no commit when the process is killed; only a power loss may drop the last
                # commits, which the next run redoes (its WARC records are recovered).
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self.upgraded_from = upgrade(self._db, str(path))
        except sqlite3.OperationalError as exc:
            if is_storage_error(exc):
                raise CatalogError(
                    f"cannot write the catalog {path}: {exc} (is the disk full or the folder "
                    "read-only?)"
                ) from exc
            raise CatalogError(_damaged(path, exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise CatalogError(_damaged(path, exc)) from exc

    upgraded_from = 2

    @classmethod
    def for_archive(cls, archive: Path, *, read_only: bool = False) -> Catalog:
        """Open the catalog of the archive folder *archive* (created when writing)."""
        return cls(archive / CATALOG_NAME, read_only=read_only)

    def close(self) -> None:
        """Commit and close."""
        if not self.read_only:
            self._db.commit()
        self._db.close()

    def commit(self) -> None:
        """End the current transaction."""
        self._db.commit()

    def quick_check(self) -> list[str]:
        """SQLite's own consistency check: empty when the database is sound."""
        rows = [str(row[0]) for row in self._db.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    # -- runs ---------------------------------------------------------------------------------

    def begin_run(self, run_id: str, site: str, command: str, started_at: str) -> None:
        """Record the start of a run."""
        self._db.execute(
            "INSERT INTO runs (id, site, command, started_at) VALUES (?, ?, ?, ?)",
            (run_id, site, command, started_at),
        )
        self._db.commit()

    def end_run(
        self, run_id: str, ended_at: str, exit_code: int, summary: Mapping[str, Any]
    ) -> None:
        """Record how a run ended."""
        self._db.execute(
            "UPDATE runs SET ended_at = ?, exit_code = ?, summary = ? WHERE id = ?",
            (ended_at, exit_code, json.dumps(summary, ensure_ascii=False), run_id),
        )
        self._db.commit()

    def runs(self, limit: int = 10) -> list[RunRow]:
        """The latest runs, newest first."""
        rows = self._db.execute(
            "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            RunRow(
                id=row["id"],
                site=row["site"],
                command=row["command"],
                started_at=row["started_at"],
                ended_at=row["ended_at"],
                exit_code=row["exit_code"],
                summary=json.loads(row["summary"]) if row["summary"] else None,
            )
            for row in rows
        ]

    def last_full_walk(self, site: str, column: str) -> str | None:
        """Start time of the newest run that read the whole listing of a column, or None."""
        for row in self._db.execute(
            "SELECT started_at, summary FROM runs WHERE site = ? AND summary IS NOT NULL"
            " ORDER BY started_at DESC",
            (site,),
        ):
            summary = json.loads(row["summary"])
            walked = summary.get("full_walk_columns")
            if walked is None:  # a run of 0.1: one column per site
                walked = [column] if summary.get("full_walk") else []
            if column in walked:
                return str(row["started_at"])
        return None

    # -- captures -----------------------------------------------------------------------------

    def add_capture(
        self,
        *,
        run_id: str | None,
        url: str,
        method: str,
        status: int,
        record: WarcRecordRef,
        headers: Mapping[str, str],
    ) -> int:
        """Register a written record; *headers* are its response's, names in lower case."""
        cursor = self._db.execute(
            "INSERT INTO captures (run_id, url, method, status, record_type, record_id, warc_date,"
            " warc_file, warc_offset, warc_length, payload_digest, content_type, etag,"
            " last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                url,
                method,
                status,
                record.record_type,
                record.record_id,
                record.warc_date,
                record.warc_file,
                record.offset,
                record.length,
                record.payload_digest or None,
                headers.get("content-type"),
                headers.get("etag"),
                headers.get("last-modified"),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def capture_id(self, record_id: str) -> int | None:
        """Id of the capture with this WARC-Record-ID, or None."""
        row = self._db.execute(
            "SELECT id FROM captures WHERE record_id = ?", (record_id,)
        ).fetchone()
        return int(row["id"]) if row else None

    def has_record(self, record_id: str) -> bool:
        """True when a capture with this WARC-Record-ID is registered."""
        return self.capture_id(record_id) is not None

    def has_archived(self, url: str) -> bool:
        """True when the archive holds a 200 capture of *url* (response or revisit)."""
        row = self._db.execute(
            "SELECT 1 FROM captures WHERE url = ? AND status = 200 LIMIT 1", (url,)
        ).fetchone()
        return row is not None

    def latest_original(self, url: str, method: str = "GET") -> CaptureRow | None:
        """Newest 200 ``response`` record for *url*: what a revisit may refer to."""
        row = self._db.execute(
            "SELECT * FROM captures WHERE url = ? AND method = ? AND record_type = 'response'"
            " AND status = 200 ORDER BY warc_date DESC, id DESC LIMIT 1",
            (url, method),
        ).fetchone()
        return _capture(row) if row else None

    def capture(self, capture_id: int) -> CaptureRow:
        """The capture with this id."""
        row = self._db.execute("SELECT * FROM captures WHERE id = ?", (capture_id,)).fetchone()
        if row is None:
            raise KeyError(capture_id)
        return _capture(row)

    def captures(self) -> list[CaptureRow]:
        """Every capture, in the order written."""
        return [_capture(row) for row in self._db.execute("SELECT * FROM captures ORDER BY id")]

    def capture_count(self) -> int:
        """How many captures the catalog knows."""
        return int(self._db.execute("SELECT COUNT(*) FROM captures").fetchone()[0])

    # -- cases --------------------------------------------------------------------------------

    def case_keys(
        self, site: str, column: str | None = None, statuses: tuple[CaseStatus, ...] = ()
    ) -> set[CaseKey]:
        """Keys of the site's cases (of one column; with one of *statuses*, when given)."""
        return {
            CaseKey(site, row["column_id"], row["case_id"])
            for row in self._db.execute(
                "SELECT column_id, case_id, status FROM cases WHERE site = :site"
                " AND (:column IS NULL OR column_id = :column)",
                {"site": site, "column": column},
            )
            if not statuses or row["status"] in statuses
        }

    def withdrawn_keys(self, site: str, column: str | None = None) -> set[CaseKey]:
        """Keys of the site's cases marked withdrawn."""
        return {
            CaseKey(site, row["column_id"], row["case_id"])
            for row in self._db.execute(
                "SELECT column_id, case_id FROM cases WHERE site = :site"
                " AND withdrawn_at IS NOT NULL AND (:column IS NULL OR column_id = :column)",
                {"site": site, "column": column},
            )
        }

    def note_case(
        self,
        key: CaseKey,
        *,
        url: str,
        status: CaseStatus,
        run_id: str,
        at: str,
        reason: str | None = None,
        listing_title: str | None = None,
        listing_date: str | None = None,
    ) -> None:
        """Insert or update a case's status as of this run.

        A failed refetch never demotes a case whose records are archived.
        """
        self._db.execute(
            """
            INSERT INTO cases (site, column_id, case_id, url, listing_title, listing_date,
                               status, reason, first_seen_run, last_seen_run, archived_at,
                               latest_version)
            VALUES (:site, :column, :case_id, :url, :listing_title, :listing_date,
                    :status, :reason, :run_id, :run_id,
                    CASE WHEN :status = 'archived' THEN :at END,
                    (SELECT COALESCE(MAX(version), 0) FROM versions
                     WHERE site = :site AND column_id = :column AND case_id = :case_id))
            ON CONFLICT (site, column_id, case_id) DO UPDATE SET
                url = :url,
                listing_title = COALESCE(:listing_title, listing_title),
                listing_date = COALESCE(:listing_date, listing_date),
                status = CASE WHEN status = 'archived' AND :status = 'failed'
                              THEN status ELSE :status END,
                reason = :reason,
                last_seen_run = :run_id,
                archived_at = CASE WHEN :status = 'archived' THEN :at ELSE archived_at END
            """,
            {
                "site": key.site,
                "column": key.column,
                "case_id": key.case_id,
                "url": url,
                "listing_title": listing_title,
                "listing_date": listing_date,
                "status": str(status),
                "reason": reason,
                "run_id": run_id,
                "at": at,
            },
        )

    def set_withdrawn(self, key: CaseKey, at: str | None) -> bool:
        """Mark a case withdrawn from the site (or, with None, listed again); True if changed."""
        cursor = self._db.execute(
            "UPDATE cases SET withdrawn_at = ? WHERE site = ? AND column_id = ? AND case_id = ?"
            " AND withdrawn_at IS NOT ?",
            (at, key.site, key.column, key.case_id, at),
        )
        return cursor.rowcount > 0

    def add_version(
        self,
        key: CaseKey,
        version: int,
        *,
        capture_id: int,
        content_sha256: str,
        text_sha256: str,
        metadata: Mapping[str, Any],
    ) -> None:
        """Store version *version* of a case, which the caller found to follow its latest.

        The ledger decides the number from the latest version it read for the case, and
        reading that again here cost a query per version. A second writer of the same
        version breaks the primary key instead of passing unseen.
        """
        self._db.execute(
            "INSERT INTO versions (site, column_id, case_id, version, capture_id, content_sha256,"
            " text_sha256, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key.site,
                key.column,
                key.case_id,
                version,
                capture_id,
                content_sha256,
                text_sha256,
                json.dumps(dict(metadata), ensure_ascii=False),
            ),
        )
        self._db.execute(
            "UPDATE cases SET latest_version = ? WHERE site = ? AND column_id = ? AND case_id = ?",
            (version, key.site, key.column, key.case_id),
        )

    def latest_version(self, key: CaseKey) -> VersionRow | None:
        """The newest version of a case, or None."""
        row = self._db.execute(
            "SELECT * FROM versions WHERE site = ? AND column_id = ? AND case_id = ?"
            " ORDER BY version DESC LIMIT 1",
            (key.site, key.column, key.case_id),
        ).fetchone()
        return _version(row) if row else None

    def versions(self, key: CaseKey) -> list[VersionRow]:
        """Every version of one case, oldest first."""
        return [
            _version(row)
            for row in self._db.execute(
                "SELECT * FROM versions WHERE site = ? AND column_id = ? AND case_id = ?"
                " ORDER BY version",
                (key.site, key.column, key.case_id),
            )
        ]

    def case(self, key: CaseKey) -> CaseRow | None:
        """One case, or None."""
        rows = self._case_rows(
            "c.site = :site AND c.column_id = :column AND c.case_id = :case_id",
            {"site": key.site, "column": key.column, "case_id": key.case_id},
        )
        return next(rows, None)

    def case_by_url(self, url: str, site: str | None = None) -> CaseRow | None:
        """The case at *url* (of *site*, when given), or None."""
        rows = self._case_rows(
            "c.url = :url AND (:site IS NULL OR c.site = :site)", {"url": url, "site": site}
        )
        return next(rows, None)

    def cases(self, site: str | None = None, *, status: CaseStatus | None = None) -> list[CaseRow]:
        """Cases with the metadata of their latest version."""
        return list(self.iter_cases(site, status=status))

    def iter_cases(
        self, site: str | None = None, *, status: CaseStatus | None = None
    ) -> Iterator[CaseRow]:
        """Like :meth:`cases`, one row at a time (memory stays flat on large archives)."""
        return self._case_rows(
            "(:site IS NULL OR c.site = :site) AND (:status IS NULL OR c.status = :status)",
            {"site": site, "status": str(status) if status else None},
        )

    def _case_rows(self, where: str, params: Mapping[str, Any]) -> Iterator[CaseRow]:
        query = (
            "SELECT c.*, v.metadata FROM cases c LEFT JOIN versions v"
            " ON v.site = c.site AND v.column_id = c.column_id AND v.case_id = c.case_id"
            f" AND v.version = c.latest_version WHERE {where}"
            " ORDER BY c.site, c.url"
        )
        for row in self._db.execute(query, params):
            yield CaseRow(
                key=CaseKey(row["site"], row["column_id"], row["case_id"]),
                url=row["url"],
                status=CaseStatus(row["status"]),
                reason=row["reason"],
                withdrawn_at=row["withdrawn_at"],
                latest_version=row["latest_version"],
                metadata=json.loads(row["metadata"]) if row["metadata"] else None,
                listing_title=row["listing_title"],
                listing_date=row["listing_date"],
            )

    def totals(self) -> ArchiveTotals:
        """Archive-wide counts for `status`."""
        row = self._db.execute(
            "SELECT"
            " (SELECT COUNT(*) FROM cases WHERE status = 'archived') AS archived,"
            " (SELECT COUNT(*) FROM cases WHERE status = 'dead') AS dead,"
            " (SELECT COUNT(*) FROM cases WHERE status = 'failed') AS failed,"
            " (SELECT COUNT(*) FROM versions) AS versions,"
            " (SELECT COUNT(*) FROM captures) AS captures,"
            " (SELECT COUNT(DISTINCT warc_file) FROM captures) AS warc_files"
        ).fetchone()
        return ArchiveTotals(**dict(row))

    def execute(self, sql: str, params: Mapping[str, Any] | tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one SQL statement on the catalog (for the archive package's own modules)."""
        return self._db.execute(sql, params)

    def captures_of(self, url: str) -> list[CaptureRow]:
        """Every capture of *url* (any method), oldest first: a case's `history`."""
        return [
            _capture(row)
            for row in self._db.execute(
                "SELECT * FROM captures WHERE url = ? ORDER BY warc_date, id", (url,)
            )
        ]

    def capture_bytes_by_run(self) -> list[tuple[str, int]]:
        """(run start, bytes of the WARC records it captured), oldest first: for `report`.

        Records without a run (registered by recovery) count from their own WARC-Date.
        """
        return [
            (str(row[0]), int(row[1]))
            for row in self._db.execute(
                "SELECT COALESCE(r.started_at, c.warc_date) AS at, SUM(c.warc_length)"
                " FROM captures c LEFT JOIN runs r ON r.id = c.run_id"
                " GROUP BY COALESCE(c.run_id, c.warc_date) ORDER BY at"
            )
        ]

    # -- added for `replay --into` (commands/import_archive.py) --------------------------------

    def replace_versions(
        self, key: CaseKey, versions: list[tuple[int, str, str, Mapping[str, Any]]]
    ) -> None:
        """Make *versions* the whole history of a case, numbered 1… in the order given.

        Each item is (capture id, content sha256, text sha256, metadata); the metadata's
        ``version`` must already be its new number. For a capture imported from an older
        crawl, whose version goes before the versions the archive held.
        """
        where = (key.site, key.column, key.case_id)
        self._db.execute(
            "DELETE FROM versions WHERE site = ? AND column_id = ? AND case_id = ?", where
        )
        for number, (capture_id, content_sha256, text_sha256, metadata) in enumerate(versions, 1):
            self._db.execute(
                "INSERT INTO versions (site, column_id, case_id, version, capture_id,"
                " content_sha256, text_sha256, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *where,
                    number,
                    capture_id,
                    content_sha256,
                    text_sha256,
                    json.dumps(dict(metadata), ensure_ascii=False),
                ),
            )
        self._db.execute(
            "UPDATE cases SET latest_version = ? WHERE site = ? AND column_id = ? AND case_id = ?",
            (len(versions), *where),
        )


def _capture(row: sqlite3.Row) -> CaptureRow:
    return CaptureRow(
        id=row["id"],
        url=row["url"],
        method=row["method"],
        status=row["status"],
        record_type=row["record_type"],
        record_id=row["record_id"],
        warc_date=row["warc_date"],
        warc_file=row["warc_file"],
        warc_offset=row["warc_offset"],
        warc_length=row["warc_length"],
        payload_digest=row["payload_digest"],
        etag=row["etag"],
        last_modified=row["last_modified"],
    )


def _version(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        key=CaseKey(row["site"], row["column_id"], row["case_id"]),
        version=row["version"],
        capture_id=row["capture_id"],
        content_sha256=row["content_sha256"],
        text_sha256=row["text_sha256"],
        metadata=json.loads(row["metadata"]),
    )
