"""The spider under plain Scrapy (what Scrapyd runs) does what `caseharvest fetch` does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from caseharvest.archive.upgrade import open_catalog
from caseharvest.replica import ReplicaConfig, ReplicaServer
from tests.conftest import Crawl

ROOT = Path(__file__).parents[2]


def scrapy_crawl(
    replica: ReplicaServer, *arguments: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "no_proxy")}
    env["http_proxy"] = replica.proxy_url
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "column",
            *arguments,
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "CASEHARVEST_CONTACT=mailto:tests@example.invalid",
        ],
        cwd=ROOT,  # scrapy.cfg names caseharvest's settings
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def archived_texts(archive: Path) -> dict[str, str]:
    catalog = open_catalog(archive, read_only=True)
    try:
        return {
            str(case.key): case.metadata["text_sha256"]
            for case in catalog.iter_cases()
            if case.metadata is not None
        }
    finally:
        catalog.close()


def test_scrapy_crawl_column_archives_what_fetch_archives(
    tmp_path: Path, default_crawl: Crawl
) -> None:
    archive = tmp_path / "archive"
    with ReplicaServer(ReplicaConfig(), log_path=tmp_path / "replica.jsonl") as replica:
        result = scrapy_crawl(replica, "-a", "site=shandong", "-a", f"archive={archive}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "finished with exit code 0: 63 new" in result.stderr
    (report_path,) = (archive / "runs").glob("*.json")
    report = json.loads(report_path.read_text("utf-8"))
    assert report["exit_code"] == 0 and report["new"] == 63 and report["full_walk"]
    assert archived_texts(archive) == archived_texts(default_crawl.archive)
    assert not list((archive / "warc/shandong").glob("*.open"))
    assert list((archive / "indexes/shandong").glob("*.cdxj"))
    status = subprocess.run(
        [sys.executable, "-m", "caseharvest", "status", "--archive", str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert status.returncode == 0 and report["run_id"] in status.stdout


def test_scrapy_crawl_without_a_site_says_what_is_missing(tmp_path: Path) -> None:
    with ReplicaServer(ReplicaConfig(cases=3)) as replica:
        result = scrapy_crawl(replica, "-a", f"archive={tmp_path / 'a'}", timeout=60)
    assert result.returncode != 0
    assert "spider argument site=NAME" in result.stderr and "is missing" in result.stderr
    assert not (tmp_path / "a").exists()
