"""`caseharvest history` and `diff` on an archive holding a case in two versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from caseharvest.cli import cli
from tests.conftest import Crawl


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def revised_case(revised_crawl: Crawl) -> dict[str, object]:
    """The revised case's version 1 metadata, plus its key and paragraphs old and new."""
    [older] = list((revised_crawl.archive / "text").rglob("*.v1.json"))
    latest = older.with_name(older.name.replace(".v1", ""))
    document = json.loads(older.read_text("utf-8"))
    return {
        **document,
        "key": f"{document['site']}/{document['column']}/{document['article_id']}",
        "old_lines": older.with_suffix(".txt").read_text("utf-8").splitlines(),
        "new_lines": latest.with_suffix(".txt").read_text("utf-8").splitlines(),
    }


def test_diff_shows_the_added_paragraph_of_the_last_two_versions(
    revised_crawl: Crawl, revised_case: dict[str, object]
) -> None:
    result = run("diff", str(revised_case["key"]), "--archive", str(revised_crawl.archive))
    assert result.exit_code == 0, result.output
    added = [line for line in revised_case["new_lines"] if line not in revised_case["old_lines"]]  # type: ignore[attr-defined]
    assert added
    lines = result.output.splitlines()
    assert [
        line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")
    ] == added
    assert not [line for line in lines if line.startswith("-") and not line.startswith("---")]
    assert f"--- {revised_case['key']} v1" in result.output
    assert f"+++ {revised_case['key']} v2" in result.output
    assert "metadata: unchanged" in result.output


def test_diff_by_url_with_versions_named_and_reversed(
    revised_crawl: Crawl, revised_case: dict[str, object]
) -> None:
    url = str(revised_case["url"])
    result = run("diff", url, "--from", "2", "--to", "1", "--archive", str(revised_crawl.archive))
    assert result.exit_code == 0, result.output
    removed = [
        x for x in result.output.splitlines() if x.startswith("-") and not x.startswith("---")
    ]
    assert len(removed) == 1 and removed[0][1:] not in revised_case["old_lines"]  # type: ignore[operator]
    same = run("diff", url, "--from", "1", "--to", "1", "--archive", str(revised_crawl.archive))
    assert same.exit_code == 0 and "text: unchanged" in same.output


def test_diff_mistakes_get_messages_not_tracebacks(
    revised_crawl: Crawl, revised_case: dict[str, object]
) -> None:
    archive = str(revised_crawl.archive)
    wrong_version = run("diff", str(revised_case["key"]), "--from", "7", "--archive", archive)
    assert wrong_version.exit_code == 2 and "no version 7 (it has 1, 2)" in wrong_version.output
    unknown = run("diff", "shandong/21482/1", "--archive", archive)
    assert unknown.exit_code == 1 and "holds no case shandong/21482/1" in unknown.output
    malformed = run("history", "not-a-key", "--archive", archive)
    assert malformed.exit_code == 1 and "SITE/COLUMN/ID" in malformed.output
    for result in (wrong_version, unknown, malformed):
        assert "Traceback" not in result.output


def test_diff_of_a_case_with_one_version_says_so(revised_crawl: Crawl) -> None:
    single = next(
        p
        for p in (revised_crawl.archive / "text").rglob("*.json")
        if ".v" not in p.name and not p.with_name(p.stem + ".v1.json").exists()
    )
    document = json.loads(single.read_text("utf-8"))
    result = run("diff", document["url"], "--archive", str(revised_crawl.archive))
    assert result.exit_code == 0
    assert (result.stdout, "has only one version" in result.stderr) == ("", True)


def test_history_lists_versions_and_captures_with_their_warc_records(
    revised_crawl: Crawl, revised_case: dict[str, object]
) -> None:
    result = run("history", str(revised_case["url"]), "--archive", str(revised_crawl.archive))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{revised_case['key']}  {revised_case['url']}  (archived)")
    versions = [line for line in lines if line.startswith("  v")]
    assert [line.split()[0] for line in versions] == ["v1", "v2"] and "(latest)" in versions[1]
    assert (
        f"warc/shandong/{revised_case['warc_file']} @ {revised_case['warc_offset']}" in versions[0]
    )
    captures = lines[
        lines.index(next(x for x in lines if x.startswith("captures of the page"))) + 1 :
    ]
    assert len(captures) == 2  # the first fetch and the revalidation's changed page
    for line in versions + captures:
        name = line.split("warc/shandong/")[1].split(" @ ")[0]
        assert (Path(revised_crawl.archive) / "warc" / "shandong" / name).is_file()
