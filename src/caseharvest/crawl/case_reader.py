"""Reading fetched case pages (links and extraction), in worker processes when the crawl is fast.

Reading a case page is a third of a fast crawl's CPU. A polite crawl waits on the site and
reads in its own process; a crawl without delay (a local replica, ``--from-warc``) hands the
reading to worker processes on the other cores, and the reactor's core keeps downloading,
capturing and cataloguing meanwhile.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from dataclasses import dataclass

from scrapy.settings import BaseSettings

from caseharvest.archive.case_store import CaseFetched, CaseReading, read_case
from caseharvest.extract import ExtractedPage, ExtractionRules
from caseharvest.processes import worker_pool

# A crawl with a delay at least this long waits on the site, not on reading pages.
POLITE_DELAY = 0.1
# More workers than this gain nothing: the reactor's core is the limit by then.
MAX_AUTO_WORKERS = 4
# Pages sent to a reading process in one message, at most.
MAX_BATCH = 8
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


def read_cases(
    rules: ExtractionRules, pages: list[tuple[bytes, str, str | None, bool]]
) -> list[CaseReading]:
    """:func:`read_case` for several pages (body, URL, content type, extract?) in one call."""
    return [
        read_case(body, url, content_type, rules, extract)
        for body, url, content_type, extract in pages
    ]


class CaseReader:
    """Reads case pages in this process (``workers`` 0) or in a pool of worker processes.

    Pages asked for while the event loop runs one round go to a worker together, up to
    ``MAX_BATCH``: a message each way per page had the pool's threads in this process take
    the GIL from the reactor for each (7 s of a 20,000-case crawl over an archive).
    """

    def __init__(self, rules: ExtractionRules, workers: int) -> None:
        self.rules = rules
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: list[tuple[CaseFetched, bool, asyncio.Future[CaseReading]]] = []
        self._send_soon: asyncio.Handle | None = None

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
        loop = asyncio.get_running_loop()
        reading: asyncio.Future[CaseReading] = loop.create_future()
        self._waiting.append((case, extract, reading))
        if len(self._waiting) >= MAX_BATCH:
            self._send(pool)
        elif self._send_soon is None:
            self._send_soon = loop.call_soon(self._send, pool)
        return await reading

    def _send(self, pool: ProcessPoolExecutor) -> None:
        """Hand the waiting pages to a worker in one batch."""
        if self._send_soon is not None:
            self._send_soon.cancel()
            self._send_soon = None
        batch, self._waiting = self._waiting, []
        if not batch:
            return
        pages = [(case.body, case.url, case.content_type, extract) for case, extract, _ in batch]
        try:
            future = pool.submit(read_cases, self.rules, pages)
        except Exception as exc:  # a broken or closed pool: each page's case fails with it
            _settle(batch, None, exc)
            return
        loop = asyncio.get_running_loop()

        def deliver_in_loop(done: Future[list[CaseReading]]) -> None:
            if not loop.is_closed():  # (a pool shut down after the crawl's loop)
                loop.call_soon_threadsafe(_deliver, batch, done)

        future.add_done_callback(deliver_in_loop)

    def close(self) -> None:
        if self._send_soon is not None:
            self._send_soon.cancel()
            self._send_soon = None
        waiting, self._waiting = self._waiting, []
        for _, _, reading in waiting:
            reading.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _deliver(
    batch: list[tuple[CaseFetched, bool, asyncio.Future[CaseReading]]],
    done: Future[list[CaseReading]],
) -> None:
    """Give each page of a finished batch its reading (or the batch's failure)."""
    if done.cancelled():
        _settle(batch, None, CancelledError("the reading processes were shut down"))
        return
    failure = done.exception()
    _settle(batch, None if failure is not None else done.result(), failure)


def _settle(
    batch: list[tuple[CaseFetched, bool, asyncio.Future[CaseReading]]],
    readings: list[CaseReading] | None,
    failure: BaseException | None,
) -> None:
    for index, (_, _, reading) in enumerate(batch):
        if reading.done():  # its crawl task was cancelled meanwhile
            continue
        if readings is not None:
            reading.set_result(readings[index])
        else:
            reading.set_exception(failure or RuntimeError("no reading came back"))
