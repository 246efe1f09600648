"""Requests lost to a stale keep-alive connection are sent again on a fresh one, POSTs too.

A server that closes a connection without saying `Connection: close` (an HTTP/1.0 server, an
idle keep-alive timeout firing as we reuse the connection) leaves stale connections in the
pool. Twisted re-sends only idempotent requests on a fresh connection; a listing POST failed
with ResponseNeverReceived on every try and the run stopped with cases unlisted. This
middleware re-sends such a request (without using the retry budget, which is for the site's
faults); the first time, it empties the connection pool and stops keeping connections alive
(a run crawls one site: that site does not support them), so the retry and every request
after it go out on a fresh connection.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.web.client import ResponseNeverReceived

logger = logging.getLogger(__name__)

META_KEY = "caseharvest_stale_retries"
MAX_STALE_RETRIES = 3


def _lost_before_any_answer(exception: BaseException) -> bool:
    """True when the connection died before a byte of the answer came back (a stale one)."""
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ResponseNeverReceived):
            return True
        reasons = getattr(current, "reasons", None)
        if reasons and all(
            getattr(reason, "check", lambda *_: None)(ConnectionDone, ConnectionLost)
            for reason in reasons
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def _close_instead_of_caching(_key: Any, connection: Any) -> None:
    connection.transport.loseConnection()


class FreshConnectionRetry:
    """Downloader middleware: a stale connection is not the site's fault; try a fresh one."""

    def __init__(
        self, crawler: Crawler | None = None, max_retries: int = MAX_STALE_RETRIES
    ) -> None:
        self.crawler = crawler
        self.max_retries = max_retries
        self.closing_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FreshConnectionRetry:
        return cls(crawler)

    def _stop_keeping_connections(self) -> None:
        """Close the pooled connections (any may be stale) and pool no more of them.

        Scrapy offers no public handle on its HTTP/1.1 handler's Twisted connection pool;
        the handlers it has made are reached as they are stored. Without one (another
        download handler), `Connection: close` on every request still prevents new stale
        connections.
        """
        engine = getattr(self.crawler, "engine", None)
        handlers = getattr(
            getattr(getattr(engine, "downloader", None), "handlers", None), "_handlers", {}
        )
        for handler in handlers.values():
            pool = getattr(handler, "_pool", None)
            if pool is not None and hasattr(pool, "closeCachedConnections"):
                pool.persistent = False
                # Requests already under way were made persistent: their connections would
                # come back into the pool when they finish, stale. None is cached any more.
                pool._putConnection = _close_instead_of_caching
                pool.closeCachedConnections()

    def process_request(self, request: Request, spider: Any = None) -> None:
        host = urlsplit(request.url).netloc
        if host in self.closing_hosts and b"Connection" not in request.headers:
            request.headers[b"Connection"] = b"close"

    def process_exception(
        self, request: Request, exception: BaseException, spider: Any = None
    ) -> Request | None:
        if not _lost_before_any_answer(exception):
            return None
        tries = int(request.meta.get(META_KEY, 0))
        if tries >= self.max_retries:
            return None  # the retry middleware decides from here
        host = urlsplit(request.url).netloc
        if host not in self.closing_hosts:
            logger.warning(
                "%s drops kept-alive connections without notice: asking it to close each "
                "connection after its answer from now on",
                host,
            )
            self.closing_hosts.add(host)
            self._stop_keeping_connections()
        retry = request.replace(dont_filter=True)
        retry.headers[b"Connection"] = b"close"
        retry.meta[META_KEY] = tries + 1
        return retry
