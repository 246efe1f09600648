"""The catalog's full-text index: every case's latest title and text, searchable in Chinese.

``case_search`` holds one row per case (its latest version's title, text and the facts a
result shows); ``case_search_fts`` is an SQLite FTS5 index over it with the ``trigram``
tokenizer, which finds any substring of three or more characters without a word segmenter.

Trigrams cannot find shorter strings, and two-character words are most of Chinese (招商,
飞地, 氢能): those are found by ``instr`` over the stored text, which finds every case holding
them and nothing else. Ranking counts occurrences (a title hit weighs most, body hits per
length of text); a loose match of a long run ranks after the cases holding it whole.

Tokenizing costs about as much as extracting a case, so `replay` (thousands of cases a minute)
only stores rows, marked ``indexed = 0``; :func:`catch_up` puts them into the FTS index later
(the next `fetch` case, `search` or `reindex` on a writable archive). Until then searches
read those rows directly, so results never depend on whether the index has caught up.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from caseharvest.archive.case_files import read_case_text
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.search_query import And, Node, Not, Or, Term, parse_query, positive_terms
from caseharvest.model import CaseKey

logger = logging.getLogger(__name__)

SEARCH_TABLE = "case_search"
FTS_TABLE = "case_search_fts"
# FTS5's trigram tokenizer indexes strings of three characters; shorter ones go by instr.
TRIGRAM = 3
SNIPPET_BEFORE = 30
SNIPPET_LENGTH = 100


class Executes(Protocol):
    """A sqlite3 connection, or the :class:`~caseharvest.archive.catalog.Catalog` over one."""

    def execute(self, sql: str, params: Any = ..., /) -> sqlite3.Cursor: ...


def _tables_sql(schema: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS {schema}.{SEARCH_TABLE} (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            column_id TEXT NOT NULL,
            case_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL,
            published TEXT,
            year TEXT,
            source TEXT,
            archived_page TEXT,  -- <14-digit capture time>/<url>: the page under `serve`
            indexed INTEGER NOT NULL DEFAULT 0,  -- 1 once title and body are in the FTS index
            body TEXT NOT NULL,
            UNIQUE (site, column_id, case_id)
        )""",
        f"""CREATE INDEX IF NOT EXISTS {schema}.{SEARCH_TABLE}_pending
            ON {SEARCH_TABLE} (id) WHERE indexed = 0""",
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {schema}.{FTS_TABLE} USING fts5(
            title, body, content='{SEARCH_TABLE}', content_rowid='id', tokenize='trigram'
        )""",
        # An external-content index must be told the old values of what leaves it.
        f"""CREATE TRIGGER IF NOT EXISTS {schema}.{SEARCH_TABLE}_replaced
            BEFORE UPDATE OF title, body ON {SEARCH_TABLE} WHEN old.indexed = 1 BEGIN
            INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body)
                VALUES ('delete', old.id, old.title, old.body);
        END""",
        # A row changed in place while indexed (by hand, say) is indexed anew at once.
        f"""CREATE TRIGGER IF NOT EXISTS {schema}.{SEARCH_TABLE}_reindexed
            AFTER UPDATE OF title, body ON {SEARCH_TABLE} WHEN new.indexed = 1 BEGIN
            INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (new.id, new.title, new.body);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {schema}.{SEARCH_TABLE}_removed
            AFTER DELETE ON {SEARCH_TABLE} WHEN old.indexed = 1 BEGIN
            INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, body)
                VALUES ('delete', old.id, old.title, old.body);
        END""",
    ]


def create_search_tables(db: Executes, schema: str = "main") -> None:
    """The index's tables and triggers (``temp`` for a read-only catalog of an older schema)."""
    for statement in _tables_sql(schema):
        db.execute(statement)


def drop_search_tables(db: Executes) -> None:
    """Remove the index (its triggers go with its table)."""
    db.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    db.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")


def has_search_tables(db: Executes) -> bool:
    """True when the catalog (or this connection's temp schema) holds the index."""
    row = db.execute(
        "SELECT COUNT(*) FROM (SELECT name FROM sqlite_master UNION ALL"
        " SELECT name FROM sqlite_temp_master) WHERE name IN (?, ?)",
        (SEARCH_TABLE, FTS_TABLE),
    ).fetchone()
    return bool(row[0] == 2)


def index_case(
    db: Executes, key: CaseKey, metadata: Mapping[str, Any], text: str, *, defer: bool = False
) -> None:
    """Make *text* and *metadata* (a new latest version) what the index holds for the case.

    With *defer* the row waits for :func:`catch_up` (it is found all the same); without, it
    and any row still waiting go into the FTS index now.
    """
    published = metadata.get("published") or None
    url = str(metadata.get("url") or "")
    fetched_at = str(metadata.get("fetched_at") or "")
    # `serve` replays a page at /<collection>/<YYYYMMDDhhmmss>/<url>.
    stamp = "".join(ch for ch in fetched_at[:19] if ch.isdigit())
    db.execute(
        f"INSERT INTO {SEARCH_TABLE} (site, column_id, case_id, version, url, title, published,"
        " year, source, archived_page, indexed, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)"
        " ON CONFLICT (site, column_id, case_id) DO UPDATE SET version = excluded.version,"
        " url = excluded.url, title = excluded.title, published = excluded.published,"
        " year = excluded.year, source = excluded.source,"
        " archived_page = excluded.archived_page, indexed = 0, body = excluded.body",
        (
            key.site,
            key.column,
            key.case_id,
            int(metadata.get("version") or 0),
            url,
            str(metadata.get("title") or ""),
            published,
            published[:4] if published else None,
            metadata.get("source") or None,
            f"{stamp}/{url}" if stamp and url else None,
            text,
        ),
    )
    if not defer:
        catch_up(db)


def pending(db: Executes) -> int:
    """How many rows wait for :func:`catch_up`."""
    return int(db.execute(f"SELECT COUNT(*) FROM {SEARCH_TABLE} WHERE indexed = 0").fetchone()[0])


def catch_up(db: Executes) -> int:
    """Put every waiting row into the FTS index (in the caller's transaction); how many."""
    db.execute(
        f"INSERT INTO {FTS_TABLE} (rowid, title, body)"
        f" SELECT id, title, body FROM {SEARCH_TABLE} WHERE indexed = 0"
    )
    return int(db.execute(f"UPDATE {SEARCH_TABLE} SET indexed = 1 WHERE indexed = 0").rowcount)


@dataclass(frozen=True)
class IndexStats:
    """What filling the index found: cases indexed, and text files that were missing."""

    cases: int
    missing_text: tuple[Path, ...]


def archive_root(db: Executes) -> Path | None:
    """The folder of the catalog file *db* is connected to (None for an in-memory one)."""
    for row in db.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent
    return None


def fill_from_text_files(db: Executes, root: Path) -> IndexStats:
    """Store every case's latest version from its text file, waiting for :func:`catch_up`."""
    layout = ArchiveLayout(root)
    rows = db.execute(
        "SELECT c.site, c.column_id, c.case_id, v.metadata FROM main.cases c JOIN main.versions v"
        " ON v.site = c.site AND v.column_id = c.column_id AND v.case_id = c.case_id"
        " AND v.version = c.latest_version"
    ).fetchall()
    missing: list[Path] = []
    for site, column, case_id, document in rows:
        key = CaseKey(site, column, case_id)
        metadata = json.loads(document)
        try:
            text = read_case_text(layout, metadata)
        except FileNotFoundError:
            # The case stays findable by its title; `verify` reports the missing file.
            missing.append(layout.text_paths(key, metadata.get("published"))[0])
            text = ""
        index_case(db, key, metadata, text, defer=True)
    if missing:
        logger.warning(
            "%d text files are missing; their cases are indexed by title only (first: %s)",
            len(missing),
            missing[0],
        )
    return IndexStats(len(rows), tuple(missing))


def rebuild_index(db: Executes, root: Path) -> IndexStats:
    """Drop and rebuild the index from the text files, in the caller's transaction."""
    drop_search_tables(db)
    create_search_tables(db)
    stats = fill_from_text_files(db, root)
    catch_up(db)
    # One segment instead of one per batch of inserts: faster queries from then on.
    db.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
    return stats


def build_temporary_index(db: Executes, root: Path) -> IndexStats:
    """Rows in the connection's temp schema, for a read-only catalog that has no index.

    They stay unindexed: searching reads them directly, without the cost of tokenizing.
    """
    create_search_tables(db, "temp")
    return fill_from_text_files(db, root)


# -- searching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlighted:
    """Text with the character spans a query matched."""

    text: str
    spans: tuple[tuple[int, int], ...]

    def marked(self, before: str, after: str) -> str:
        """The text with *before*/*after* around each matched span."""
        out, at = [], 0
        for start, end in self.spans:
            out += [self.text[at:start], before, self.text[start:end], after]
            at = end
        out.append(self.text[at:])
        return "".join(out)


@dataclass(frozen=True)
class SearchHit:
    """One case a query found, best first."""

    key: CaseKey
    url: str
    title: Highlighted
    published: str | None
    source: str | None
    version: int
    withdrawn_at: str | None
    archived_page: str | None
    snippet: Highlighted
    score: float


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search besides the query: site, column, publication dates."""

    site: str | None = None
    column: str | None = None
    since: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, inclusive
    until: str | None = None


def _folds(text: str) -> bool:
    # Latin letters match in any case, as FTS5's trigram tokenizer matches them.
    return any("A" <= ch <= "Z" or "a" <= ch <= "z" for ch in text)


class _Compiler:
    """Turns a query tree into SQL over ``case_search AS s`` with named parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def where(self, node: Node) -> str:
        if isinstance(node, Term):
            pieces = node.pieces or (node.text,)
            return "(" + " AND ".join(self.holds(piece) for piece in pieces) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.where(node.child)})"
        joiner = " AND " if isinstance(node, And) else " OR "
        assert isinstance(node, And | Or)
        return "(" + joiner.join(self.where(child) for child in node.children) + ")"

    def holds(self, text: str) -> str:
        if len(text) >= TRIGRAM:
            phrase = '"' + text.replace('"', '""') + '"'
            return (
                f"(s.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH "
                f"{self.param(phrase)}) OR (s.indexed = 0 AND {self.contains(text)}))"
            )
        return self.contains(text)

    def contains(self, text: str) -> str:
        needle = self.param(text.lower() if _folds(text) else text)
        title, body = self._columns(text)
        return f"(instr({title}, {needle}) > 0 OR instr({body}, {needle}) > 0)"

    def score(self, terms: list[Term]) -> str:
        parts = []
        for term in terms:
            for text in (term.text, *term.pieces):
                needle = self.param(text.lower() if _folds(text) else text)
                title, body = self._columns(text)
                parts.append(
                    f"3.0 * {_count(title, needle)}"
                    f" + {_count(body, needle)} * 1000.0 / (length(s.body) + 1000)"
                )
        return " + ".join(parts) or "0"

    def whole(self, terms: list[Term]) -> str:
        """How many loose runs a case holds whole: they rank first."""
        return " + ".join(self.contains(term.text) for term in terms if term.loose) or "0"

    @staticmethod
    def _columns(text: str) -> tuple[str, str]:
        return ("lower(s.title)", "lower(s.body)") if _folds(text) else ("s.title", "s.body")


def _count(column: str, needle: str) -> str:
    return f"((length({column}) - length(replace({column}, {needle}, ''))) / length({needle}))"


def search(
    db: Executes, query: str | Node, filters: SearchFilters | None = None, limit: int = 20
) -> list[SearchHit]:
    """Cases matching *query*, best first (*limit* 0: all of them).

    Raises :class:`~caseharvest.archive.search_query.QuerySyntaxError` for a malformed query.
    """
    tree = parse_query(query) if isinstance(query, str) else query
    filters = filters or SearchFilters()
    terms = positive_terms(tree)
    compiler = _Compiler()
    whole = compiler.whole(terms)
    score = compiler.score(terms)
    conditions = [compiler.where(tree)]
    if filters.site:
        conditions.append(f"s.site = {compiler.param(filters.site)}")
    if filters.column:
        conditions.append(f"s.column_id = {compiler.param(filters.column)}")
    if filters.since:
        conditions.append(f"s.published >= {compiler.param(filters.since)}")
    if filters.until:
        until = compiler.param(filters.until)
        conditions.append(f"substr(s.published, 1, length({until})) <= {until}")
    sql = (
        f"SELECT s.id, {whole} AS whole, {score} AS score FROM {SEARCH_TABLE} s"
        f" WHERE {' AND '.join(conditions)}"
        " ORDER BY whole DESC, score DESC, s.published DESC, s.url"
    )
    if limit > 0:
        sql += f" LIMIT {int(limit)}"
    ranked = [(row[0], float(row[2])) for row in db.execute(sql, compiler.params)]
    return [_hit(db, row_id, score, terms) for row_id, score in ranked]


def _hit(db: Executes, row_id: int, score: float, terms: list[Term]) -> SearchHit:
    # Text is read per shown result, not carried through the ranking of every match.
    row = db.execute(
        "SELECT s.site, s.column_id, s.case_id, s.version, s.url, s.title, s.published, s.source,"
        f" s.archived_page, s.body, c.withdrawn_at FROM {SEARCH_TABLE} s LEFT JOIN cases c"
        " ON c.site = s.site AND c.column_id = s.column_id AND c.case_id = s.case_id"
        " WHERE s.id = ?",
        (row_id,),
    ).fetchone()
    (site, column, case_id, version, url, title, published, source, page, body, gone) = row
    needles = sorted(
        {text for term in terms for text in (term.text, *term.pieces)}, key=len, reverse=True
    )
    return SearchHit(
        key=CaseKey(site, column, case_id),
        url=url,
        title=Highlighted(title, _spans(title, needles)),
        published=published,
        source=source,
        version=version,
        withdrawn_at=gone,
        archived_page=page,
        snippet=snippet(body, needles),
        score=score,
    )


def _spans(text: str, needles: list[str]) -> tuple[tuple[int, int], ...]:
    """Where any needle occurs in *text*, merged, in order."""
    lowered = text.lower()
    # Folding that changes lengths (rare letters) would shift spans: then match exactly.
    can_fold = len(lowered) == len(text)
    found: list[tuple[int, int]] = []
    for needle in needles:
        haystack, pattern = (
            (lowered, needle.lower()) if can_fold and _folds(needle) else (text, needle)
        )
        found += [(m.start(), m.end()) for m in re.finditer(re.escape(pattern), haystack)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def snippet(body: str, needles: list[str]) -> Highlighted:
    """A one-line excerpt of *body* around the first match of the longest needle."""
    flat = " ".join(body.split())
    spans = _spans(flat, needles)
    anchor = 0
    for needle in needles:  # longest first: a whole phrase beats its pieces
        hits = _spans(flat, [needle])
        if hits:
            anchor = hits[0][0]
            break
    start = max(0, anchor - SNIPPET_BEFORE)
    end = min(len(flat), start + SNIPPET_LENGTH)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    inside = tuple(
        (max(s, start) + shift, min(e, end) + shift) for s, e in spans if e > start and s < end
    )
    return Highlighted(prefix + flat[start:end] + suffix, inside)
