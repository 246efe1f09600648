"""The column spider: walks each column's listing through its listing source, then fetches
every case page, its attachments and the page requisites, on the hosts the profile allows.

The spider is glue: the listing's policy is :class:`~caseharvest.crawl.column_walk.ColumnWalk`,
the CMS family's paging is the listing source, and what a case becomes is the ledger's call.
It runs inside `caseharvest fetch` (which passes the run as the ``run`` argument) or under
plain Scrapy / Scrapyd: ``scrapy crawl column -a site=NAME -a archive=DIR``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urldefrag

import scrapy
from scrapy import FormRequest, Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caseharvest.archive.case_store import CaseFetched
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.run_summary import REPORTED_AT_THE_END
from caseharvest.capture.content_coding import decode_body
from caseharvest.crawl.archive_download import ArchiveMiss
from caseharvest.crawl.capture_extension import CAPTURE_META_KEY
from caseharvest.crawl.case_reader import CaseReader, ReadCase, extract_workers
from caseharvest.crawl.column_walk import ColumnWalk, WalkError
from caseharvest.crawl.run_options import attach_run_log, begin_run_from_arguments, detach_run_log
from caseharvest.crawl.storage_failures import is_storage_failure, stop_for_storage
from caseharvest.extract.page_links import css_references, page_links
from caseharvest.listings.base import ListingAnswer, ListingRequest
from caseharvest.model import DEAD_STATUSES, Capture, CaseKey, ListingRecord

logger = logging.getLogger(__name__)

# Error answers reach the callbacks (after the retry middleware has had its tries), so that
# each one is recorded with its cause; redirects (3xx) are still followed.
ERROR_STATUSES = list(range(400, 600))
ROLE = "caseharvest_role"
# Case pages' redirects are followed by the spider (see ColumnSpider._case_redirect).
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_CASE_REDIRECTS = 5
CASE_HTTPSTATUS_LIST = [*REDIRECT_STATUSES, *range(400, 600)]
CASE_REDIRECTS_META: dict[str, object] = {
    "dont_redirect": True,
    "handle_httpstatus_list": CASE_HTTPSTATUS_LIST,
}
# What a case request carries, and a redirect of it passes on.
CASE_META_KEYS = ("listing", "key", "column", *CASE_REDIRECTS_META)
# What a case page may be; anything else fails the case (the WARC keeps what came).
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml", "text/plain")


def anti_bot_challenge(response: Response) -> str | None:
    """The name of the anti-bot system behind *response*, if it is a challenge."""
    cookies = b" ".join(response.headers.getlist(b"Set-Cookie"))
    if response.status == 412 and (b"$_ts" in response.body or b"$_ts" in cookies):
        return "HTTP 412 with a $_ts JavaScript challenge (Ruishu/瑞数 anti-bot)"
    if response.status in (521, 403) and b"__jsluid" in cookies:
        return f"HTTP {response.status} with a __jsluid cookie (加速乐/Jiasule anti-bot)"
    # Jiasule's second answer sets no cookie: its go({…"tn":"__jsl_clearance_s"…}) script says it.
    if response.status in (521, 403) and b"__jsl_clearance" in response.body:
        return f"HTTP {response.status} with a __jsl_clearance script (加速乐/Jiasule anti-bot)"
    if response.status == 521 and b"document.cookie" in response.body:
        return "HTTP 521 with a cookie-setting script (加速乐/Jiasule-like anti-bot)"
    if response.status == 429:
        return "HTTP 429 Too Many Requests (a WAF blocking a burst of requests)"
    return None


def not_a_case_page(response: Response, body: bytes) -> str | None:
    """Why a 200 answer cannot be a case page (binary, empty), or None when it can."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    media = content_type.split(";", 1)[0].strip()
    if media and media not in HTML_TYPES:
        return f"not an HTML page (Content-Type {media})"
    if not body.strip():
        return "the page is empty (HTTP 200 with no content)"
    return None


def decoded_body(response: Response) -> tuple[bytes, str | None]:
    """The body with any content coding Scrapy left in place undone (``compress``, …).

    Scrapy decodes gzip, deflate, br and zstd and then drops the header; a coding still
    named is one it cannot decode. Returns the body and, when it stays coded, the reason the
    case fails.
    """
    coding = (response.headers.get(b"Content-Encoding") or b"").decode("latin-1").strip()
    if not coding or coding.lower() == "identity":
        return response.body, None
    decoded = decode_body(response.body, content_encoding=coding)
    if decoded.applied:
        return decoded.body, None
    return response.body, f"the page came with Content-Encoding {coding}, which cannot be decoded"


def _text_of(response: Response) -> str:
    if isinstance(response, TextResponse):
        return response.text
    return response.body.decode("utf-8", errors="replace")


class ColumnSpider(scrapy.Spider):
    """Archive every case listed in the columns of one site profile."""

    name = "column"

    def __init__(self, run: ArchiveRun | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if run is None:
            raise ValueError(
                "the column spider needs an archive run: run it through `caseharvest fetch`, "
                "or as `scrapy crawl column -a site=NAME -a archive=DIR`"
            )
        self.run = run
        self.profile = run.profile
        self.ledger = run.ledger
        self.allowed_domains = list(self.profile.allowed_hosts)
        self.walks: dict[str, ColumnWalk] = {}
        # Requisites (stylesheets, scripts, images) are fetched once per archive.
        self.requisites_seen: set[str] = set()
        self.refused_by_site = False  # an anti-bot answer stopped this run
        self.fetch_requisites = True
        self.reader = CaseReader(self.profile.extraction, workers=0)
        # Under plain Scrapy, the run's own log file (`fetch` attaches it itself).
        self.own_run_log: logging.Handler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ColumnSpider:
        owns_run = kwargs.get("run") is None
        if owns_run:
            # Plain `scrapy crawl` (Scrapyd): the spider begins and ends the run itself. A run
            # that cannot begin (archive locked …) is one log line and a failed process.
            kwargs = {"run": begin_run_from_arguments(kwargs, crawler.settings)}
        spider: ColumnSpider = super().from_crawler(crawler, *args, **kwargs)
        spider.fetch_requisites = crawler.settings.getbool("CASEHARVEST_REQUISITES", True)
        spider.reader = CaseReader(spider.profile.extraction, extract_workers(crawler.settings))
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        if owns_run:
            spider.own_run_log = attach_run_log(spider.run)
            crawler.signals.connect(spider.finish_own_run, signal=signals.engine_stopped)
        return spider

    def finish_own_run(self) -> None:
        """Under plain Scrapy: finish the run (report, catalog, lock) once everything stopped."""
        try:
            self._finish_own_run()
        finally:
            if self.own_run_log is not None:
                detach_run_log(self.own_run_log)

    def _finish_own_run(self) -> None:
        summary = self.run.finish()
        log = logger.error if summary.exit_code else logger.info
        log(
            "caseharvest run %s of %s finished with exit code %d: %d new, %d revised, "
            "%d unchanged, %d failed",
            summary.run_id,
            summary.site,
            summary.exit_code,
            summary.new,
            summary.revised,
            summary.unchanged,
            len(summary.failed),
        )
        for cause in summary.causes():
            logger.error("caseharvest: %s", cause)

    # -- requests -----------------------------------------------------------------------------

    def _request(self, url: str, callback: Any, role: str, **kwargs: Any) -> Request:
        meta = {"handle_httpstatus_list": ERROR_STATUSES, ROLE: role, **kwargs.pop("meta", {})}
        factory = FormRequest if "formdata" in kwargs else Request
        return factory(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def _listing_request(self, walk: ColumnWalk, listing: ListingRequest) -> Request:
        kwargs: dict[str, Any] = {"priority": 10, "dont_filter": True}
        if listing.form is not None:
            kwargs["formdata"] = dict(listing.form)
        elif listing.method != "GET":
            kwargs["method"] = listing.method
        if listing.headers:
            kwargs["headers"] = dict(listing.headers)
        return self._request(
            listing.url,
            self.parse_listing,
            "listing",
            meta={"column": walk.column, "listing_request": listing},
            **kwargs,
        )

    async def start(self) -> AsyncIterator[Request]:
        for column in self.profile.columns:
            full = self.run.full or self.run.full_due(column.id)
            walk = ColumnWalk(
                self.profile.listing_source(column),
                self.ledger,
                full=full,
                profile_columns=frozenset(c.id for c in self.profile.columns),
            )
            self.walks[column.id] = walk
            for listing in walk.start():
                yield self._listing_request(walk, listing)
        if self.run.revalidate:
            for request in self._revalidations():
                yield request

    def _revalidations(self) -> Iterator[Request]:
        """A conditional GET for every known case of the columns crawled."""
        for case in self.run.catalog.iter_cases(self.profile.name):
            if case.status != "archived" or not self._crawls_column_of(case.key):
                continue
            headers = {}
            original = self.run.catalog.latest_original(case.url)
            if original is not None and original.etag:
                headers["If-None-Match"] = original.etag
            if original is not None and original.last_modified:
                headers["If-Modified-Since"] = original.last_modified
            metadata = case.metadata or {}
            record = ListingRecord(case.url, metadata.get("title") or "", metadata.get("published"))
            self.ledger.revalidating(case.key, case.url, record)
            yield self._request(
                case.url,
                self.parse_case,
                "case",
                headers=headers,
                dont_filter=True,  # one per known case, as for listed ones
                meta={
                    "listing": record,
                    "key": case.key,
                    **CASE_REDIRECTS_META,
                    "handle_httpstatus_list": [304, *CASE_HTTPSTATUS_LIST],
                },
            )

    def _crawls_column_of(self, key: CaseKey) -> bool:
        """True when this run walks the column of *key* (keys naming a sub-column of the
        profile's, as Hanweb URLs do, belong to every column walked)."""
        profile_columns = {column.id for column in self.profile.columns}
        return key.column in self.walks or key.column not in profile_columns

    def _fatal(self, message: str) -> CloseSpider:
        """Record a cause that ends the run with exit 1; the caller raises what this returns."""
        logger.error("%s", message, extra=REPORTED_AT_THE_END)
        self.run.summary.fatal.append(message)
        return CloseSpider("caseharvest_fatal")

    def _check_challenge(self, response: Response) -> None:
        challenge = anti_bot_challenge(response)
        if challenge and self.refused_by_site:
            # Requests already queued when the site refused us: one message is enough.
            raise CloseSpider("caseharvest_fatal")
        if challenge:
            self.refused_by_site = True
            raise self._fatal(
                f"{response.url}: {challenge}. The site is refusing automated access; "
                "stopping instead of retrying. Try later, or ask the site operator."
            )

    def _walk_failed(self, walk: ColumnWalk, message: str) -> None:
        """A column whose listing cannot be trusted: it stops; other columns go on."""
        walk.failed = message
        if all(w.failed for w in self.walks.values()):
            raise self._fatal(message)
        logger.error("%s", message, extra=REPORTED_AT_THE_END)
        self.run.summary.fatal.append(message)

    # -- listing ------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[Request]:
        self._check_challenge(response)
        walk = self.walks[response.meta["column"]]
        if walk.failed:
            return
        headers = {
            name.decode("latin-1").lower(): values[-1].decode("latin-1")
            for name, values in response.headers.items()
            if values
        }
        answer = ListingAnswer(
            request=response.meta["listing_request"],
            url=response.url,
            status=response.status,
            text=_text_of(response),
            headers=headers,
        )
        try:
            step = walk.on_answer(answer)
        except WalkError as exc:
            self._walk_failed(walk, str(exc))
            return
        if response.status == 200 and "html" in headers.get("content-type", ""):
            yield from self._requisites(page_links(answer.text, response.url).requisites)
        for key, record in step.cases:
            yield self._case_request(walk, key, record)
        for listing in step.requests:
            yield self._listing_request(walk, listing)

    def _case_request(self, walk: ColumnWalk, key: CaseKey, record: ListingRecord) -> Request:
        # The ledger asks for each listed case once per run (`CaseLedger.listed`) and case
        # redirects are followed here: Scrapy's duplicate filter would only keep a second
        # fingerprint of every case to the end of the crawl.
        return self._request(
            urldefrag(record.url)[0],
            self.parse_case,
            "case",
            dont_filter=True,
            meta={
                "listing": record,
                "key": key,
                "column": walk.column,
                "counted": True,
                **CASE_REDIRECTS_META,
            },
        )

    def _case_answered(self, request: Request) -> Iterator[Request]:
        """A listed case got its answer: read further in the listing if it was waiting."""
        if not request.meta.get("counted"):
            return
        walk = self.walks[request.meta["column"]]
        for listing in walk.case_answered():
            yield self._listing_request(walk, listing)

    def spider_idle(self) -> None:
        """Never close with the listing unread (should a case request vanish uncounted)."""
        released = [
            self._listing_request(walk, listing)
            for walk in self.walks.values()
            if not walk.failed
            for listing in walk.release_deferred()
        ]
        if not released:
            return
        for request in released:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    # -- cases ----------------------------------------------------------------------------------

    async def parse_case(self, response: Response) -> AsyncIterator[Request | ReadCase]:
        request = response.request or Request(response.url)
        for resumed in self._case_answered(request):
            yield resumed
        self._check_challenge(response)
        record: ListingRecord = response.meta["listing"]
        key: CaseKey = response.meta["key"]
        url = urldefrag(record.url)[0]
        try:
            async for output in self._case_answer(response, key, url, record):
                yield output
        except CloseSpider:
            raise
        except Exception as exc:
            if is_storage_failure(exc):
                stop_for_storage(self.crawler, self.run, exc, "the catalog")
                return
            # A page that breaks our code fails its case with the reason; the run goes on.
            logger.exception("case %s could not be processed", url)
            self.ledger.failed(key, url, f"{type(exc).__name__}: {exc}", record)

    async def _case_answer(
        self, response: Response, key: CaseKey, url: str, record: ListingRecord
    ) -> AsyncIterator[Request | ReadCase]:
        capture: Capture | None = response.meta.get(CAPTURE_META_KEY)
        if capture is None:
            # Not archived: a stop signal closed the WARC file first. The case stays open and
            # ends with the stop's reason.
            return
        if response.status in REDIRECT_STATUSES:
            for redirect in self._case_redirect(response, key, url, record):
                yield redirect
            return
        if response.status in DEAD_STATUSES:
            self.ledger.dead(key, url, response.status, capture.fetched_at, record)
            return
        if response.status not in (200, 304):
            self.ledger.failed(key, url, f"HTTP {response.status}", record)
            return
        body = response.body
        if response.status == 200:
            body, refused = decoded_body(response)
            refused = refused or not_a_case_page(response, body)
            if refused is not None:
                self.ledger.failed(key, url, refused, record)
                return
        content_type = response.headers.get(b"Content-Type")
        case = CaseFetched(
            key=key,
            url=url,
            listing=record,
            body=body,
            content_type=content_type.decode("latin-1") if content_type else None,
            capture=capture,
            not_modified=response.status == 304,
        )
        # Extraction is skipped when the page is byte-identical to an archived version.
        extract = self.ledger.needs_extraction(case)
        if case.not_modified and not extract:
            yield ReadCase(case, None)
            return
        # One parse gives the links to archive with the page and its extraction.
        reading = await self.reader.read(case, extract=extract)
        for request in self._requisites(reading.links.requisites):
            yield request
        for _name, link in reading.links.attachments:
            if self.profile.allows(link):
                yield self._request(
                    link, self.parse_attachment, "attachment", meta={"case": url}, priority=-1
                )
        yield ReadCase(case, reading.page)

    def _case_redirect(
        self, response: Response, key: CaseKey, url: str, record: ListingRecord
    ) -> Iterator[Request]:
        """Follow a case page's redirect ourselves, so that every end of it has a reason.

        Scrapy's redirect middleware would drop a redirect to a page already fetched, or off
        the site, without calling back: the case would vanish from the run.
        """
        location = response.headers.get(b"Location")
        if not location:
            self.ledger.failed(key, url, f"HTTP {response.status} without a Location", record)
            return
        target = urldefrag(response.urljoin(location.decode("latin-1").strip()))[0]
        chain: tuple[str, ...] = (*response.meta.get("redirect_chain", ()), response.url)
        if target in chain or len(chain) > MAX_CASE_REDIRECTS:
            hops = " -> ".join((*chain, target))
            self.ledger.failed(key, url, f"redirect loop: {hops}", record)
            return
        if not self.profile.allows(target):
            self.ledger.failed(key, url, f"redirects off the site, to {target}", record)
            return
        target_key = self.walk_key(target)
        if target_key is not None and target_key != key and target_key in self.ledger.listed_keys:
            self.ledger.failed(
                key, url, f"redirects to another case of the listing, {target}", record
            )
            return
        # Only our own keys: Scrapy's (retry_times, download_latency, proxy state) belong to
        # the answered request, not to the next one.
        meta = {name: response.meta[name] for name in CASE_META_KEYS if name in response.meta}
        meta.update(redirect_chain=chain, counted=False)
        # We checked the host and the chain; the duplicate filter would drop a revisit.
        yield self._request(target, self.parse_case, "case", meta=meta, dont_filter=True)

    def walk_key(self, url: str) -> CaseKey | None:
        """The case key of *url* by any column walked in this run."""
        for walk in self.walks.values():
            key = walk.source.case_key(url)
            if key is not None:
                return key
        return None

    def closed(self, reason: str) -> None:
        """Withdrawals after complete walks; every listed case still open fails with a reason."""
        summary = self.run.summary
        complete = [w for w in self.walks.values() if w.complete and not w.failed]
        summary.full_walk = bool(self.walks) and len(complete) == len(self.walks)
        summary.full_walk_columns = [w.column for w in complete]
        if reason == "finished" and not summary.fatal:
            for walk in complete:
                self.ledger.withdraw_unlisted(walk.column)
        why = {
            "finished": "no answer was recorded for it (a redirect to a page fetched already, "
            "or a request dropped on the way)",
            "shutdown": "the run was stopped before its answer was stored",
        }.get(reason, f"the run ended ({reason}) before its answer was stored")
        self.reader.close()
        self.ledger.close_open(why)
        if self.run.from_warc is not None:
            # A run over an archive rebuilds it as `replay` does, and leaves the tokenizing to
            # the next search as replay does (archive/search_index.py): the catch-up took 7.7 s
            # after a 20,000-case crawl, on one core, and searches find the stored rows anyway.
            return
        try:
            self.ledger.index_pending()
        except Exception as exc:  # the next search catches up; a refusing disk is named already
            if not is_storage_failure(exc):
                raise

    # -- attachments and requisites -------------------------------------------------------------

    def _requisites(self, urls: Iterable[str]) -> Iterator[Request]:
        if not self.fetch_requisites:
            return
        for url in urls:
            # Every case page names the same few stylesheets and scripts: decide once per URL
            # (Scrapy's duplicate filter would drop the repeats, but only after the request
            # went through the whole middleware chain).
            if url in self.requisites_seen:
                continue
            self.requisites_seen.add(url)
            if self.profile.allows(url) and not self.run.catalog.has_archived(url):
                yield self._request(url, self.parse_requisite, "requisite", priority=-2)

    def parse_attachment(self, response: Response) -> None:
        self._check_challenge(response)
        case = response.meta["case"]
        summary = self.run.summary
        if response.status == 200:
            summary.attachments += 1
        elif response.status in DEAD_STATUSES:
            summary.warn(
                f"attachment {response.url} of {case} is a dead link (HTTP {response.status})"
            )
        elif self.run.catalog.has_archived(response.url):
            # Download gateways (jpaas) refuse a repeat within minutes: the archive has the file.
            summary.warn(
                f"attachment {response.url} of {case} answered HTTP {response.status} this "
                "time; an earlier answer is archived"
            )
        else:
            summary.fail(response.url, f"attachment of {case}: HTTP {response.status}")

    def parse_requisite(self, response: Response) -> Iterator[Request]:
        self._check_challenge(response)
        if response.status != 200:
            self.run.summary.warn(f"page requisite {response.url}: HTTP {response.status}")
            return
        self.run.summary.requisites += 1
        content_type = (response.headers.get(b"Content-Type") or b"").lower()
        if b"text/css" in content_type or response.url.lower().endswith(".css"):
            css = response.body.decode("utf-8", errors="replace")
            yield from self._requisites(css_references(css, response.url))

    # -- errors -----------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy
        role = request.meta.get(ROLE)
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value).lower():
            reason = "forbidden by robots.txt"
        elif failure.check(ArchiveMiss):
            reason = "not in the archive"  # also listed among the run's misses
        elif failure.check(IgnoreRequest):
            reason = f"not fetched: {failure.value}"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        if role == "listing":
            walk = self.walks[request.meta["column"]]
            if not walk.failed:
                self._walk_failed(walk, f"listing request {request.url} failed: {reason}")
            return
        if role == "case":
            for resumed in self._case_answered(request):
                self.crawler.engine.crawl(resumed)
            record = request.meta["listing"]
            self.ledger.failed(request.meta["key"], urldefrag(request.url)[0], reason, record)
        elif role == "attachment":
            self.run.summary.fail(request.url, f"attachment of {request.meta['case']}: {reason}")
        else:
            self.run.summary.warn(f"page requisite {request.url}: {reason}")


__all__ = ["ColumnSpider", "anti_bot_challenge"]
