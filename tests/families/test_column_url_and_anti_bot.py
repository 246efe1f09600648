"""`fetch --column-url` on a site without a profile, and anti-bot answers stopping one site."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner

from caseharvest.capture.warc_reader import TornTail, iter_records
from caseharvest.cli import cli
from caseharvest.replica import (
    GenericConfig,
    GenericSite,
    HanwebVariantConfig,
    HanwebVariantSite,
    ReplicaServer,
    TrsConfig,
    TrsSite,
)
from caseharvest.replica.registry import FUJIAN_TRS
from tests.conftest import run_caseharvest
from tests.families.conftest import assert_gold, export, fetch

XIZANG = dataclasses.replace(FUJIAN_TRS, host="swt.xizang.gov.cn", cases=10, per_page=4)


def test_column_url_of_a_site_without_profile_then_its_probed_profile_for_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = TrsSite(XIZANG)
    archive = tmp_path / "archive"
    with ReplicaServer(sites=[site]) as replica:
        run = fetch(archive, replica, "--column-url", site.column_url, "-v")
        assert run.result.returncode == 0, run.output
        assert "recognised TRS WCM static publishing (listing style trs-static)" in run.output
        assert run.report["site"] == "swt.xizang.gov.cn" and run.report["full_walk"] is True
        assert_gold(archive, "swt.xizang.gov.cn", site)
        site.add_cases(1)
        rerun = fetch(archive, replica, "--column-url", site.column_url)
        assert rerun.result.returncode == 0, rerun.output
        assert (rerun.report["new"], rerun.report["full_walk"]) == (1, False)
        probe = run_caseharvest("probe", site.column_url, replica=replica)
    assert probe.returncode == 0, probe.stderr
    assert "family:   TRS WCM static publishing (listing style trs-static)" in probe.stdout
    # The first listed case with a page (pinned ones first, as the site lists them).
    newest = next(case for case in site.listed() if case.status == 200)
    assert f"sample case: {newest.url}" in probe.stdout
    assert f"  title:     {newest.title}" in probe.stdout
    rows = export(archive, "swt.xizang.gov.cn", "--all-versions")
    # Replay reads no listing: the site's WARC folder names its host, whose case pages are
    # recognised by their URL shapes, as the crawl recognised them.
    bare = tmp_path / "replayed-without-profile"
    result = CliRunner().invoke(cli, ["replay", str(archive / "warc"), "--archive", str(bare)])
    assert result.exit_code == 0, result.output
    assert export(bare, "swt.xizang.gov.cn", "--all-versions") == rows
    # The probe's profile, saved, does the same.
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    toml = probe.stdout.split("# ---- profile ----\n", 1)[1]
    (profiles / "swt.xizang.gov.cn.toml").write_text(toml, "utf-8")
    monkeypatch.setenv("CASEHARVEST_PROFILES", str(profiles))
    replayed = tmp_path / "replayed"
    result = CliRunner().invoke(cli, ["replay", str(archive / "warc"), "--archive", str(replayed)])
    assert result.exit_code == 0, result.output
    assert len(rows) == 10 and export(replayed, "swt.xizang.gov.cn", "--all-versions") == rows


def test_case_pattern_and_a_usage_error(tmp_path: Path) -> None:
    site = GenericSite(GenericConfig(host="commerce.other.gov.cn", cases=12, per_page=4))
    with ReplicaServer(sites=[site]) as replica:
        # Only the cases whose id is even: the pattern decides, across every page.
        pattern = r"/public/21711/\d*[02468]\.html$"
        run = fetch(
            tmp_path / "archive",
            replica,
            "--column-url",
            site.column_url,
            "--case-pattern",
            pattern,
        )
        assert run.result.returncode == 0, run.output
        rows = export(tmp_path / "archive", "commerce.other.gov.cn")
        expected = {c.url for c in site.listed() if c.status == 200 and int(c.article_id) % 2 == 0}
        assert {row["url"] for row in rows} == expected and expected
    bad = CliRunner().invoke(cli, ["fetch", "--case-pattern", "x", "--archive", str(tmp_path)])
    assert bad.exit_code == 2 and "--column-url" in bad.output
    bad = CliRunner().invoke(
        cli, ["fetch", "--column-url", "ftp://example.org/", "--archive", str(tmp_path / "a")]
    )
    assert bad.exit_code == 2 and "http(s) URL" in bad.output


def test_jiasule_stops_its_site_and_the_other_site_goes_on(tmp_path: Path) -> None:
    blocked = HanwebVariantSite(HanwebVariantConfig(cases=6, challenge=True))
    fine = TrsSite(dataclasses.replace(FUJIAN_TRS, cases=6))
    archive = tmp_path / "archive"
    with ReplicaServer(sites=[blocked, fine]) as replica:
        run = fetch(archive, replica, "jiangsu", "fujian")
    assert run.result.returncode == 1, run.output
    reports = {report["site"]: report for report in run.reports}
    assert reports["fujian"]["exit_code"] == 0 and reports["fujian"]["new"] == 5
    assert reports["jiangsu"]["exit_code"] == 1
    assert "加速乐/Jiasule" in " ".join(reports["jiangsu"]["fatal"])
    assert "Jiasule" in run.result.stderr


def test_a_waf_429_stops_the_site_at_once_without_retries(tmp_path: Path) -> None:
    site = TrsSite(TrsConfig(cases=30, per_page=5, waf_burst=6, waf_window=600.0))
    archive = tmp_path / "archive"
    with ReplicaServer(sites=[site]) as replica:
        run = fetch(archive, replica, "fujian")
    assert run.result.returncode == 1, run.output
    assert "HTTP 429" in " ".join(run.report["fatal"]) and "429" in run.result.stderr
    statuses = [
        (record.http_status, record.target_uri)
        for path in sorted((archive / "warc" / "fujian").glob("*.warc.gz"))
        for record in iter_records(path)
        if not isinstance(record, TornTail) and record.record_type == "response"
    ]
    refused = [url for status, url in statuses if status == 429]
    # Scrapy would retry a 429 twice by default: no URL was asked again, and only requests
    # already on their way when the first 429 came followed it.
    assert refused and len(refused) == len(set(refused)) <= 8
    assert run.report["fatal"] == [m for m in run.report["fatal"] if "429" in m][:1]
