"""Scrapy item pipeline: hands each fetched case page to the case store."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from caseharvest.archive.case_store import CaseFetched, extract_case
from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage
from caseharvest.extract import ExtractedPage


class CasePipeline:
    """Extract, write files, then mark the case archived (its WARC records are on disk).

    With ``CASEHARVEST_EXTRACT_WORKERS`` > 0 extraction runs in that many worker processes,
    off the reactor's thread, so crawling and extraction overlap on several cores; storing
    stays in the crawl process, where the catalog is.
    """

    def __init__(self, run: ArchiveRun, workers: int = 0, crawler: Crawler | None = None) -> None:
        self.run = run
        self.crawler = crawler
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._files = ThreadPoolExecutor(1, thread_name_prefix="case-files")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CasePipeline:
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun):
            raise NotConfigured("the case pipeline runs with caseharvest's column spider")
        pipeline = cls(run, crawler.settings.getint("CASEHARVEST_EXTRACT_WORKERS"), crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, CaseFetched):
            try:
                await self._store(item)
            except Exception as exc:
                if not is_storage_failure(exc) or self.crawler is None:
                    raise
                stop_for_storage(self.crawler, self.run, exc, "the case's text files")
        return item

    async def _store(self, item: CaseFetched) -> None:
        ledger = self.run.ledger
        page = None
        if ledger.needs_extraction(item):
            page = await self._extract(item)
        plan = ledger.decide(item, page)
        if plan is not None:
            # Creating files is slow on some disks; a thread does it while the reactor goes
            # on (the syscalls release the GIL). The catalog stays on this thread.
            await asyncio.wrap_future(self._files.submit(plan.write_files, self.run.layout))
            ledger.record_version(plan)

    async def _extract(self, case: CaseFetched) -> ExtractedPage | str:
        rules = self.run.profile.extraction
        if self.workers <= 0:
            return extract_case(case.body, case.url, case.content_type, rules)
        if self._pool is None:
            # forkserver: workers start from a clean process with the extractor preloaded,
            # never as forks of a process running a reactor and its threads.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["caseharvest.archive.case_store"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        future = self._pool.submit(extract_case, case.body, case.url, case.content_type, rules)
        return await asyncio.wrap_future(future)

    def spider_closed(self, **_: Any) -> None:
        self._files.shutdown(wait=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
