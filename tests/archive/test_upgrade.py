"""Archives of 0.1 keep working: upgraded in place on first use, losing nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseharvest.archive.catalog import Catalog
from caseharvest.archive.schema import SCHEMA_VERSION, SchemaError
from caseharvest.archive.upgrade import open_catalog
from caseharvest.cli import cli
from caseharvest.model import CaseKey, CaseStatus

FIXTURE = Path(__file__).parents[1] / "fixtures" / "archive-0.1"


def v01_snapshot(path: Path) -> dict[str, object]:
    """What a 0.1 catalog holds, read with plain SQL against its own schema."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return {
            "cases": sorted(
                (
                    r["site"],
                    r["url"],
                    r["article_id"],
                    r["column_id"],
                    r["status"],
                    r["latest_version"],
                    r["withdrawn_at"],
                )
                for r in db.execute("SELECT * FROM cases")
            ),
            "versions": sorted(
                (r["url"], r["version"], r["content_sha256"], r["metadata"])
                for r in db.execute("SELECT * FROM versions")
            ),
            "captures": sorted(tuple(r) for r in db.execute("SELECT * FROM captures")),
            "runs": sorted(tuple(r) for r in db.execute("SELECT * FROM runs")),
            "version": db.execute("PRAGMA user_version").fetchone()[0],
        }
    finally:
        db.close()


@pytest.fixture
def old_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(FIXTURE, archive)
    return archive


def test_the_fixture_is_what_0_1_wrote(old_archive: Path) -> None:
    before = v01_snapshot(old_archive / "catalog.sqlite3")
    assert before["version"] == 1
    assert len(before["cases"]) == 12 and len(before["versions"]) == 12  # type: ignore[arg-type]
    assert (old_archive / "text/shandong/2022/12979863.v1.txt").exists()


def test_an_archive_of_0_1_is_upgraded_in_place_losing_nothing(old_archive: Path) -> None:
    before = v01_snapshot(old_archive / "catalog.sqlite3")
    old_texts = {p.name: p.read_bytes() for p in (old_archive / "text").rglob("*.*")}

    catalog = open_catalog(old_archive)
    try:
        assert catalog.upgraded_from == 1
        cases = {case.url: case for case in catalog.iter_cases()}
        assert (
            sorted(
                (
                    c.site,
                    c.url,
                    c.key.case_id,
                    c.key.column,
                    c.status,
                    c.latest_version,
                    c.withdrawn_at,
                )
                for c in cases.values()
            )
            == before["cases"]
        )
        versions = sorted(
            (case.url, v.version, v.content_sha256, json.dumps(v.metadata, ensure_ascii=False))
            for case in cases.values()
            for v in catalog.versions(case.key)
        )
        assert versions == before["versions"]
        assert len(catalog.captures()) == len(before["captures"])  # type: ignore[arg-type]
        assert [r.id for r in catalog.runs(10)] == sorted(
            (r[0] for r in before["runs"]),
            reverse=True,  # type: ignore[attr-defined]
        )
        assert catalog.latest_version(CaseKey("shandong", "21482", "12979863")).version == 2  # type: ignore[union-attr]
    finally:
        catalog.close()

    db = sqlite3.connect(old_archive / "catalog.sqlite3")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    # Every text file moved to text/<site>/<column>/<year>/, byte for byte; none left behind.
    new_texts = {p.name: p.read_bytes() for p in (old_archive / "text").rglob("*.*")}
    assert new_texts == old_texts
    assert all(
        p.relative_to(old_archive / "text").parts[:2] == ("shandong", "21482")
        for p in (old_archive / "text").rglob("*.*")
    )
    assert (old_archive / "text/shandong/21482/2022/12979863.v1.txt").exists()


def test_the_upgraded_archive_passes_verify_and_exports_as_before(old_archive: Path) -> None:
    runner = CliRunner()
    verify = runner.invoke(cli, ["verify", "--archive", str(old_archive)])
    assert verify.exit_code == 0, verify.output
    assert "all good" in verify.output
    rows = runner.invoke(cli, ["export", "--archive", str(old_archive), "--all-versions"])
    assert rows.exit_code == 0, rows.output
    exported = [json.loads(line) for line in rows.output.splitlines()]
    assert len(exported) == 12  # 11 latest versions + one older version
    assert {row["column"] for row in exported} == {"21482"}
    assert all(row["text"] for row in exported)


def test_a_run_after_the_upgrade_continues_the_archive(old_archive: Path) -> None:
    catalog = open_catalog(old_archive)
    try:
        known = catalog.case_keys("shandong", statuses=(CaseStatus.ARCHIVED, CaseStatus.DEAD))
        assert len(known) == 12
        assert catalog.last_full_walk("shandong", "21482") is not None  # 0.1's full walk counts
    finally:
        catalog.close()
    assert open_catalog(old_archive).upgraded_from == SCHEMA_VERSION  # a second open: nothing to do


def test_a_catalog_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    db = sqlite3.connect(archive / "catalog.sqlite3")
    db.execute("CREATE TABLE runs (id TEXT)")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(SchemaError, match="newer caseharvest"):
        Catalog.for_archive(archive)
    result = CliRunner().invoke(cli, ["status", "--archive", str(archive)])
    assert result.exit_code == 1
    assert "newer caseharvest" in result.output and "Traceback" not in result.output


def test_a_damaged_catalog_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "catalog.sqlite3").write_bytes(b"this is not a database" * 100)
    for command in ("status", "verify", "export"):
        result = CliRunner().invoke(cli, [command, "--archive", str(archive)])
        assert result.exit_code == 1, (command, result.output)
        assert "damaged" in result.output and "Traceback" not in result.output
