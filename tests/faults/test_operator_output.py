"""What an operator sees: a progress line on a terminal, and a clear message for each mistake."""

from __future__ import annotations

import os
import pty
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from caseharvest.archive.lock import ArchiveLock
from caseharvest.replica import ReplicaConfig, ReplicaServer
from tests.conftest import FAST, Crawl, run_caseharvest


def fetch_on_a_terminal(archive: Path, replica: ReplicaServer, *extra: str) -> tuple[int, str]:
    """`caseharvest fetch` with its stderr on a pseudo-terminal; (exit code, what it showed)."""
    env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
    env["http_proxy"] = replica.proxy_url
    env["COLUMNS"] = "120"
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "caseharvest", "fetch", "--archive", str(archive), *FAST, *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed: the process is done
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return process.wait(timeout=120), shown.decode("utf-8", "replace")


def test_a_terminal_shows_a_progress_line_and_q_silences_it(tmp_path: Path) -> None:
    with ReplicaServer(ReplicaConfig(cases=30, per_page=5, group_size=2)) as replica:
        code, shown = fetch_on_a_terminal(tmp_path / "a", replica)
        assert code == 0, shown
        assert "shandong:" in shown and "case" in shown and "requests=" in shown
        assert "30/30" in shown  # every case listed is done (one as a dead link)
        code, shown = fetch_on_a_terminal(tmp_path / "b", replica, "-q")
    assert code == 0
    assert "requests=" not in shown


def test_a_fetch_refused_by_the_lock_changes_nothing(tmp_path: Path, default_crawl: Crawl) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    before = sorted(p.name for p in archive.rglob("*"))
    with ArchiveLock(archive):
        result = run_caseharvest(
            "fetch", "--archive", str(archive), "--from-warc", str(default_crawl.archive / "warc")
        )
    assert result.returncode == 75
    assert "another caseharvest run holds" in result.stderr
    after = sorted(p.name for p in archive.rglob("*"))
    assert after in (before, sorted([*before, ".caseharvest.lock"]))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere: no unwritable folder")
def test_an_unwritable_archive_folder_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = run_caseharvest("fetch", "--archive", str(folder / "archive"), *FAST)
    finally:
        folder.chmod(stat.S_IRWXU)
    assert result.returncode == 2
    assert "permission denied" in result.stderr and "Traceback" not in result.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_reading_commands_write_nothing_to_the_archive(
    tmp_path: Path, default_crawl: Crawl
) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(default_crawl.archive, archive)
    before = snapshot(archive)
    for command in (["status"], ["verify"], ["export", "--format", "csv"], ["sites"]):
        result = run_caseharvest(*command, "--archive", str(archive))
        assert result.returncode == 0, (command, result.stderr)
    assert snapshot(archive) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere: no read-only folder")
def test_a_read_only_archive_can_be_read(tmp_path: Path, default_crawl: Crawl) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(default_crawl.archive, archive)
    (archive / ".caseharvest.lock").unlink(missing_ok=True)
    for path in [archive, *archive.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        for command in (["status"], ["verify"], ["export", "--format", "csv"]):
            result = run_caseharvest(*command, "--archive", str(archive))
            assert result.returncode == 0, (command, result.stderr)
            assert "Traceback" not in result.stderr
    finally:
        for path in [archive, *archive.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def test_demo_writes_only_to_its_own_folder(tmp_path: Path) -> None:
    real = tmp_path / "real-archive"
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "no_proxy")}
    env["CASEHARVEST_ARCHIVE"] = str(real)  # a user's real archive must not get synthetic cases
    result = subprocess.run(
        [sys.executable, "-m", "caseharvest", "demo", "--cases", "4", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert not real.exists()
    assert (tmp_path / "archive-demo" / "catalog.sqlite3").exists()
