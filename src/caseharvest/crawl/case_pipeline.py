"""Scrapy item pipeline: hands each read case page to the ledger and the case store."""

from __future__ import annotations

import asyncio
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from caseharvest.archive.case_files import write_case
from caseharvest.archive.case_store import NewVersion
from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.case_reader import CaseReader, ReadCase
from caseharvest.crawl.pool_batches import PoolBatches
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage


class CasePipeline:
    """Write the case's files, then mark it archived (its WARC records are on disk).

    The spider read the page already (``crawl.case_reader``); what the case becomes is the
    ledger's decision, and the catalog stays on the reactor's thread.
    """

    def __init__(
        self, run: ArchiveRun, crawler: Crawler | None = None, reader: CaseReader | None = None
    ) -> None:
        self.run = run
        self.crawler = crawler
        self.reader = reader
        self._files = ThreadPoolExecutor(1, thread_name_prefix="case-files")
        self._writes: PoolBatches[Any] = PoolBatches(write_case)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CasePipeline:
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun):
            raise NotConfigured("the case pipeline runs with caseharvest's column spider")
        reader = getattr(crawler.spider, "reader", None)
        pipeline = cls(run, crawler, reader if isinstance(reader, CaseReader) else None)
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
        if plan is None:
            return
        try:
            await self._write_files(plan)
        except BrokenProcessPool as exc:
            case = plan.case
            ledger.failed(case.key, case.url, f"{type(exc).__name__}: {exc}", case.listing)
            return
        ledger.record_version(plan)

    async def _write_files(self, plan: NewVersion) -> None:
        """The case's files, before the catalog names them; the catalog stays on this thread."""
        if self.run.from_warc is not None:
            # Over an archive (`--from-warc`) the reactor's process is the limit and its
            # readers have no time to spare. A file thread took the GIL at each of its
            # syscalls and the reactor waited for it at each of its own (every catalog call):
            # the thread spent 0.74 ms a case of a 20,000-case run on writes that take 0.26 ms
            # alone, and written here a 2,000-case run switched threads half as often (25,000
            # switches against 55,000). The answers are read from this disk on this thread.
            plan.write_files(self.run.layout)
            return
        pool = self._files_pool()
        if pool is not None:
            # (Not the whole plan: the page's body would go along.)
            await self._writes.call(pool, self.run.layout, plan.metadata, plan.text, plan.previous)
            return
        # Creating files is slow on some disks: a thread does it while the reactor waits on
        # the site (the syscalls release the GIL).
        await asyncio.wrap_future(self._files.submit(plan.write_files, self.run.layout))

    def _files_pool(self) -> ProcessPoolExecutor | None:
        """The reading processes, when they should write the case files too.

        A crawl of the network without delay leaves them time (a 2,000-case fetch of the
        bench replica: 13.4 s against 14.9 s, medians of three): a file thread in this
        process would take the GIL at each of its syscalls, and the reactor's catalog calls
        waited four to six times their length for it.
        """
        if self.reader is None:
            return None
        return self.reader.pool()

    def spider_closed(self, **_: Any) -> None:
        self._files.shutdown(wait=True)
