"""`caseharvest search` and `reindex` on crawled, revised, replayed and upgraded archives."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.schema import SCHEMA_VERSION
from caseharvest.cli import cli
from caseharvest.commands import search as search_command
from tests.conftest import Crawl, run_caseharvest
from tests.find.conftest import archive_texts

FIXTURE_0_1 = Path(__file__).parents[1] / "fixtures" / "archive-0.1"


def found(archive: Path, query: str, *extra: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        cli,
        ["search", query, "--archive", str(archive), "--format", "jsonl", "--limit", "0", *extra],
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def holding(archive: Path, needle: str) -> set[str]:
    return {url for url, text in archive_texts(archive).items() if needle in text}


@pytest.mark.parametrize(
    "word", ["招商", "园区", "淄博", "改革", "氢能", "飞地", "开发区", "产业集群"]
)
def test_a_word_finds_exactly_the_cases_whose_title_or_text_holds_it(
    default_crawl: Crawl, word: str
) -> None:
    expected = holding(default_crawl.archive, word)
    assert {row["url"] for row in found(default_crawl.archive, word)} == expected
    assert {row["url"] for row in found(default_crawl.archive, f'"{word}"')} == expected


def test_rows_carry_what_a_reader_needs_and_the_best_match_comes_first(
    default_crawl: Crawl,
) -> None:
    rows = found(default_crawl.archive, "招商")
    assert rows, "the replica's cases talk about 招商"
    first = rows[0]
    assert {"url", "site", "title", "published", "snippet"} <= first.keys()
    assert first["site"] == "shandong" and str(first["published"])[:2] == "20"
    assert "招商" in str(first["snippet"]) or "招商" in str(first["title"])
    scores = [float(row["score"]) for row in rows]  # type: ignore[arg-type]
    assert scores == sorted(scores, reverse=True)
    for start, end in first["highlights"]:  # type: ignore[union-attr]
        assert str(first["snippet"])[start:end] == "招商"


def test_the_table_highlights_matches_and_no_match_prints_nothing(default_crawl: Crawl) -> None:
    runner = CliRunner()
    shown = runner.invoke(
        cli, ["search", "开发区", "--archive", str(default_crawl.archive)], color=True
    )
    assert shown.exit_code == 0, shown.output
    assert click.style("开发区", bold=True, fg="red") in shown.output
    assert shown.output.count("http://commerce.shandong.gov.cn/art/") == 20  # --limit's default
    nothing = runner.invoke(cli, ["search", "量子计算机", "--archive", str(default_crawl.archive)])
    assert (nothing.exit_code, nothing.output) == (0, "")
    csv = runner.invoke(
        cli, ["search", "量子计算机", "--format", "csv", "--archive", str(default_crawl.archive)]
    )
    assert (csv.exit_code, csv.output) == (0, "")


def test_query_and_date_mistakes_are_usage_errors(default_crawl: Crawl, tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["招商 AND"], ["招商", "--since", "2020-02-30"], ["招商", "--until", "last year"]):
        result = runner.invoke(cli, ["search", *args, "--archive", str(default_crawl.archive)])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    missing = runner.invoke(cli, ["search", "招商", "--archive", str(tmp_path)])
    assert missing.exit_code == 1 and "no caseharvest archive" in missing.output


def test_filters_by_date_site_and_column(default_crawl: Crawl) -> None:
    every = found(default_crawl.archive, "开发区")
    since = found(default_crawl.archive, "开发区", "--since", "2022")
    assert since and {r["url"] for r in since} == {
        r["url"] for r in every if str(r["published"]) >= "2022"
    }
    until = found(default_crawl.archive, "开发区", "--until", "2021-06")
    assert {r["url"] for r in until} == {
        r["url"] for r in every if str(r["published"])[:7] <= "2021-06"
    }
    assert found(default_crawl.archive, "开发区", "--site", "guangdong") == []
    column = found(default_crawl.archive, "开发区", "--column", "21482")
    assert column and [r["url"] for r in column] == [
        r["url"] for r in every if r["column"] == "21482"
    ]


def test_fetch_keeps_the_index_current_with_the_latest_version(revised_crawl: Crawl) -> None:
    archive = revised_crawl.archive
    [revised] = [m for m in (archive / "text").rglob("*.v1.json")]
    old_text = revised.with_suffix(".txt").read_text("utf-8").splitlines()
    new_text = revised.with_name(revised.name.replace(".v1", "")).with_suffix(".txt")
    added = [line for line in new_text.read_text("utf-8").splitlines() if line not in old_text]
    assert added, "the revision added a paragraph"
    url = json.loads(revised.read_text("utf-8"))["url"]
    rows = found(archive, f'"{added[0][:12]}"')
    assert url in {row["url"] for row in rows}
    [row] = [row for row in rows if row["url"] == url]
    assert row["version"] == 2


def test_replay_stores_rows_that_search_finds_before_and_after_the_catch_up(
    default_crawl: Crawl, tmp_path: Path
) -> None:
    replayed = tmp_path / "replayed"
    result = run_caseharvest(
        "replay", str(default_crawl.archive / "warc"), "--archive", str(replayed), "-q"
    )
    assert result.returncode == 0, result.stderr
    db = sqlite3.connect(replayed / "catalog.sqlite3")
    waiting = db.execute("SELECT COUNT(*) FROM case_search WHERE indexed = 0").fetchone()[0]
    db.close()
    assert waiting == len(archive_texts(replayed)) > 0  # replay leaves the tokenizing for later
    # Read-only first: rows waiting for the catch-up are searched directly.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_command, "_writable", lambda archive: False)
        before = found(replayed, "招商 NOT 淄博")
    after = found(replayed, "招商 NOT 淄博")  # writable: caught up first
    db = sqlite3.connect(replayed / "catalog.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM case_search WHERE indexed = 0").fetchone()[0] == 0
    db.close()
    fetched = found(default_crawl.archive, "招商 NOT 淄博")
    assert [r["url"] for r in before] == [r["url"] for r in after] == [r["url"] for r in fetched]


def test_an_archive_of_0_1_gets_its_index_when_first_opened(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(FIXTURE_0_1, archive)
    rows = found(archive, "链长制")
    assert {row["url"] for row in rows} == holding(archive, "链长制") != set()
    db = sqlite3.connect(archive / "catalog.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT COUNT(*) FROM case_search WHERE indexed = 1").fetchone()[0] == 11
    db.close()


def _as_version_2(archive: Path) -> None:
    db = sqlite3.connect(archive / "catalog.sqlite3")
    db.execute("DROP TABLE case_search_fts")
    db.execute("DROP TABLE case_search")
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()


def test_a_read_only_archive_of_schema_2_is_searched_without_changing_it(
    default_crawl_copy: Path,
) -> None:
    _as_version_2(default_crawl_copy)
    before = (default_crawl_copy / "catalog.sqlite3").read_bytes()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_command, "_writable", lambda archive: False)
        rows = found(default_crawl_copy, "园区")
    assert {row["url"] for row in rows} == holding(default_crawl_copy, "园区") != set()
    assert (default_crawl_copy / "catalog.sqlite3").read_bytes() == before


def test_reindex_rebuilds_the_index_and_respects_the_lock(default_crawl_copy: Path) -> None:
    db = sqlite3.connect(default_crawl_copy / "catalog.sqlite3")
    db.execute("DELETE FROM case_search WHERE id % 2 = 0")
    db.commit()
    db.close()
    assert len(found(default_crawl_copy, "开发区")) < len(holding(default_crawl_copy, "开发区"))
    runner = CliRunner()
    with ArchiveLock(default_crawl_copy):
        locked = runner.invoke(cli, ["reindex", "--archive", str(default_crawl_copy)])
    assert locked.exit_code == 75, locked.output
    result = runner.invoke(cli, ["reindex", "--archive", str(default_crawl_copy)])
    assert result.exit_code == 0, result.output
    cases = len(archive_texts(default_crawl_copy))
    assert result.output.strip() == f"indexed {cases} cases"
    assert {r["url"] for r in found(default_crawl_copy, "开发区")} == holding(
        default_crawl_copy, "开发区"
    )
