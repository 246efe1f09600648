"""A disk that refuses writes stops the crawl at once, with one line saying what and where.

A full disk (ENOSPC), a file-size limit (EFBIG), a read-only remount (EROFS), an I/O error:
whatever keeps the archive from storing what the crawl fetches makes every further request a
waste and a hazard (thousands of failures, a run recorded as a success). The first one ends
the run: the cause goes into the summary, the spider closes, the WARC file being written is
closed or left `.open` for the next run to recover.
"""

from __future__ import annotations

import logging
import sqlite3

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from caseharvest.archive.catalog import is_storage_error
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.run_summary import REPORTED_AT_THE_END

logger = logging.getLogger(__name__)

STOP_REASON = "caseharvest_storage"


def is_storage_failure(exc: BaseException) -> bool:
    """True for an error of the archive's storage (not of the site or of a page)."""
    return is_storage_error(exc)


def describe(exc: BaseException, what: str) -> str:
    """``cannot write WHAT: no space left on device (PATH)``."""
    if isinstance(exc, sqlite3.Error):
        return f"cannot write the catalog: {exc}; the run stops here"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot write {what}: {exc.strerror.lower()}{where}; the run stops here"
    return f"cannot write {what}: {exc}; the run stops here"


def stop_for_storage(crawler: Crawler, run: ArchiveRun, exc: BaseException, what: str) -> None:
    """Record the cause once and close the spider (from a signal handler or a pipeline)."""
    message = describe(exc, what)
    if not any(cause.startswith("cannot write ") for cause in run.summary.fatal):
        logger.error("%s", message, exc_info=exc, extra=REPORTED_AT_THE_END)
        run.summary.fatal.append(message)
    engine = crawler.engine
    if engine is not None and getattr(engine, "spider", None) is not None:
        deferred_from_coro(engine.close_spider_async(reason=STOP_REASON))
