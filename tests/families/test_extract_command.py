"""`caseharvest extract PAGE`: what would be stored for one saved page, with the rules chosen."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from caseharvest.archive.case_files import METADATA_KEYS
from caseharvest.cli import cli
from tests.gold_set import GOLD_DIR

PAGE = GOLD_DIR / "47-zhejiang-jpaas-attachments.html"


def _gold() -> dict[str, object]:
    gold: dict[str, object] = json.loads(PAGE.with_suffix(".json").read_text("utf-8"))
    return gold


def test_json_has_the_case_keys_and_the_profile_of_the_urls_site() -> None:
    gold = _gold()
    result = CliRunner().invoke(
        cli, ["extract", str(PAGE), "--url", str(gold["url"]), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)
    assert list(row) == [*METADATA_KEYS, "text"]
    assert (row["site"], row["title"], row["published"]) == (
        "zhejiang",
        gold["title"],
        gold["published"],
    )
    # The zhejiang profile names the jpaas download gateway: its links are attachments.
    assert [a["url"] for a in row["attachments"]] == [
        a["url"]
        for a in gold["attachments"]  # type: ignore[attr-defined]
    ]
    assert row["text"] == PAGE.with_suffix(".txt").read_text("utf-8").removesuffix("\n")


def test_text_format_and_usage_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["extract", str(PAGE), "--site", "zhejiang"])
    assert result.exit_code == 0, result.output
    assert "rules:       profile zhejiang" in result.output and "title:" in result.output
    both = CliRunner().invoke(
        cli, ["extract", str(PAGE), "--site", "zhejiang", "--profile", str(PAGE)]
    )
    assert both.exit_code == 2 and "not both" in both.output
    missing = CliRunner().invoke(cli, ["extract", str(tmp_path / "nothing.html")])
    assert missing.exit_code == 1 and "cannot read" in missing.output
