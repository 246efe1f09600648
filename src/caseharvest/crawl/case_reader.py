"""Reading fetched case pages (links and extraction), in worker processes when the crawl is fast.

Reading a case page is a third of a fast crawl's CPU. A polite crawl waits on the site and
reads in its own process; a crawl without delay (a local replica, ``--from-warc``) hands the
reading to worker processes on the other cores, and the reactor's core keeps downloading,
capturing and cataloguing meanwhile.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from scrapy.settings import BaseSettings

from caseharvest.archive.case_store import CaseFetched, CaseReading, read_case
from caseharvest.crawl.pool_batches import PoolBatches
from caseharvest.extract import ExtractedPage, ExtractionRules
from caseharvest.processes import worker_pool

# A crawl with a delay at least this long waits on the site, not on reading pages.
POLITE_DELAY = 0.1
# More workers than this gain nothing: the reactor's core is the limit by then.
MAX_AUTO_WORKERS = 4
# What a reading worker imports (lxml, trafilatura, the extraction rules).
READER_MODULES = ("caseharvest.archive.case_store",)


class ExtractWorkersError(ValueError):
    """CASEHARVEST_EXTRACT_WORKERS is neither "auto" nor a whole number of at least 0."""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def extract_workers(settings: BaseSettings) -> int:
    """How many reading processes the crawl gets (``CASEHARVEST_EXTRACT_WORKERS``).

    ``auto``: none for a polite crawl (a delay of ``POLITE_DELAY`` or more between requests),
    otherwise one per core beyond the reactor's, up to ``MAX_AUTO_WORKERS``.
    """
    value = str(settings.get("CASEHARVEST_EXTRACT_WORKERS", "auto")).strip().lower()
    if value == "auto":
        if settings.getfloat("DOWNLOAD_DELAY") >= POLITE_DELAY:
            return 0
        return min(usable_cores() - 1, MAX_AUTO_WORKERS)
    try:
        workers = int(value)
    except ValueError:
        workers = -1
    if workers < 0:
        raise ExtractWorkersError(
            f"CASEHARVEST_EXTRACT_WORKERS must be auto or a whole number of at least 0, "
            f"not {value!r}"
        )
    return workers


@dataclass(frozen=True)
class ReadCase:
    """The spider's item: a fetched case page and its extraction (None: not extracted)."""

    case: CaseFetched
    page: ExtractedPage | str | None


class CaseReader:
    """Reads case pages in this process (``workers`` 0) or in a pool of worker processes
    (pages asked for together go to a worker together: crawl.pool_batches)."""

    def __init__(self, rules: ExtractionRules, workers: int) -> None:
        self.rules = rules
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._reads: PoolBatches[CaseReading] = PoolBatches(read_case)

    def pool(self) -> ProcessPoolExecutor | None:
        """The reading processes, started on first use (None: this process reads)."""
        if self.workers <= 0:
            return None
        if self._pool is None:
            self._pool = worker_pool(self.workers, preload=READER_MODULES)
        return self._pool

    async def read(self, case: CaseFetched, extract: bool) -> CaseReading:
        pool = self.pool()
        if pool is None:
            return read_case(case.body, case.url, case.content_type, self.rules, extract)
        return await self._reads.call(
            pool, case.body, case.url, case.content_type, self.rules, extract
        )

    def close(self) -> None:
        self._reads.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
