"""Calls the run's progress callback twice a second while a crawl runs (a live line on a TTY)."""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from caseharvest.archive.run import ArchiveRun

INTERVAL_SECONDS = 0.5


class ProgressExtension:
    """Feeds ``ArchiveRun.progress``; switched off when the run has no callback."""

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun) or run.progress is None:
            raise NotConfigured("the progress line needs a run with a progress callback")
        extension = cls(run)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def tick(self) -> None:
        assert self.run.progress is not None
        self.run.progress(self.run.summary)

    def spider_opened(self, **_: Any) -> None:
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(INTERVAL_SECONDS, now=True)

    def spider_closed(self, **_: Any) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.tick()  # the line ends showing the run as it ended
