"""The catalog's schema, its version, and the steps that bring an older catalog up to date.

``PRAGMA user_version`` holds the version. Each step runs in the transaction that also sets the
new version, so a catalog is always at one version or the next, never in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from caseharvest.archive import search_index

SCHEMA_VERSION = 3

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
    column_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    url TEXT NOT NULL,
    listing_title TEXT,
    listing_date TEXT,
    status TEXT NOT NULL,          -- archived | dead | failed
    reason TEXT,
    first_seen_run TEXT,
    last_seen_run TEXT,
    archived_at TEXT,
    withdrawn_at TEXT,
    latest_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, column_id, case_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS cases_by_url ON cases (site, url);
CREATE TABLE IF NOT EXISTS versions (
    site TEXT NOT NULL,
    column_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    capture_id INTEGER NOT NULL REFERENCES captures (id),
    content_sha256 TEXT NOT NULL,  -- text plus metadata: what makes a new version
    text_sha256 TEXT NOT NULL,
    metadata TEXT NOT NULL,        -- the case's .json document
    PRIMARY KEY (site, column_id, case_id, version)
);
"""


def create_tables(db: sqlite3.Connection) -> None:
    """Every table and index of the current schema, statement by statement.

    (``executescript`` would commit the caller's transaction first.)
    """
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    search_index.create_search_tables(db)  # its triggers hold ";": not part of SCHEMA


def _v1_to_v2(db: sqlite3.Connection) -> None:
    """0.1 keyed cases by (site, url) with a Hanweb article id; 2 keys them by column and id."""
    db.execute("ALTER TABLE cases RENAME TO cases_v1")
    db.execute("ALTER TABLE versions RENAME TO versions_v1")
    db.execute("DROP INDEX IF EXISTS cases_by_url")
    create_tables(db)
    db.execute(
        "INSERT INTO cases (site, column_id, case_id, url, listing_title, listing_date, status,"
        " reason, first_seen_run, last_seen_run, archived_at, withdrawn_at, latest_version)"
        " SELECT site, column_id, article_id, url, listing_title, listing_date, status, reason,"
        " first_seen_run, last_seen_run, archived_at, withdrawn_at, latest_version"
        " FROM cases_v1"
    )
    db.execute(
        "INSERT INTO versions (site, column_id, case_id, version, capture_id, content_sha256,"
        " text_sha256, metadata)"
        " SELECT v.site, c.column_id, c.article_id, v.version, v.capture_id, v.content_sha256,"
        " v.text_sha256, v.metadata FROM versions_v1 v JOIN cases_v1 c"
        " ON c.site = v.site AND c.url = v.url"
    )
    db.execute("DROP TABLE versions_v1")
    db.execute("DROP TABLE cases_v1")


def _v2_to_v3(db: sqlite3.Connection) -> None:
    """3 adds the full-text index of `search`, filled from the archive's text files."""
    root = search_index.archive_root(db)
    search_index.create_search_tables(db)
    if root is not None:
        search_index.rebuild_index(db, root)


# MIGRATIONS[n] brings a catalog from version n to n + 1.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}


class SchemaError(RuntimeError):
    """The catalog's schema cannot be used by this version of caseharvest."""


def schema_version(db: sqlite3.Connection) -> int:
    """The catalog's version; 0 for a new, empty database."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def has_tables(db: sqlite3.Connection) -> bool:
    """True when the database holds any table (0.1 catalogs may say version 1 or 0)."""
    row = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    return bool(row[0])


def check_version(version: int, where: str) -> None:
    """Refuse a catalog written by a newer caseharvest."""
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{where} was written by a newer caseharvest (catalog schema {version}; this "
            f"version reads up to {SCHEMA_VERSION}): upgrade caseharvest to use this archive"
        )


def upgrade(db: sqlite3.Connection, where: str) -> int:
    """Create or migrate the schema to :data:`SCHEMA_VERSION`; returns the version found."""
    found = schema_version(db)
    if found == 0 and has_tables(db):
        found = 1  # 0.1 wrote the version only after creating its tables
    check_version(found, where)
    if found == 0:
        db.execute("BEGIN IMMEDIATE")
        create_tables(db)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
        return 0
    version = found
    while version < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version={version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        version += 1
    return found
