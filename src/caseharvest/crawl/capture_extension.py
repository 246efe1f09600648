"""The thin Scrapy side of WARC capture: every downloaded response goes to the WARC writer.

Capturing in the ``response_downloaded`` signal (not in a downloader middleware) is what makes
the archive faithful: it fires before HttpCompressionMiddleware decodes bodies and before the
retry and redirect middlewares swallow 5xx and 3xx answers (see README, "WARC files").
"""

from __future__ import annotations

import logging
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import scrapy
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from caseharvest import __version__
from caseharvest.archive.run import ArchiveRun
from caseharvest.capture.exchange import HttpExchange
from caseharvest.capture.warc_reader import sha1_digest
from caseharvest.capture.warc_writer import RevisitOf, RotatingWarcWriter
from caseharvest.crawl.case_reader import extract_workers
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage
from caseharvest.crawl.warc_indexing import WarcIndexing
from caseharvest.model import Capture

logger = logging.getLogger(__name__)

CAPTURE_META_KEY = "caseharvest_capture"
BODILESS_STATUSES = (204, 304)

RECONSTRUCTED = (
    "HTTP header names are re-cased by the HTTP client; the status line's reason phrase is the "
    "standard phrase for the code; hop-by-hop headers (Connection, Keep-Alive, "
    "Transfer-Encoding) are not recorded and chunked bodies are stored de-chunked; request "
    "records add Host and Content-Length as the client sends them. Status codes, header values "
    "(repeats kept, in order per name) and body bytes (still content-encoded) are as received."
)


def exchange_from_scrapy(request: Request, response: Response) -> HttpExchange:
    """Plain values of a Scrapy request/response pair, headers as lists with repeats kept."""
    return HttpExchange(
        url=response.url,
        method=request.method,
        request_headers=tuple(
            (name, value) for name, values in request.headers.items() for value in values
        ),
        request_body=request.body or b"",
        status=response.status,
        response_headers=tuple(
            (name, value)
            for name, values in response.headers.items()
            for value in values
            # Twisted invents "length 0" for bodiless statuses, and Scrapy turns it into a
            # Content-Length header the server may never have sent.
            if not (response.status in BODILESS_STATUSES and name.lower() == b"content-length")
        ),
        response_body=response.body,
        date=datetime.now(UTC),
        protocol=response.protocol or "HTTP/1.1",
        ip_address=str(response.ip_address) if response.ip_address else None,
    )


def warcinfo_fields(
    run: ArchiveRun, user_agent: str, contact: str, robots: bool, description: str
) -> dict[str, str]:
    """The warcinfo record of every file this run writes."""
    return {
        "software": (
            f"caseharvest/{__version__} (Scrapy/{scrapy.__version__}; "
            f"warcio/{version('warcio')}; Python/{platform.python_version()})"
        ),
        "isPartOf": f"caseharvest-{run.profile.name}",
        "operator": contact,
        "robots": "obey" if robots else "ignore",
        "http-header-user-agent": user_agent,
        "description": " ".join(
            part
            for part in (
                f"{run.profile.title}: "
                + "; ".join(f"column {c.id} {c.name} ({c.url})" for c in run.profile.columns)
                + ".",
                description,
                RECONSTRUCTED,
            )
            if part
        ),
    }


class WarcCaptureExtension:
    """Writes every response the downloader gets, with its request, to the run's WARC files."""

    def __init__(
        self,
        run: ArchiveRun,
        writer: RotatingWarcWriter,
        crawler: Crawler | None = None,
        indexing: WarcIndexing | None = None,
    ) -> None:
        self.run = run
        self.writer = writer
        self.crawler = crawler
        self.indexing = indexing or WarcIndexing(run, background=False)
        # Set once a stop signal closed the WARC file: answers still arriving while Scrapy
        # winds down are not archived (a new file would be left open); their cases end with
        # the stop's reason.
        self.stopped = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureExtension:
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun):
            raise NotConfigured("WARC capture runs with caseharvest's column spider")
        if run.from_warc is not None:
            # Answers come from archived captures: writing them again would fake captures.
            raise NotConfigured("fetch --from-warc captures nothing")
        if crawler.settings.getbool("HTTPCACHE_ENABLED"):
            # A cache hit never reaches the network, so archiving it would fake a capture.
            raise ValueError("HTTPCACHE_ENABLED must be off: cache hits are not captures")
        settings = crawler.settings
        indexing = WarcIndexing(run, background=extract_workers(settings) > 0)
        writer = RotatingWarcWriter(
            run.layout.warc_dir(run.profile.name),
            run.profile.name,
            warcinfo_fields(
                run,
                user_agent=settings.get("USER_AGENT"),
                contact=settings.get("CASEHARVEST_CONTACT"),
                robots=settings.getbool("ROBOTSTXT_OBEY"),
                description=settings.get("CASEHARVEST_WARCINFO_DESCRIPTION", ""),
            ),
            max_size=settings.getint("CASEHARVEST_WARC_MAX_SIZE"),
            on_file_closed=indexing.file_closed,
        )
        extension = cls(run, writer, crawler, indexing)
        crawler.signals.connect(extension.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def response_downloaded(self, response: Response, request: Request, **_: Any) -> None:
        try:
            self._capture(request, response)
        except Exception as exc:
            if not is_storage_failure(exc) or self.crawler is None:
                raise
            stop_for_storage(self.crawler, self.run, exc, "the WARC file")

    def _capture(self, request: Request, response: Response) -> None:
        if self.stopped:
            logger.info("not archived, the run is stopping: %s", response.url)
            return
        exchange = exchange_from_scrapy(request, response)
        revisit_of = self._revisit_for(exchange)
        record = self.writer.write_exchange(exchange, revisit_of)
        self.indexing.wrote(self.writer)
        capture_id = self.run.catalog.add_capture(
            run_id=self.run.run_id,
            url=exchange.url,
            method=exchange.method,
            status=exchange.status,
            record=record,
            headers={
                name.decode("latin-1").lower(): value.decode("latin-1")
                for name, value in exchange.response_headers
            },
        )
        request.meta[CAPTURE_META_KEY] = Capture(capture_id, record)
        self.run.summary.count_capture(record.record_type, len(exchange.response_body), True)

    def _revisit_for(self, exchange: HttpExchange) -> RevisitOf | None:
        """A revisit when the server said 304 or sent the payload we already hold for the URL."""
        if exchange.method != "GET" or exchange.status not in (200, 304):
            return None
        original = self.run.catalog.latest_original(exchange.url)
        if original is None or original.payload_digest is None:
            return None
        if exchange.status == 304:
            profile = "server-not-modified"
        elif exchange.response_body and sha1_digest(exchange.response_body) == (
            original.payload_digest
        ):
            profile = "identical-payload-digest"
        else:
            return None
        return RevisitOf(
            profile=profile,  # type: ignore[arg-type]  # one of the two literals above
            record_id=original.record_id,
            target_uri=original.url,
            warc_date=original.warc_date,
            payload_digest=original.payload_digest,
        )

    def spider_closed(self, **_: Any) -> None:
        # An answer still arriving after the close (a download in flight when a stop signal
        # closed the spider) would open a new file that nothing closes.
        self.stopped = True
        self.writer.close()
        self.run.catalog.commit()
        self.indexing.finish()

    def stop_now(self) -> None:
        """The run stops without closing the spider (a signal): finish the WARC file now."""
        self.stopped = True
        try:
            self.spider_closed()
        except Exception as exc:
            # Left .open, it is recovered by the next run; the summary says so.
            self.run.summary.warn(
                f"the WARC file could not be closed ({exc}): the next run recovers it"
            )
