"""Fixtures of the find-and-compare tests: an archive with a revised case, shared read-only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseharvest.replica import ReplicaConfig, ReplicaServer
from tests.conftest import Crawl, fetch


@pytest.fixture(scope="session")
def revised_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """A fetch, a revision of the 8th listed case, then `fetch --revalidate`. Read-only."""
    folder = tmp_path_factory.mktemp("find-revised")
    with ReplicaServer(ReplicaConfig(), log_path=folder / "replica.jsonl") as replica:
        first = fetch(folder / "archive", replica)
        assert first.result.returncode == 0, first.result.stderr
        replica.site.revise(replica.site.listed()[7].article_id)
        crawl = fetch(folder / "archive", replica, "--revalidate")
        assert crawl.result.returncode == 0, crawl.result.stderr
        yield crawl


def archive_texts(archive: Path) -> dict[str, str]:
    """URL → latest title and text of every archived case, read from its files."""
    import json

    texts = {}
    for meta in (archive / "text").rglob("*.json"):
        if ".v" in meta.stem:
            continue
        document = json.loads(meta.read_text("utf-8"))
        texts[document["url"]] = (
            document["title"] + "\n" + meta.with_suffix(".txt").read_text("utf-8")
        )
    return texts


# As tests/commands/test_serve.py runs it: headless, offline, no profile of the user's.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
)


@pytest.fixture
def chromium(tmp_path: Path) -> list[str]:
    """The command line of a headless Chromium; a skip when it is missing (a failure on CI)."""
    import os
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "chromium is not installed (`.ci/run` installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return [found, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"]
