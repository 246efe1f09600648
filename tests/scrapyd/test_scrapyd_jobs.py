"""Crawls on a real Scrapyd: deployed from scrapy.cfg, scheduled with `caseharvest schedule`."""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.upgrade import open_catalog
from caseharvest.cli import cli
from caseharvest.replica import ReplicaServer
from caseharvest.sites import available_sites
from tests.conftest import run_caseharvest
from tests.scrapyd.conftest import FAST_SETTINGS, Node

SETTINGS = [arg for name, value in FAST_SETTINGS.items() for arg in ("-s", f"{name}={value}")]


@pytest.fixture(autouse=True)
def no_proxy_for_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    """`schedule` talks to the nodes directly; only the nodes' jobs go through the replica."""
    for name in ("http_proxy", "HTTP_PROXY", "CASEHARVEST_CONTACT", "CASEHARVEST_SCRAPYD"):
        monkeypatch.delenv(name, raising=False)


def schedule(*args: str) -> Result:
    return CliRunner().invoke(cli, ["schedule", *args, *SETTINGS])


def scheduled_job(result: Result, site: str, node: Node) -> str:
    assert result.exit_code == 0, result.output
    match = re.fullmatch(rf"{re.escape(site)}: job (\S+) on (\S+)", result.output.strip())
    assert match, result.output
    assert match.group(2) == node.url
    return match.group(1)


def squeeze(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def assert_archive_matches_replica(archive: Path, replica: ReplicaServer) -> None:
    """Every case the replica lists is archived with its title, date, source and text."""
    exported = CliRunner().invoke(cli, ["export", "--archive", str(archive)])
    assert exported.exit_code == 0, exported.output
    rows = {row["url"]: row for row in map(json.loads, exported.output.splitlines())}
    expected = [case for case in replica.site.listed() if case.status == 200]
    assert len(expected) >= 10
    assert set(rows) == {case.url for case in expected}
    for case in expected:
        row = rows[case.url]
        assert (row["title"], row["published"], row["source"]) == (
            case.title,
            case.published,
            case.source,
        )
        assert squeeze(str(row["text"])) == squeeze(case.text), case.url


def test_a_scheduled_job_archives_the_site_as_fetch_does(
    node: Node, replica: ReplicaServer, tmp_path: Path
) -> None:
    root = tmp_path / "archives"
    job = scheduled_job(
        schedule("--scrapyd", node.url, "--archive-root", str(root), "shandong"), "shandong", node
    )
    node.wait_finished(job)
    archive = root / "shandong"
    log = node.job_log(job)
    assert "Traceback" not in log
    (finished,) = [line for line in log.splitlines() if "finished with exit code" in line]
    assert "finished with exit code 0" in finished and " of shandong " in finished
    assert_archive_matches_replica(archive, replica)

    (report_path,) = (archive / "runs").glob("*.json")
    report = json.loads(report_path.read_text("utf-8"))
    assert report["exit_code"] == 0 and report["run_id"] in finished
    run_log = (archive / "logs" / f"{report['run_id']}.log").read_text("utf-8")
    assert "finished with exit code 0" in run_log
    status = CliRunner().invoke(cli, ["status", "--archive", str(archive)])
    assert status.exit_code == 0 and report["run_id"] in status.output
    assert ArchiveLock(archive).held_by() is None
    # Settings came through Scrapyd's setting=: the contact is in every request's User-Agent.
    (warc,) = (archive / "warc/shandong").glob("*.warc.gz")
    agents = set(re.findall(rb"User-Agent: ([^\r\n]+)", gzip.decompress(warc.read_bytes())))
    assert agents == {b"caseharvest/0.1.0 (+mailto:tests@example.invalid)"}


def test_a_job_on_an_archive_another_run_holds_is_refused_and_reported(
    node: Node, tmp_path: Path
) -> None:
    root = tmp_path / "archives"
    archive = root / "shandong"
    with ArchiveLock(archive):
        skipped = schedule("--scrapyd", node.url, "--archive-root", str(root), "shandong")
        assert skipped.exit_code == 0, skipped.output
        assert skipped.output.startswith("shandong: skipped, another run holds its archive")
        assert not node.get("listjobs.json", project="caseharvest")["pending"]
        # A job put on the node by other means (curl, a scheduler that cannot see the
        # archive) meets the lock itself.
        answer = node.post(
            "schedule.json",
            [
                ("project", "caseharvest"),
                ("spider", "column"),
                ("site", "shandong"),
                ("archive", str(archive)),
                *(("setting", f"{name}={value}") for name, value in FAST_SETTINGS.items()),
            ],
        )
        job = answer["jobid"]
        node.wait_finished(job)
    log = node.job_log(job)
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1, log
    assert "another caseharvest run holds" in errors[0] and str(archive) in errors[0]
    assert "Traceback" not in log
    died = [line for line in node.daemon_log().splitlines() if f"job='{job}'" in line]
    assert any("Process died: exitstatus=1" in line for line in died), died
    assert not (archive / "runs").exists() and not (archive / "warc").exists()


def test_a_site_pending_on_any_node_is_not_scheduled_twice(
    node: Node, idle_node: Node, tmp_path: Path
) -> None:
    root = str(tmp_path / "archives")
    try:
        job = scheduled_job(
            schedule("--scrapyd", idle_node.url, "--archive-root", root, "shandong"),
            "shandong",
            idle_node,
        )
        assert idle_node.state(job) == "pending"  # this node never starts its jobs
        again = schedule(
            "--scrapyd", node.url, "--scrapyd", idle_node.url, "--archive-root", root, "shandong"
        )
        assert again.exit_code == 0, again.output
        assert again.output == f"shandong: skipped, job {job} is pending on {idle_node.url}\n"
        jobs = node.get("listjobs.json", project="caseharvest")
        assert not jobs["pending"] and not jobs["running"]
    finally:
        idle_node.cancel_pending()


def test_without_sites_every_configured_site_gets_one_job(idle_node: Node, tmp_path: Path) -> None:
    root = str(tmp_path / "archives")
    sites = available_sites()
    try:
        first = schedule("--scrapyd", idle_node.url, "--archive-root", root, "--full")
        assert first.exit_code == 0, first.output
        assert [line.split(":")[0] for line in first.output.splitlines()] == sites
        pending = idle_node.get("listjobs.json", project="caseharvest")["pending"]
        assert sorted(job["args"]["site"] for job in pending) == sorted(sites)
        for job in pending:
            site = job["args"]["site"]
            assert job["args"] == {"site": site, "archive": f"{root}/{site}", "full": "true"}
            assert job["settings"] == FAST_SETTINGS
        second = schedule("--scrapyd", idle_node.url, "--archive-root", root)
        assert second.exit_code == 0, second.output
        assert all(" skipped, job " in line for line in second.output.splitlines())
        assert len(idle_node.get("listjobs.json", project="caseharvest")["pending"]) == len(sites)
    finally:
        idle_node.cancel_pending()


def run_job(node: Node, root: Path) -> Path:
    """Crawl shandong on *node* into ROOT/shandong; the archive, once the job finished."""
    job = scheduled_job(
        schedule("--scrapyd", node.url, "--archive-root", str(root), "shandong"), "shandong", node
    )
    node.wait_finished(job)
    assert "finished with exit code 0" in node.job_log(job)
    return root / "shandong"


def test_archives_of_two_nodes_merge_with_replay_into(
    node: Node, replica: ReplicaServer, tmp_path: Path
) -> None:
    first = run_job(node, tmp_path / "node-a")
    revised = replica.site.listed()[3]
    replica.site.revise(revised.article_id)
    second = run_job(node, tmp_path / "node-b")  # the site, later, from another archive
    merged = tmp_path / "merged"
    built = run_caseharvest(
        "replay", str(first / "warc"), "--archive", str(merged), "--workers", "1"
    )
    assert built.returncode == 0, built.stderr
    added = run_caseharvest(
        "replay", "--into", str(second / "warc"), "--archive", str(merged), "--workers", "1"
    )
    assert added.returncode == 0, added.stderr

    catalogs = [open_catalog(path, read_only=True) for path in (first, second, merged)]
    try:
        counts = [catalog.capture_count() for catalog in catalogs]
        assert counts[2] == counts[0] + counts[1], counts
        for case in replica.site.listed():
            if case.status == 200:
                assert len(catalogs[2].captures_of(case.url)) == 2, case.url
        key = catalogs[2].case_by_url(revised.url).key
        texts = [version.text_sha256 for version in catalogs[2].versions(key)]
        assert len(texts) == 2 and texts[0] != texts[1]
    finally:
        for catalog in catalogs:
            catalog.close()
    verified = run_caseharvest("verify", "--archive", str(merged))
    assert verified.returncode == 0, verified.stdout + verified.stderr
