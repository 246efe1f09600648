"""The case pipeline: who writes a case's files, and what a broken writer does to the case."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from caseharvest.archive.case_files import read_case_text
from caseharvest.archive.case_store import CaseFetched, read_case
from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.case_pipeline import CasePipeline
from caseharvest.crawl.case_reader import CaseReader, ReadCase
from caseharvest.crawl.storage_failures import is_storage_failure
from caseharvest.extract import ExtractionRules
from caseharvest.model import Capture, CaseKey, ListingRecord, WarcRecordRef
from tests.crawl.conftest import GivenPoolReader

URL = "https://commerce.shandong.gov.cn/art/2024/1/2/art_21482_1.html"
PAGE = (
    "<html><head><title>t</title></head><body><div class='article'><h1>典型案例</h1><p>"
    + "开发区的做法。" * 40
    + "</p></div></body></html>"
).encode()


def read_item(run: ArchiveRun) -> ReadCase:
    record = WarcRecordRef("f.warc.gz", 0, 1, "<urn:uuid:1>", "response", "2024", "sha1:X", "")
    capture_id = run.catalog.add_capture(
        run_id=run.run_id, url=URL, method="GET", status=200, record=record, headers={}
    )
    key = CaseKey("shandong", "21482", "1")
    case = CaseFetched(
        key,
        URL,
        ListingRecord(URL, "t", "2024-01-02"),
        PAGE,
        "text/html",
        Capture(capture_id, record),
    )
    page = read_case(PAGE, URL, "text/html", ExtractionRules()).page
    return ReadCase(case, page)


def test_a_worker_process_writes_the_files_of_a_network_crawl(run: ArchiveRun) -> None:
    item = read_item(run)
    with ProcessPoolExecutor(1) as pool:
        pipeline = CasePipeline(run, None, GivenPoolReader(pool))
        asyncio.run(pipeline.process_item(item))
    assert not pipeline._files._threads  # the file thread never started
    version = run.catalog.latest_version(item.case.key)
    assert version is not None
    assert "开发区的做法" in read_case_text(run.layout, version.metadata)
    assert run.summary.new == 1


def test_a_broken_worker_fails_the_case_with_the_reason(run: ArchiveRun) -> None:
    item = read_item(run)
    pool = ProcessPoolExecutor(1)
    with pytest.raises(BrokenProcessPool):  # the worker dies
        pool.submit(os._exit, 1).result()
    pipeline = CasePipeline(run, None, GivenPoolReader(pool))
    asyncio.run(pipeline.process_item(item))
    pool.shutdown()
    assert "BrokenProcessPool" in run.summary.failed[URL]
    assert run.catalog.latest_version(item.case.key) is None


class ReadingOnlyReader(CaseReader):
    """A reader whose processes must not be asked to write."""

    def __init__(self) -> None:
        super().__init__(ExtractionRules(), workers=1)

    def pool(self) -> ProcessPoolExecutor | None:
        raise AssertionError("the reading processes were asked to write case files")


def test_a_crawl_over_an_archive_writes_the_files_on_the_reactors_thread(
    run: ArchiveRun,
) -> None:
    item = read_item(run)
    run.from_warc = object()  # `fetch --from-warc`: the readers have no time to spare
    pipeline = CasePipeline(run, None, ReadingOnlyReader())
    asyncio.run(pipeline.process_item(item))
    assert not pipeline._files._threads  # nor a thread taking the GIL at each syscall
    version = run.catalog.latest_version(item.case.key)
    assert version is not None
    assert "开发区的做法" in read_case_text(run.layout, version.metadata)


def test_a_crawl_reading_in_its_own_process_writes_the_files_in_a_thread(
    run: ArchiveRun,
) -> None:
    item = read_item(run)
    pipeline = CasePipeline(run, None, CaseReader(ExtractionRules(), workers=0))
    asyncio.run(pipeline.process_item(item))
    pipeline.spider_closed()
    assert pipeline._files._threads  # a polite crawl: the thread wrote them
    version = run.catalog.latest_version(item.case.key)
    assert version is not None and read_case_text(run.layout, version.metadata)


def test_a_disk_refusing_the_workers_write_is_a_storage_failure_here(run: ArchiveRun) -> None:
    item = read_item(run)
    text_dir = run.layout.text_dir("shandong")
    text_dir.parent.mkdir(parents=True, exist_ok=True)
    text_dir.write_bytes(b"")  # where the folder should be: every write under it fails
    with ProcessPoolExecutor(1) as pool:
        pipeline = CasePipeline(run, None, GivenPoolReader(pool))
        with pytest.raises(OSError) as refused:  # any OSError is the disk's
            asyncio.run(pipeline.process_item(item))
    assert is_storage_failure(refused.value)  # what stops the crawl with one line
    assert refused.value.filename  # names the file, across the process boundary
    assert run.catalog.latest_version(item.case.key) is None
