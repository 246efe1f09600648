"""Reading case pages in worker processes: how many, and that they change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

from caseharvest.archive.case_store import NO_DOCUMENT, CaseFetched, extract_case, read_case
from caseharvest.crawl import case_reader
from caseharvest.crawl.case_reader import CaseReader, ExtractWorkersError, extract_workers
from caseharvest.extract import ExtractionRules
from caseharvest.model import Capture, CaseKey, ListingRecord, WarcRecordRef
from caseharvest.replica import ReplicaConfig, ReplicaServer
from tests.conftest import fetch, run_caseharvest
from tests.crawl.conftest import GivenPoolReader

PAGE = (
    b"""<html><head><title>t</title><link rel="stylesheet" href="/css/a.css"></head>
<body><div class="article"><h1>\xe5\x85\xb8\xe5\x9e\x8b\xe6\xa1\x88\xe4\xbe\x8b</h1>
<p>"""
    + "开发区的做法。".encode() * 40
    + b"""</p>
<a href="/files/report.pdf">report</a></div></body></html>"""
)


def settings(**values: object) -> Settings:
    return Settings({"DOWNLOAD_DELAY": 1.0, **values})


@pytest.mark.parametrize(("cores", "expected"), [(1, 0), (2, 1), (3, 2), (16, 4)])
def test_auto_gives_a_fast_crawl_the_other_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, expected: int
) -> None:
    monkeypatch.setattr(case_reader, "usable_cores", lambda: cores)
    assert extract_workers(settings(DOWNLOAD_DELAY=0)) == expected


def test_auto_reads_in_the_crawl_process_when_the_crawl_is_polite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(case_reader, "usable_cores", lambda: 8)
    assert extract_workers(settings()) == 0
    assert extract_workers(settings(DOWNLOAD_DELAY=0.1)) == 0
    assert extract_workers(settings(DOWNLOAD_DELAY=0.05)) == 4


def test_a_number_is_taken_as_given() -> None:
    assert extract_workers(settings(CASEHARVEST_EXTRACT_WORKERS="3")) == 3
    assert extract_workers(settings(CASEHARVEST_EXTRACT_WORKERS=0, DOWNLOAD_DELAY=0)) == 0


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ExtractWorkersError, match="auto or a whole number"):
        extract_workers(settings(CASEHARVEST_EXTRACT_WORKERS=value))


def test_fetch_refuses_a_bad_worker_count_in_one_line(tmp_path: Path) -> None:
    result = run_caseharvest(
        "fetch", "--archive", str(tmp_path), "-s", "CASEHARVEST_EXTRACT_WORKERS=many"
    )
    assert result.returncode == 2
    assert "CASEHARVEST_EXTRACT_WORKERS must be auto or a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "catalog.sqlite3").exists()


def case(body: bytes) -> CaseFetched:
    key = CaseKey("shandong", "21482", "1")
    url = "https://commerce.shandong.gov.cn/art/2024/1/2/art_21482_1.html"
    record = WarcRecordRef("f.warc.gz", 0, 1, "<urn:uuid:1>", "response", "2024", "sha1:X", "")
    return CaseFetched(
        key, url, ListingRecord(url, "t", "2024-01-02"), body, "text/html", Capture(1, record)
    )


def test_a_worker_reads_a_page_as_the_crawl_process_does() -> None:
    rules = ExtractionRules()
    here = asyncio.run(CaseReader(rules, workers=0).read(case(PAGE), extract=True))

    async def in_worker() -> object:
        reader = CaseReader(rules, workers=1)
        try:
            return await reader.read(case(PAGE), extract=True)
        finally:
            reader.close()

    there = asyncio.run(in_worker())
    assert there == here
    assert here.links.requisites == ("https://commerce.shandong.gov.cn/css/a.css",)
    assert [url for _, url in here.links.attachments] == [
        "https://commerce.shandong.gov.cn/files/report.pdf"
    ]
    assert not isinstance(here.page, str) and here.page is not None
    assert "开发区的做法" in here.page.text


class RecordingPool(ProcessPoolExecutor):
    """Runs what is submitted here, at once, and keeps the size of each batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.batches.append(len(args[1]))
        done: Future[Any] = Future()
        done.set_result(fn(*args))
        return done


def numbered_case(number: int) -> CaseFetched:
    page = PAGE.replace(b"report.pdf", f"report-{number}.pdf".encode())
    return dataclasses.replace(case(page), url=f"{case(page).url}?n={number}", body=page)


def test_pages_read_together_go_to_a_worker_together_and_come_back_each_to_its_case() -> None:
    pool = RecordingPool()
    reader = GivenPoolReader(pool)

    async def crawl() -> list[Any]:
        together = await asyncio.gather(
            *(reader.read(numbered_case(n), extract=True) for n in range(11))
        )
        later = await reader.read(numbered_case(11), extract=False)
        return [*together, later]

    readings = asyncio.run(crawl())
    assert pool.batches == [8, 3, 1]
    for number, reading in enumerate(readings):
        assert [url for _, url in reading.links.attachments] == [
            f"https://commerce.shandong.gov.cn/files/report-{number}.pdf"
        ]
    assert readings[-1].page is None  # extract=False travelled with its page


def test_an_unchanged_page_is_read_for_its_links_only() -> None:
    reading = read_case(PAGE, case(PAGE).url, "text/html", ExtractionRules(), extract=False)
    assert reading.page is None
    assert reading.links.requisites


def test_a_body_without_a_document_fails_its_case() -> None:
    reading = read_case(b"<!-- -->", case(b"").url, "text/html", ExtractionRules(), extract=True)
    assert reading.page == NO_DOCUMENT
    assert not reading.links.requisites and not reading.links.attachments
    # Replay decides such a page as fetch does.
    assert extract_case(b"<!-- -->", case(b"").url, "text/html", ExtractionRules()) == NO_DOCUMENT


def test_workers_archive_what_the_crawl_process_archives(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    replica = start_replica(ReplicaConfig(cases=60))
    exports: dict[str, list[dict[str, Any]]] = {}
    captured: dict[str, set[str]] = {}
    for workers in ("0", "2"):
        archive = tmp_path / f"workers-{workers}"
        crawl = fetch(archive, replica, "-s", f"CASEHARVEST_EXTRACT_WORKERS={workers}")
        assert crawl.result.returncode == 0, crawl.result.stderr
        exported = run_caseharvest("export", "--archive", str(archive), "--all-versions")
        assert exported.returncode == 0, exported.stderr
        cases = [json.loads(line) for line in exported.stdout.splitlines()]
        for each in cases:  # when and where it was captured differ between the two crawls
            for field in ("fetched_at", "warc_file", "warc_offset"):
                each.pop(field)
        exports[workers] = sorted(cases, key=lambda each: each["url"])
        captured[workers] = {e.url for e in replica.exchanges()}
        replica.clear_log()
        assert crawl.report["new"] >= 50
    assert exports["0"] == exports["2"]
    assert captured["0"] == captured["2"], "the same requisites and attachments fetched"
