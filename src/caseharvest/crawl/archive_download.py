"""`fetch --from-warc`: a Scrapy download handler that answers from archived captures.

The spider runs unchanged; every request is looked up in a CDXJ index of the given WARC files
and answered with the status, headers and body bytes archived for it (still content-encoded,
so Scrapy's middlewares decode and redirect as they did live). A URL the archive lacks is a
miss, reported as such, never a made-up 404.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from caseharvest.archive.capture_index import ArchivedResponse, CaptureIndex
from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.capture_extension import CAPTURE_META_KEY
from caseharvest.model import Capture, WarcRecordRef

CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")


class ArchiveMiss(IgnoreRequest):
    """The archive holds no capture for this request."""


def _header_bytes(value: str) -> bytes:
    # warcio decodes header bytes as UTF-8 when it can, else as Latin-1; undo whichever it was.
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


class ArchiveDownloadHandler(BaseDownloadHandler):
    """Answers http(s) requests from the run's capture index instead of the network."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        run = getattr(crawler.spider, "run", None)
        if not isinstance(run, ArchiveRun) or run.from_warc is None:
            raise NotConfigured("answering from WARC files needs `fetch --from-warc`")
        self.index: CaptureIndex = run.from_warc
        self.run: ArchiveRun = run
        self.at: str | None = run.from_warc_at or None

    async def download_request(self, request: Request) -> Response:
        conditional = any(name in request.headers for name in CONDITIONAL_HEADERS)
        entry = self.index.lookup(
            request.method, request.url, request.body or b"", self.at, conditional
        )
        if entry is None:
            self.run.summary.misses.append(f"{request.method} {request.url}")
            raise ArchiveMiss(f"not in the archive: {request.method} {request.url}")
        archived = self.index.read(entry)
        request.meta[CAPTURE_META_KEY] = self._register(request, archived)
        headers = Headers()
        for name, value in archived.headers:
            headers.appendlist(name, _header_bytes(value))
        self.run.summary.count_capture(None, len(archived.body), False)
        response_class = responsetypes.from_args(
            headers=headers, url=request.url, body=archived.body
        )
        return response_class(
            url=request.url,
            status=archived.status,
            headers=headers,
            body=archived.body,
            protocol="HTTP/1.1",
        )

    def _register(self, request: Request, archived: ArchivedResponse) -> Capture:
        """The capture in this run's catalog, pointing at the source record."""
        entry = archived.entry
        record = WarcRecordRef(
            warc_file=entry.filename,
            offset=entry.offset,
            length=entry.length,
            record_id=archived.record_id,
            record_type="revisit" if entry.is_revisit else "response",
            warc_date=archived.warc_date,
            payload_digest=archived.payload_digest,
            request_record_id="",
        )
        catalog = self.run.catalog
        existing = catalog.capture_id(record.record_id)
        if existing is None:
            existing = catalog.add_capture(
                run_id=self.run.run_id,
                url=entry.url,
                method=request.method,
                status=archived.status,
                record=record,
                headers={name.lower(): value for name, value in archived.headers},
            )
        return Capture(existing, record)
