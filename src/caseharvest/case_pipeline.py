"""Scrapy item pipeline: hands each fetched case page to the case store."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from caseharvest.archive_run import ArchiveRun
from caseharvest.case_store import CaseFetched, extract_case, needs_extraction, store_case


class CasePipeline:
    """Extract, write files, then mark the case archived (its WARC records are on disk)."""

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CasePipeline:
        run = crawler.settings.get("CASEHARVEST_RUN")
        if run is None:
            raise NotConfigured("the case pipeline runs inside `caseharvest fetch`")
        return cls(run)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, CaseFetched):
            page = (
                extract_case(item.body, item.url, item.content_type, self.run.profile.extraction)
                if needs_extraction(self.run, item)
                else None
            )
            store_case(self.run, item, page)
        return item
