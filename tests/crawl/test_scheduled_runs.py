"""Scheduled runs: incremental, revalidating, crash-safe, one run per archive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from caseharvest.archive.catalog import Catalog
from caseharvest.cli import cli
from caseharvest.replica import Exchange, ReplicaServer
from tests.conftest import FAST, fetch, run_caseharvest

CASE_PAGE = "/art/"
WAIT_SECONDS = 60  # upper bound for an event; tests never sleep


def when(replica: ReplicaServer, predicate: Callable[[Exchange], bool]) -> threading.Event:
    """An event set once the replica has answered a request matching *predicate*."""
    event = threading.Event()
    record = replica.record

    def recording(exchange: Exchange) -> None:
        record(exchange)
        if predicate(exchange):
            event.set()

    replica.record = recording  # type: ignore[method-assign]
    return event


def case_requests(replica: ReplicaServer) -> list[str]:
    return [e.url for e in replica.exchanges() if CASE_PAGE in e.url]


def start_fetch(archive: Path, replica: ReplicaServer, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy")}
    env["http_proxy"] = replica.proxy_url
    return subprocess.Popen(
        [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def verify(archive: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["verify", "--archive", str(archive)])
    return result.exit_code, result.output


def test_incremental_rerun_and_revalidate(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    first = fetch(archive, replica)
    assert first.result.returncode == 0, first.result.stderr
    first_requests = len(replica.exchanges())

    replica.clear_log()
    unchanged = fetch(archive, replica)
    assert unchanged.result.returncode == 0, unchanged.result.stderr
    assert [e.url for e in replica.exchanges()] == [
        "http://commerce.shandong.gov.cn/robots.txt",
        "http://commerce.shandong.gov.cn/col/col21482/index.html",
    ], "nothing new: one request after robots.txt"

    new = replica.site.add_cases(3)
    revised = replica.site.revise(replica.site.listed()[20].article_id)
    replica.clear_log()
    plain = fetch(archive, replica)
    assert plain.result.returncode == 0, plain.result.stderr
    assert sorted(case_requests(replica)) == sorted(c.url for c in new)
    others = [e.url for e in replica.exchanges() if CASE_PAGE not in e.url]
    assert all(
        url.endswith(("robots.txt", "index.html")) or "dataproxy.jsp" in url or "downfile" in url
        for url in others
    ), others
    assert plain.report["new"] == 3

    replica.clear_log()
    again = fetch(archive, replica, "--revalidate")
    assert again.result.returncode == 0, again.result.stderr
    statuses = Counter(e.status for e in replica.exchanges() if CASE_PAGE in e.url)
    archived = [c for c in replica.site.listed() if c.status == 200]
    assert statuses == {304: len(archived) - 1, 200: 1}, statuses
    assert again.report["revised"] == 1 and again.report["unchanged"] == len(archived) - 1
    assert again.report["records"]["revisit"] >= len(archived) - 1

    rows = CliRunner().invoke(cli, ["export", "--archive", str(archive), "--all-versions"])
    versions = [json.loads(line) for line in rows.output.splitlines()]
    of_revised = sorted(row["version"] for row in versions if row["url"] == revised.url)
    assert of_revised == [1, 2]
    latest = [
        json.loads(line)
        for line in CliRunner()
        .invoke(cli, ["export", "--archive", str(archive)])
        .output.splitlines()
    ]
    row = next(r for r in latest if r["url"] == revised.url)
    assert row["version"] == 2 and "".join(revised.text.split()) == "".join(row["text"].split())
    folder = archive / "text/shandong/21482" / revised.published[:4]
    assert (folder / f"{revised.article_id}.v1.txt").exists()
    assert json.loads((folder / f"{revised.article_id}.json").read_text())["version"] == 2
    assert verify(archive)[0] == 0
    print(
        f"requests: first {first_requests}, unchanged rerun 2, revalidate "
        f"{len(replica.exchanges())}"
    )


def test_kill_9_mid_run_loses_nothing(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    twentieth = when(replica, lambda e: len(case_requests(replica)) >= 20)
    process = start_fetch(archive, replica, "-s", "DOWNLOAD_DELAY=0.05")
    assert twentieth.wait(WAIT_SECONDS), "the run never got going"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=WAIT_SECONDS)
    assert list((archive / "warc/shandong").glob("*.open")), "killed while a file was open"

    rerun = fetch(archive, replica)
    assert rerun.result.returncode == 0, rerun.result.stderr
    assert any("recovered" in w for w in rerun.report["warnings"])
    assert not list(archive.rglob("*.open")) and not list(archive.rglob("*.tmp"))
    code, output = verify(archive)
    assert code == 0, output
    catalog = Catalog.for_archive(archive)
    try:
        cases = catalog.cases("shandong", status="archived")
        assert len(cases) == len([c for c in replica.site.listed() if c.status == 200])
        assert all(case.latest_version == 1 for case in cases), "every case archived once"
        per_run = Counter((c.url, c.warc_file) for c in catalog.captures() if c.status == 200)
        assert max(per_run.values()) == 1, "no duplicate records for one case in one run"
    finally:
        catalog.close()


def test_second_run_on_the_same_archive_exits_75(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    listing_read = when(replica, lambda e: e.url.endswith("index.html"))
    first = start_fetch(archive, replica, "-s", "DOWNLOAD_DELAY=0.02")
    assert listing_read.wait(WAIT_SECONDS)
    second = run_caseharvest("fetch", "--archive", str(archive), "--quiet", *FAST, replica=replica)
    assert second.returncode == 75
    assert second.stderr.count("\n") == 1 and f"pid {first.pid}" in second.stderr
    assert first.wait(WAIT_SECONDS) == 0
    assert len(list((archive / "runs").glob("*.json"))) == 1, "no report for the locked run"


def test_sigterm_stops_gracefully(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    tenth = when(replica, lambda e: len(case_requests(replica)) >= 10)
    process = start_fetch(archive, replica, "-s", "DOWNLOAD_DELAY=0.05")
    assert tenth.wait(WAIT_SECONDS)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 143, stderr
    assert "signal" in stderr
    assert not list(archive.rglob("*.open")), "WARC file closed properly"
    assert verify(archive)[0] == 0
    report = json.loads(next((archive / "runs").glob("*.json")).read_text())
    assert report["exit_code"] == 143


def test_withdrawn_cases_are_kept_and_marked(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    assert fetch(archive, replica).result.returncode == 0
    gone = replica.site.listed()[5]
    replica.site.cases.remove(gone)
    full = fetch(archive, replica, "--full")
    assert full.result.returncode == 0, full.result.stderr
    assert full.report["withdrawn"] == [gone.url]
    rows = CliRunner().invoke(cli, ["export", "--archive", str(archive)]).output.splitlines()
    row = next(json.loads(line) for line in rows if gone.url in line)
    assert row["withdrawn_at"] and row["text"], "withdrawn, yet its text stays"


def test_status_and_verify_report_problems(default_crawl_copy: Path) -> None:
    archive = default_crawl_copy
    result = CliRunner().invoke(cli, ["status", "--archive", str(archive)])
    assert result.exit_code == 0, result.output
    assert "63 cases archived" in result.output
    assert verify(archive)[0] == 0

    text = next((archive / "text/shandong").rglob("*.txt"))
    text.write_text(text.read_text("utf-8") + "被改动", "utf-8")
    warc = next((archive / "warc/shandong").glob("*.warc.gz"))
    with warc.open("r+b") as handle:
        handle.truncate(warc.stat().st_size - 100)
    code, output = verify(archive)
    assert code == 1
    assert f"{text}: sha256" in output
    assert "bytes after the last whole record" in output


def test_status_fails_after_a_failed_run(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    from caseharvest.replica import ReplicaConfig

    archive = tmp_path / "archive"
    assert fetch(archive, start_replica(ReplicaConfig(fault="csrf"))).result.returncode == 1
    result = CliRunner().invoke(cli, ["status", "--archive", str(archive)])
    assert result.exit_code == 1


def test_quiet_prints_nothing_on_success(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    crawl = fetch(tmp_path / "archive", start_replica(), "--quiet", "--limit", "2")
    assert crawl.result.returncode == 0
    assert crawl.result.stdout == "" and crawl.result.stderr == ""


def test_known_case_answering_404_is_withdrawn_on_revalidate(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    assert fetch(archive, replica).result.returncode == 0
    gone = replica.site.listed()[3]
    gone.status = 404
    again = fetch(archive, replica, "--revalidate")
    assert again.result.returncode == 0, again.result.stderr
    assert again.report["withdrawn"] == [gone.url]
    rows = CliRunner().invoke(cli, ["export", "--archive", str(archive)]).output.splitlines()
    row = next(json.loads(line) for line in rows if gone.url in line)
    assert row["withdrawn_at"] and row["text"]


def test_a_listing_far_smaller_than_the_archive_is_an_error(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    replica = start_replica()
    assert fetch(archive, replica).result.returncode == 0
    del replica.site.cases[20:]  # the site now lists 20 of the 64 cases the archive knows
    broken = fetch(archive, replica)
    assert broken.result.returncode == 1
    assert "far below" in broken.result.stderr
    assert broken.report["withdrawn"] == [], "a broken listing withdraws nothing"
