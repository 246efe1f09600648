"""A timer that commits the catalog rows a crawl holds back while no case settles.

The ledger commits at most every ``COMMIT_SECONDS`` as cases settle (see
``archive.ledger``). When none settles for a while (a page that takes its time, a slow
listing), the rows of the last ones would wait: this timer commits them, so that `status`
and `verify` see a running crawl's progress and a crash loses no more than that.
"""

from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from twisted.internet import task

from caseharvest.archive.ledger import COMMIT_SECONDS
from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage


class PendingCommits:
    """Every ``COMMIT_SECONDS``, the run's ledger commits what waits longer than that."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PendingCommits:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        run = getattr(spider, "run", None)
        if isinstance(run, ArchiveRun):
            self._timer = task.LoopingCall(self._commit_due, run)
            self._timer.start(COMMIT_SECONDS, now=False)

    def spider_closed(self, **_: Any) -> None:
        # The spider's close commits everything (the ledger closes the run's open cases).
        self._stop()

    def _commit_due(self, run: ArchiveRun) -> None:
        try:
            run.ledger.commit_due()
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            self._stop()
            stop_for_storage(self.crawler, run, exc, "the catalog")

    def _stop(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._timer = None
