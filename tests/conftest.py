"""Shared fixtures: the replica on 127.0.0.1, and caseharvest run as users run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from caseharvest.replica import ReplicaConfig, ReplicaServer

# Tests may be fast; the defaults stay polite.
FAST = (
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CASEHARVEST_CONTACT=mailto:tests@example.invalid",
)


@dataclass
class Crawl:
    """One `caseharvest fetch` over a replica, and what came of it."""

    archive: Path
    replica: ReplicaServer
    result: subprocess.CompletedProcess[str]

    @property
    def report(self) -> dict[str, Any]:
        # The newest report (a catalog rebuilt before a fetch makes two in one second).
        reports = sorted((self.archive / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        report: dict[str, Any] = json.loads(reports[-1].read_text("utf-8"))
        return report


def run_caseharvest(
    *args: str, replica: ReplicaServer | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m caseharvest ARGS` in a child process, proxied through *replica*."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy")}
    if replica is not None:
        env["http_proxy"] = replica.proxy_url
    env["PYTHONWARNINGS"] = "error::DeprecationWarning:caseharvest"
    return subprocess.run(
        [sys.executable, "-m", "caseharvest", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def fetch(archive: Path, replica: ReplicaServer, *extra: str) -> Crawl:
    """Crawl *replica* into *archive* with test-speed settings."""
    result = run_caseharvest("fetch", "--archive", str(archive), *FAST, *extra, replica=replica)
    return Crawl(archive, replica, result)


@pytest.fixture
def start_replica(tmp_path: Path) -> Iterator[Callable[..., ReplicaServer]]:
    """Start replicas for one test; each logs its exchanges to a file in tmp_path."""
    servers: list[ReplicaServer] = []

    def start(config: ReplicaConfig | None = None) -> ReplicaServer:
        log = tmp_path / f"replica-{len(servers)}.jsonl"
        server = ReplicaServer(config or ReplicaConfig(), log_path=log).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def default_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """One crawl of the default replica, shared by the tests that only read its results."""
    folder = tmp_path_factory.mktemp("default-crawl")
    with ReplicaServer(ReplicaConfig(), log_path=folder / "replica.jsonl") as replica:
        yield fetch(folder / "archive", replica)


@pytest.fixture
def default_crawl_copy(default_crawl: Crawl, tmp_path: Path) -> Path:
    """A private copy of the default crawl's archive, for tests that change or break it."""
    copy = tmp_path / "archive-copy"
    shutil.copytree(default_crawl.archive, copy)
    return copy


@pytest.fixture
def revised_archive(start_replica: Callable[..., ReplicaServer], tmp_path: Path) -> Iterator[Crawl]:
    """An archive with two runs and a case in two versions (the replica stopped after)."""
    replica = start_replica()
    archive = tmp_path / "fetched"
    assert fetch(archive, replica).result.returncode == 0
    replica.site.revise(replica.site.listed()[7].article_id)
    crawl = fetch(archive, replica, "--revalidate")
    assert crawl.result.returncode == 0, crawl.result.stderr
    replica.stop()
    yield crawl


@pytest.fixture(scope="session")
def revalidated_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """A fetch then a `fetch --revalidate` of an unchanged replica: 304 revisits. Read-only."""
    folder = tmp_path_factory.mktemp("revalidated")
    with ReplicaServer(ReplicaConfig(), log_path=folder / "replica.jsonl") as replica:
        first = fetch(folder / "archive", replica)
        assert first.result.returncode == 0, first.result.stderr
        crawl = fetch(folder / "archive", replica, "--revalidate")
        assert crawl.result.returncode == 0, crawl.result.stderr
        yield crawl
