"""Crawls of the CMS-family replicas, as users run them: `caseharvest` in a child process.

https sites are reached through the replica as an HTTP proxy with CONNECT (``https_proxy``),
as behind a corporate proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from caseharvest.cli import cli
from caseharvest.extract.quality import bigram_f1
from caseharvest.replica import FamilySite, ReplicaServer
from tests.conftest import FAST

TEXT_F1_FLOOR = 0.99


@dataclass
class Run:
    """One `caseharvest fetch` and its report."""

    archive: Path
    result: subprocess.CompletedProcess[str]

    reports: list[dict[str, Any]]  # the reports this run wrote (one per site)

    @property
    def report(self) -> dict[str, Any]:
        assert len(self.reports) == 1, self.output
        return self.reports[0]

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def fetch(archive: Path, replica: ReplicaServer, *args: str) -> Run:
    """`caseharvest fetch --archive ARCHIVE ARGS` through *replica* (http and https)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("no_proxy", "http_proxy", "https_proxy", "caseharvest_profiles")
    }
    env["http_proxy"] = env["https_proxy"] = replica.proxy_url
    env["PYTHONWARNINGS"] = "error::DeprecationWarning:caseharvest"
    runs = archive / "runs"
    before = set(runs.glob("*.json")) if runs.exists() else set()
    result = subprocess.run(
        [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    written = sorted(set(runs.glob("*.json")) - before) if runs.exists() else []
    return Run(archive, result, [json.loads(path.read_text("utf-8")) for path in written])


def export(archive: Path, site_name: str, *args: str) -> list[dict[str, Any]]:
    """The cases of one site of the archive, as `export --site NAME` writes them."""
    result = CliRunner().invoke(
        cli, ["export", "--archive", str(archive), "--site", site_name, *args]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def assert_gold(archive: Path, site_name: str, site: FamilySite) -> None:
    """Every listed case with a page is archived with the replica's title, date and text."""
    rows = {row["url"]: row for row in export(archive, site_name)}
    live = [case for case in site.listed() if case.status == 200]
    assert set(case.url for case in live) <= set(rows)
    for case in live:
        row = rows[case.url]
        assert (row["title"], row["published"]) == (case.title, case.published), case.url
        assert row["source"] == case.source, case.url
        f1 = bigram_f1(str(row["text"]), case.text)
        assert f1 >= TEXT_F1_FLOOR, f"{case.url}: text F1 {f1:.4f}"
        names = [item["name"] for item in row["attachments"]]
        assert names == [name for name, _ in case.attachments], case.url
