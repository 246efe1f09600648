"""The full-text index on hand-made cases: what matches, in which order, with which snippet."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from caseharvest.archive import search_index
from caseharvest.archive.schema import create_tables
from caseharvest.archive.search_index import SearchFilters, search
from caseharvest.model import CaseKey

CASES = {
    # id: (title, published, body)
    "whole": ("飞地园区建设", "2021-03-01", "某开发区发展飞地经济，与对口城市共建园区。"),
    "apart": ("产业合作", "2022-05-02", "建设飞地园区，带动区域经济协调发展。"),
    "local": ("本地经济", "2023-07-03", "本地经济持续向好，招商引资成效明显。"),
    "hydrogen": ("氢能产业", "2024-01-04", "布局氢能产业链，引进Hydrogen项目3个。"),
    "title": ("招商新举措", "2020-02-05", "创新工作机制。"),
}


def _catalog(defer: bool) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    create_tables(db)
    for case_id, (title, published, body) in CASES.items():
        metadata = {
            "url": f"http://example.gov.cn/art/{case_id}.html",
            "title": title,
            "published": published,
            "version": 1,
            "fetched_at": "2024-06-01T02:03:04Z",
        }
        search_index.index_case(db, CaseKey("demo", "1", case_id), metadata, body, defer=defer)
    db.commit()
    return db


@pytest.fixture(params=[False, True], ids=["indexed", "waiting-for-catch-up"])
def db(request: pytest.FixtureRequest) -> Iterator[sqlite3.Connection]:
    """Every test runs on rows in the FTS index and on rows replay left for a catch-up."""
    connection = _catalog(defer=request.param)
    assert search_index.pending(connection) == (len(CASES) if request.param else 0)
    yield connection
    connection.close()


def ids(db: sqlite3.Connection, query: str, **filters: str) -> list[str]:
    return [hit.key.case_id for hit in search(db, query, SearchFilters(**filters), limit=0)]


def test_two_characters_find_every_case_holding_them_and_nothing_else(
    db: sqlite3.Connection,
) -> None:
    assert sorted(ids(db, "飞地")) == ["apart", "whole"]
    assert sorted(ids(db, "经济")) == ["apart", "local", "whole"]
    assert ids(db, "氢能") == ["hydrogen"]
    assert ids(db, "招商") == ["title", "local"]  # a title hit ranks first
    assert ids(db, "飞机") == []


def test_a_long_run_ranks_the_case_holding_it_whole_first(db: sqlite3.Connection) -> None:
    assert ids(db, "飞地经济") == ["whole", "apart"]  # not 本地经济: it lacks 飞地
    assert ids(db, '"飞地经济"') == ["whole"]


def test_and_or_not_and_latin_case(db: sqlite3.Connection) -> None:
    assert ids(db, "飞地 AND 园区 NOT 对口") == ["apart"]
    assert sorted(ids(db, "氢能 OR 本地")) == ["hydrogen", "local"]
    assert ids(db, "NOT 经济 NOT 氢能") == ["title"]
    assert ids(db, "hydrogen") == ["hydrogen"]
    assert ids(db, "HY") == ["hydrogen"]  # two Latin letters: instr, folded like trigrams


def test_filters_narrow_by_site_column_and_dates(db: sqlite3.Connection) -> None:
    assert sorted(ids(db, "经济", since="2022")) == ["apart", "local"]
    assert ids(db, "经济", until="2021-03") == ["whole"]
    assert ids(db, "经济", since="2022-05-03", until="2023-07-03") == ["local"]
    assert ids(db, "经济", site="other") == []
    assert len(ids(db, "经济", site="demo", column="1")) == 3


def test_snippets_and_titles_mark_what_matched(db: sqlite3.Connection) -> None:
    [hit] = search(db, '"飞地经济"')
    assert hit.snippet.marked("[", "]") == "某开发区发展[飞地经济]，与对口城市共建园区。"
    [hit] = search(db, "招商 新举措")
    assert hit.title.marked("[", "]") == "[招商新举措]"
    assert hit.archived_page == "20240601020304/http://example.gov.cn/art/title.html"


def test_a_new_version_replaces_the_text_the_index_holds(db: sqlite3.Connection) -> None:
    metadata = {"url": "http://example.gov.cn/art/local.html", "title": "本地经济", "version": 2}
    search_index.index_case(db, CaseKey("demo", "1", "local"), metadata, "氢能示范。")
    assert sorted(ids(db, "氢能")) == ["hydrogen", "local"]
    assert "local" not in ids(db, "招商引资")
    assert search_index.pending(db) == 0
    # FTS5 raises when its index does not match the rows it was built from.
    db.execute("INSERT INTO case_search_fts(case_search_fts) VALUES ('integrity-check')")


def test_a_row_changed_by_hand_stays_in_step_with_the_index(db: sqlite3.Connection) -> None:
    search_index.catch_up(db)
    db.execute("UPDATE case_search SET title = '氢能招商' WHERE case_id = 'whole'")
    assert sorted(ids(db, "氢能招商")) == ["whole"]
    assert "whole" not in ids(db, "园区建设")
    db.execute("DELETE FROM case_search WHERE case_id = 'hydrogen'")
    assert ids(db, "氢能产业") == []
    db.execute("INSERT INTO case_search_fts(case_search_fts) VALUES ('integrity-check')")
