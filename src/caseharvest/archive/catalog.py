"""The SQLite catalog of an archive: runs, captures (WARC records) and cases with their versions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseharvest.capture.warc_writer import WrittenRecord

CATALOG_NAME = "catalog.sqlite3"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    exit_code INTEGER,
    summary TEXT
);
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    run_id TEXT,
    url TEXT NOT NULL,
    method TEXT NOT NULL,
    status INTEGER NOT NULL,
    record_type TEXT NOT NULL,
    record_id TEXT NOT NULL UNIQUE,
    warc_date TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    warc_length INTEGER NOT NULL,
    payload_digest TEXT,
    content_type TEXT,
    etag TEXT,
    last_modified TEXT
);
CREATE INDEX IF NOT EXISTS captures_by_url ON captures (url, method);
CREATE INDEX IF NOT EXISTS captures_by_file ON captures (warc_file);
CREATE TABLE IF NOT EXISTS cases (
    site TEXT NOT NULL,
    url TEXT NOT NULL,
    article_id TEXT NOT NULL,
    column_id TEXT NOT NULL,
    listing_title TEXT,
    listing_date TEXT,
    status TEXT NOT NULL,          -- archived | dead | failed
    reason TEXT,
    first_seen_run TEXT,
    last_seen_run TEXT,
    archived_at TEXT,
    withdrawn_at TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, url)
);
CREATE TABLE IF NOT EXISTS versions (
    site TEXT NOT NULL,
    url TEXT NOT NULL,
    version INTEGER NOT NULL,
    capture_id INTEGER NOT NULL REFERENCES captures (id),
    content_sha256 TEXT NOT NULL,  -- text plus metadata: what makes a new version
    text_sha256 TEXT NOT NULL,
    metadata TEXT NOT NULL,        -- the case's .json document
    PRIMARY KEY (site, url, version)
);
"""


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

    site: str
    url: str
    article_id: str
    column_id: str
    status: str
    reason: str | None
    withdrawn_at: str | None
    latest_version: int
    metadata: dict[str, Any] | None


class Catalog:
    """Thin, typed access to ``<archive>/catalog.sqlite3``.

    Writes go into one transaction that :meth:`commit` ends; callers commit at points where
    the WARC records a row names are already on disk.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL keeps the database consistent across crashes and loses no commit
        # when the process is killed; only a power loss may drop the last commits, which the
        # next run redoes (their WARC records are recovered and registered).
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._db.commit()

    @classmethod
    def for_archive(cls, archive: Path) -> Catalog:
        """Open (creating if needed) the catalog of the archive folder *archive*."""
        return cls(archive / CATALOG_NAME)

    def close(self) -> None:
        """Commit and close."""
        self._db.commit()
        self._db.close()

    def commit(self) -> None:
        """End the current transaction."""
        self._db.commit()

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

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        rows = self._db.execute(
            "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {**dict(row), "summary": json.loads(row["summary"]) if row["summary"] else None}
            for row in rows
        ]

    # -- captures -----------------------------------------------------------------------------

    def add_capture(
        self,
        *,
        run_id: str | None,
        url: str,
        method: str,
        status: int,
        record: WrittenRecord,
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

    # -- cases --------------------------------------------------------------------------------

    def case_urls(self, site: str, *statuses: str) -> set[str]:
        """URLs of the site's cases (with one of *statuses*, when given)."""
        return {
            row["url"]
            for row in self._db.execute("SELECT url, status FROM cases WHERE site = ?", (site,))
            if not statuses or row["status"] in statuses
        }

    def withdrawn_urls(self, site: str) -> set[str]:
        """URLs of the site's cases marked withdrawn."""
        return {
            row["url"]
            for row in self._db.execute(
                "SELECT url FROM cases WHERE site = ? AND withdrawn_at IS NOT NULL", (site,)
            )
        }

    def note_case(
        self,
        *,
        site: str,
        url: str,
        article_id: str,
        column_id: str,
        status: str,
        run_id: str,
        at: str,
        reason: str | None = None,
        listing_title: str | None = None,
        listing_date: str | None = None,
    ) -> None:
        """Insert or update a case's status (archived / dead / failed) as of this run."""
        self._db.execute(
            """
            INSERT INTO cases (site, url, article_id, column_id, listing_title, listing_date,
                               status, reason, first_seen_run, last_seen_run, archived_at,
                               latest_version)
            VALUES (:site, :url, :article_id, :column_id, :listing_title, :listing_date,
                    :status, :reason, :run_id, :run_id,
                    CASE WHEN :status = 'archived' THEN :at END,
                    (SELECT COALESCE(MAX(version), 0) FROM versions
                     WHERE site = :site AND url = :url))
            ON CONFLICT (site, url) DO UPDATE SET
                listing_title = COALESCE(:listing_title, listing_title),
                listing_date = COALESCE(:listing_date, listing_date),
                -- a failed refetch never demotes a case whose records are archived
                status = CASE WHEN status = 'archived' AND :status = 'failed'
                              THEN status ELSE :status END,
                reason = :reason,
                last_seen_run = :run_id,
                archived_at = CASE WHEN :status = 'archived' THEN :at ELSE archived_at END
            """,
            {
                "site": site,
                "url": url,
                "article_id": article_id,
                "column_id": column_id,
                "listing_title": listing_title,
                "listing_date": listing_date,
                "status": status,
                "reason": reason,
                "run_id": run_id,
                "at": at,
            },
        )

    def set_withdrawn(self, site: str, url: str, at: str | None) -> bool:
        """Mark a case withdrawn from the site (or, with None, listed again); True if changed."""
        cursor = self._db.execute(
            "UPDATE cases SET withdrawn_at = ? WHERE site = ? AND url = ?"
            " AND withdrawn_at IS NOT ?",
            (at, site, url, at),
        )
        return cursor.rowcount > 0

    def last_full_walk(self, site: str) -> str | None:
        """Start time of the newest run that read the site's whole listing, or None."""
        for row in self._db.execute(
            "SELECT started_at, summary FROM runs WHERE site = ? AND summary IS NOT NULL"
            " ORDER BY started_at DESC",
            (site,),
        ):
            if json.loads(row["summary"]).get("full_walk"):
                return str(row["started_at"])
        return None

    def add_version(
        self,
        *,
        site: str,
        url: str,
        capture_id: int,
        content_sha256: str,
        text_sha256: str,
        metadata: Mapping[str, Any],
    ) -> int | None:
        """Store a new version when its content differs from the latest; returns its number.

        Returns None when the content is unchanged (a new capture, not a new version).
        """
        latest = self._db.execute(
            "SELECT version, content_sha256 FROM versions WHERE site = ? AND url = ?"
            " ORDER BY version DESC LIMIT 1",
            (site, url),
        ).fetchone()
        if latest is not None and latest["content_sha256"] == content_sha256:
            return None
        version = (latest["version"] if latest else 0) + 1
        self._db.execute(
            "INSERT INTO versions (site, url, version, capture_id, content_sha256, text_sha256,"
            " metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                site,
                url,
                version,
                capture_id,
                content_sha256,
                text_sha256,
                json.dumps(dict(metadata), ensure_ascii=False),
            ),
        )
        self._db.execute(
            "UPDATE cases SET latest_version = ? WHERE site = ? AND url = ?", (version, site, url)
        )
        return version

    def latest_version(self, site: str, url: str) -> tuple[str, dict[str, Any]] | None:
        """(content digest, metadata) of the newest version of a case, or None."""
        row = self._db.execute(
            "SELECT content_sha256, metadata FROM versions WHERE site = ? AND url = ?"
            " ORDER BY version DESC LIMIT 1",
            (site, url),
        ).fetchone()
        return (row["content_sha256"], json.loads(row["metadata"])) if row else None

    def cases(self, site: str | None = None, *, status: str | None = None) -> list[CaseRow]:
        """Cases with the metadata of their latest version."""
        return list(self.iter_cases(site, status=status))

    def iter_cases(
        self, site: str | None = None, *, status: str | None = None
    ) -> Iterator[CaseRow]:
        """Like :meth:`cases`, one row at a time (memory stays flat on large archives)."""
        query = (
            "SELECT c.*, v.metadata FROM cases c LEFT JOIN versions v"
            " ON v.site = c.site AND v.url = c.url AND v.version = c.latest_version"
            " WHERE (:site IS NULL OR c.site = :site) AND (:status IS NULL OR c.status = :status)"
            " ORDER BY c.site, c.url"
        )
        for row in self._db.execute(query, {"site": site, "status": status}):
            yield CaseRow(
                site=row["site"],
                url=row["url"],
                article_id=row["article_id"],
                column_id=row["column_id"],
                status=row["status"],
                reason=row["reason"],
                withdrawn_at=row["withdrawn_at"],
                latest_version=row["latest_version"],
                metadata=json.loads(row["metadata"]) if row["metadata"] else None,
            )

    def versions(self, site: str, url: str) -> list[dict[str, Any]]:
        """Every version's metadata of one case, oldest first."""
        return [
            json.loads(row["metadata"])
            for row in self._db.execute(
                "SELECT metadata FROM versions WHERE site = ? AND url = ? ORDER BY version",
                (site, url),
            )
        ]

    def totals(self) -> dict[str, int]:
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
        return dict(row)


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
