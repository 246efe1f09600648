"""Scrapy item pipeline: hands each read case page to the ledger and the case store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.case_reader import ReadCase
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage


class CasePipeline:
    """Write the case's files, then mark it archived (its WARC records are on disk).

    The spider read the page already (``crawl.case_reader``); what the case becomes is the
    ledger's decision, and the catalog stays on the reactor's thread.
    """

    def __init__(self, run: ArchiveRun, crawler: Crawler | None = None) -> None:
        self.run = run
        self.crawler = crawler
        self._files = ThreadPoolExecutor(1, thread_name_prefix="case-files")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CasePipeline:
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun):
            raise NotConfigured("the case pipeline runs with caseharvest's column spider")
        pipeline = cls(run, crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ReadCase):
            try:
                await self._store(item)
            except Exception as exc:
                if not is_storage_failure(exc) or self.crawler is None:
                    raise
                stop_for_storage(self.crawler, self.run, exc, "the case's text files")
        return item

    async def _store(self, item: ReadCase) -> None:
        ledger = self.run.ledger
        plan = ledger.decide(item.case, item.page)
        if plan is not None:
            # Creating files is slow on some disks; a thread does it while the reactor goes
            # on (the syscalls release the GIL). The catalog stays on this thread.
            await asyncio.wrap_future(self._files.submit(plan.write_files, self.run.layout))
            ledger.record_version(plan)

    def spider_closed(self, **_: Any) -> None:
        self._files.shutdown(wait=True)
