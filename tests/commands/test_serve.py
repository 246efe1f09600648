"""`caseharvest serve`: the archive replayed by pywb, run from its own environment."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from caseharvest.archive.catalog import Catalog
from caseharvest.cli import cli
from caseharvest.commands.serve.tools_venv import (
    READY_MARKER,
    REQUIREMENTS,
    ToolsSetupError,
    ensure_tools_venv,
    find_tool,
    venv_is_ready,
)
from caseharvest.commands.serve.wayback_server import warc_timestamp
from tests.conftest import Crawl

SEED_URL = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
COLUMN_URL = "http://commerce.shandong.gov.cn/col/col21482/index.html"
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


def require(tool: str, found: Path | None, how: str) -> Path:
    """The tool, or a skip; on CI (``CI`` set) a missing tool fails the test instead."""
    if found is not None:
        return found
    message = f"{tool} is not installed ({how})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def squeeze(text: str) -> str:
    """NFKC, no whitespace: how page text is compared with the NFKC-folded seed document."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def seed_body() -> str:
    seed = (
        resources.files("caseharvest.replica")
        .joinpath("data/seed_art_21482_4415480.txt")
        .read_text("utf-8")
    )
    return seed[seed.index("淄博市大力推动") : seed.index("山东商务网版权与免责声明")]


def page_text(html: bytes) -> str:
    return str(lxml.html.fromstring(html).text_content())


@dataclass
class Served:
    """A running `caseharvest serve` and what it printed."""

    process: subprocess.Popen[str]
    archive: Path
    base_url: str
    column_url: str
    revisit_date: datetime
    stderr_path: Path

    def get(self, path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base_url + path)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def revalidated_at(archive: Path, url: str) -> datetime:
    """When `fetch --revalidate` got a 304 for *url* (its server-not-modified revisit)."""
    catalog = Catalog.for_archive(archive)
    try:
        dates = [c.warc_date for c in catalog.captures() if c.url == url and c.status == 304]
    finally:
        catalog.close()
    assert len(dates) == 1, dates
    return datetime.fromisoformat(dates[0].replace("Z", "+00:00")).replace(microsecond=0)


@pytest.fixture(scope="module")
def wayback() -> Path:
    return require("pywb", find_tool("wayback"), "`make tools` sets it up")


@pytest.fixture(scope="module")
def served(
    revalidated_crawl: Crawl, wayback: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A copy (serve writes indexes) of an archive after fetch and `fetch --revalidate`."""
    folder = tmp_path_factory.mktemp("served")
    archive = folder / "archive"
    shutil.copytree(revalidated_crawl.archive, archive)
    revisit_date = revalidated_at(archive, SEED_URL)
    stderr_path = folder / "serve.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "caseharvest",
                "serve",
                "--archive",
                str(archive),
                "--port",
                "0",
                "--pywb",
                str(wayback),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        lines = []
        for output_line in process.stdout:  # blocks until serve prints (it listens by then)
            lines.append(output_line)
            if output_line.startswith("Ctrl-C"):
                break
        printed = "".join(lines)
        assert "column page of shandong: " in printed, printed + stderr_path.read_text()
        base_url = printed.split("pywb serves the archive at ", 1)[1].split()[0]
        column_url = printed.split("column page of shandong: ", 1)[1].split()[0]
        yield Served(process, archive, base_url, column_url, revisit_date, stderr_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(30)


def test_serve_prints_the_archived_column_page(served: Served) -> None:
    assert served.base_url.startswith("http://127.0.0.1:")
    catalog = Catalog.for_archive(served.archive)
    try:
        capture = catalog.latest_original(COLUMN_URL)
    finally:
        catalog.close()
    assert capture is not None
    assert served.column_url == f"{served.base_url}{warc_timestamp(capture.warc_date)}/{COLUMN_URL}"
    status, body = served.get(served.column_url[len(served.base_url) :])
    assert status == 200 and "开发区典型案例" in body.decode("utf-8")
    config = (served.archive / "replay/config.yaml").read_text("utf-8")
    assert str(served.archive / "warc/shandong") in config, "pywb reads the WARC files in place"
    assert not list((served.archive / "replay").rglob("*.warc.gz")), "no copy of any WARC file"


def test_archived_seed_article_has_its_text(served: Served) -> None:
    status, body = served.get(f"2019id_/{SEED_URL}")
    assert status == 200, body[:300]
    text = squeeze(page_text(body))
    assert squeeze(seed_body()) in text
    assert "淄博市五举措精准发力深化开发区体制机制创新工作" in text


def test_case_revalidated_with_304_still_shows_its_content(served: Served) -> None:
    stamp = served.revisit_date.strftime("%Y%m%d%H%M%S")
    status, body = served.get(f"{stamp}id_/{SEED_URL}")
    assert status == 200, f"pywb alone answers an empty 304 here: {status} {body[:200]!r}"
    _, listing = served.get(f"cdx?url={SEED_URL}&output=json")
    stamps = [json.loads(entry)["timestamp"] for entry in listing.decode().splitlines()]
    assert stamp in stamps and len(stamps) == 2, "served as the 304 capture, at its own date"
    assert squeeze(seed_body()) in squeeze(page_text(body))


def test_listing_posts_replay_with_their_form_bodies(served: Served, default_crawl: Crawl) -> None:
    posts = [e for e in default_crawl.replica.exchanges() if e.method == "POST" and e.status == 200]
    assert posts, "the crawl paged the listing by POST"
    stamp = served.column_url[len(served.base_url) :].split("/", 1)[0]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for post in posts:
        request = urllib.request.Request(
            f"{served.base_url}{stamp}id_/{post.url}",
            data=post.request_body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with opener.open(request, timeout=30) as answer:
            replayed = answer.read()
        sent = post.response_body
        if post.response_header("Content-Encoding") == "gzip":
            sent = gzip.decompress(sent)
        assert replayed == sent, f"{post.url} with its body {post.request_body[:60]!r}"


def test_chromium_renders_the_case_list_of_the_archived_column(
    served: Served, default_crawl: Crawl, tmp_path: Path
) -> None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    chromium = require("chromium", Path(found) if found else None, "`.ci/run` installs it")
    profile = tempfile.mkdtemp(dir=tmp_path)
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", served.column_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = lxml.html.fromstring(result.stdout)
    # jpage.js builds these from the embedded <datastore>: the script and records were archived.
    total = dom.xpath('//span[@class="total"]/text()')
    listed = default_crawl.replica.site.listed()
    assert total == [f"共{len(listed)}条"], result.stdout[:2000]
    shown = [a.get("title") for a in dom.xpath('//ul[@class="list"]/li/a')]
    assert shown and shown == [case.title for case in listed[: len(shown)]]


def test_interrupt_stops_pywb_too(served: Served) -> None:
    port = int(served.base_url.split(":")[2].split("/")[0])
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_serve_refuses_an_archive_without_warc_files(tmp_path: Path) -> None:
    Catalog.for_archive(tmp_path).close()
    result = CliRunner().invoke(cli, ["serve", "--archive", str(tmp_path), "--pywb", str(tmp_path)])
    assert result.exit_code == 1
    assert "no closed WARC file" in result.output and "caseharvest fetch" in result.output


def test_tools_venv_is_only_ever_a_finished_setup(tmp_path: Path) -> None:
    venv = tmp_path / "tools"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/wayback").write_text("#!/bin/sh\n")
    assert not venv_is_ready(venv), "no marker: a setup that did not finish"
    assert find_tool("no-such-tool-here", venv=venv) is None
    assert find_tool("wayback", explicit=venv) == venv / "bin/wayback", "a venv folder"
    assert find_tool("wayback", explicit=venv / "bin/wayback") == venv / "bin/wayback"
    (venv / READY_MARKER).write_text('{"requirements": ["pywb==0.0.1"]}')
    assert not venv_is_ready(venv), "other versions: set up again"
    (venv / READY_MARKER).write_text(
        f'{{"requirements": {list(REQUIREMENTS)!r}}}'.replace("'", '"')
    )
    assert venv_is_ready(venv)


def test_tools_setup_never_removes_a_folder_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "not-a-venv"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(ToolsSetupError, match="not a virtual environment"):
        ensure_tools_venv(precious)
    assert (precious / "notes.txt").read_text() == "mine"
