"""`caseharvest browse`: the catalog in Datasette, searchable, faceted, linked to `serve`."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from caseharvest.commands.browse import BrowseSetup, datasette_command
from tests.conftest import Crawl
from tests.find.conftest import archive_texts

HOSTILE_TITLE = "<script>alert('browse')</script>飞地经济"
SERVE_URL = "http://127.0.0.1:9999/caseharvest/"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Browsing:
    process: subprocess.Popen[str]
    url: str
    archive: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> str:
    with OPENER.open(url, timeout=30) as answer:
        return str(answer.read().decode("utf-8"))


@pytest.fixture(scope="module")
def browsing(revised_crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browsing]:
    archive = tmp_path_factory.mktemp("browse") / "archive"
    shutil.copytree(revised_crawl.archive, archive)
    db = __import__("sqlite3").connect(archive / "catalog.sqlite3")
    db.execute("UPDATE case_search SET title = ? WHERE id = 1", (HOSTILE_TITLE,))
    db.commit()
    db.close()
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "caseharvest",
            "browse",
            "--archive",
            str(archive),
            "--port",
            str(port),
            "--serve-url",
            SERVE_URL,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:  # a separate process: poll until it answers, for a bounded time
        try:
            get(f"{url}-/versions.json")
            break
        except OSError:
            assert process.poll() is None, "browse exited early"
            assert time.monotonic() < deadline, "browse did not answer in time"
            time.sleep(0.1)
    yield Browsing(process, url, archive)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(30)


def test_full_text_search_uses_the_index(browsing: Browsing) -> None:
    query = urllib.parse.quote("开发区")
    answer = json.loads(
        get(f"{browsing.url}catalog/case_search.json?_search={query}&_shape=objects&_size=max")
    )
    expected = {url for url, text in archive_texts(browsing.archive).items() if "开发区" in text}
    assert {row["url"] for row in answer["rows"]} == expected != set()


def test_cases_have_facets_by_site_column_year_and_source(browsing: Browsing) -> None:
    answer = json.loads(get(f"{browsing.url}catalog/case_search.json?_size=1"))
    assert set(answer["facet_results"]) == {"site", "column_id", "year", "source"}
    sites = {item["value"]: item["count"] for item in answer["facet_results"]["site"]["results"]}
    assert sites == {"shandong": len(archive_texts(browsing.archive))}
    for table in ("cases", "versions", "captures", "runs"):
        assert json.loads(get(f"{browsing.url}catalog/{table}.json?_size=1"))["rows"], table


def test_a_case_row_links_to_its_archived_page_and_titles_stay_text(browsing: Browsing) -> None:
    page = get(f"{browsing.url}catalog/case_search/1")
    assert f'<a href="{SERVE_URL}20' in page and "/http://commerce.shandong.gov.cn/art/" in page
    assert "<script>alert('browse')" not in page
    assert "&lt;script&gt;alert(" in page


def test_datasette_listens_on_loopback_by_default() -> None:
    setup = BrowseSetup(Path("c.sqlite3"), False, Path("m.json"), Path("plugins"))
    command = datasette_command(setup, "127.0.0.1", 8001)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    from caseharvest.cli import cli

    [host] = [p for p in cli.commands["browse"].params if p.name == "host"]
    assert host.default == "127.0.0.1"


def test_interrupt_stops_datasette(browsing: Browsing) -> None:
    assert "Datasette shows the catalog at" in (
        browsing.process.stdout.readline() if browsing.process.stdout else ""
    )
    browsing.process.send_signal(signal.SIGINT)
    assert browsing.process.wait(30) == 0
    with pytest.raises(OSError):
        get(f"{browsing.url}-/versions.json")
