"""The column spider: walks a Hanweb jpage listing, then fetches every case page, its
attachments and the page requisites, all on the hosts the site profile allows."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import urldefrag

import scrapy
from scrapy import FormRequest, Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from caseharvest.archive.case_store import Capture, CaseFetched
from caseharvest.archive.catalog import CaseRow
from caseharvest.archive.run import ArchiveRun, utc_now
from caseharvest.crawl.archive_download import ArchiveMiss
from caseharvest.crawl.capture_extension import CAPTURE_META_KEY
from caseharvest.extract.page_links import css_references, page_links
from caseharvest.listings.hanweb_jpage import (
    DEAD_STATUSES,
    CsrfStubError,
    Datastore,
    JpageColumn,
    ListingError,
    ListingRecord,
    article_ids,
    parse_column_page,
    parse_datastore,
)

logger = logging.getLogger(__name__)

# Error answers reach the callbacks (after the retry middleware has had its tries), so that
# each one is recorded with its cause; redirects (3xx) are still followed.
ERROR_STATUSES = list(range(400, 600))
ROLE = "caseharvest_role"
LISTING_AHEAD = 2  # listing groups' worth of case requests queued before reading more
# A fallback from POST to the GET form of dataproxy.jsp happens on these answers.
POST_REFUSED_STATUSES = (400, 403, 404, 405, 415, 501)


def anti_bot_challenge(response: Response) -> str | None:
    """The name of the anti-bot system behind *response*, if it is a challenge."""
    cookies = b" ".join(response.headers.getlist(b"Set-Cookie"))
    if response.status == 412 and (b"$_ts" in response.body or b"$_ts" in cookies):
        return "HTTP 412 with a $_ts JavaScript challenge (Ruishu/瑞数 anti-bot)"
    if response.status in (521, 403) and b"__jsluid" in cookies:
        return f"HTTP {response.status} with a __jsluid cookie (加速乐/Jiasule anti-bot)"
    return None


class ColumnSpider(scrapy.Spider):
    """Archive every case listed in one column of a site profile."""

    name = "column"

    def __init__(
        self, run: ArchiveRun, full: bool = False, revalidate: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.profile = run.profile
        self.allowed_domains = list(self.profile.allowed_hosts)
        self.full = full
        self.revalidate = revalidate
        # Known cases are not fetched again (dead links included) unless revalidating.
        self.known = run.catalog.case_urls(self.profile.name, "archived", "dead")
        self.withdrawn = run.catalog.withdrawn_urls(self.profile.name)
        # Requisites (stylesheets, scripts, images) are fetched once per archive.
        self.requisites_seen: set[str] = set()
        # Case requests queued and not answered yet: the listing is read ahead of the case
        # pages by at most LISTING_AHEAD groups, so memory does not grow with the column.
        self.cases_pending = 0
        self.deferred_group: Datastore | None = None
        self.listed: set[str] = set()
        self.new_scheduled = 0
        self.column: JpageColumn | None = None
        self.covered = 0
        self.total_record = 0
        self.groups_requested = 0
        self.top_read_at_total = 0
        self.top_rechecks = 0
        self.use_get_paging = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ColumnSpider:
        run = crawler.settings.get("CASEHARVEST_RUN")
        if run is None:
            raise ValueError("the column spider runs inside `caseharvest fetch`")
        kwargs.setdefault("full", crawler.settings.getbool("CASEHARVEST_FULL"))
        kwargs.setdefault("revalidate", crawler.settings.getbool("CASEHARVEST_REVALIDATE"))
        spider: ColumnSpider = super().from_crawler(crawler, *args, run=run, **kwargs)
        spider.fetch_requisites = crawler.settings.getbool("CASEHARVEST_REQUISITES", True)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    fetch_requisites = True

    # -- requests -----------------------------------------------------------------------------

    def _request(self, url: str, callback: Any, role: str, **kwargs: Any) -> Request:
        meta = {"handle_httpstatus_list": ERROR_STATUSES, ROLE: role, **kwargs.pop("meta", {})}
        factory = FormRequest if "formdata" in kwargs else Request
        return factory(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    async def start(self) -> AsyncIterator[Request]:
        yield self._request(self.profile.column.url, self.parse_column, "listing", priority=10)
        if self.revalidate:
            for case in self.run.catalog.iter_cases(self.profile.name, status="archived"):
                yield self._revalidation(case)

    def _revalidation(self, case: CaseRow) -> Request:
        """A conditional GET for a known case, validators taken from its last capture."""
        headers = {}
        original = self.run.catalog.latest_original(case.url)
        if original is not None and original.etag:
            headers["If-None-Match"] = original.etag
        if original is not None and original.last_modified:
            headers["If-Modified-Since"] = original.last_modified
        metadata = case.metadata or {}
        record = ListingRecord(case.url, metadata.get("title") or "", metadata.get("published"))
        self.run.summary.revalidated += 1
        return self._request(
            case.url,
            self.parse_case,
            "case",
            headers=headers,
            meta={"listing": record, "handle_httpstatus_list": [304, *ERROR_STATUSES]},
        )

    def _fatal(self, message: str) -> CloseSpider:
        """Record a cause that ends the run with exit 1; the caller raises what this returns."""
        logger.error("%s", message)
        self.run.summary.fatal.append(message)
        return CloseSpider("caseharvest_fatal")

    def _check_challenge(self, response: Response) -> None:
        challenge = anti_bot_challenge(response)
        if challenge:
            raise self._fatal(
                f"{response.url}: {challenge}. The site is refusing automated access; "
                "stopping instead of retrying. Try later, or ask the site operator."
            )

    # -- listing ------------------------------------------------------------------------------

    def parse_column(self, response: Response) -> Iterator[Request]:
        self._check_challenge(response)
        if response.status != 200:
            raise self._fatal(f"column page {response.url} answered HTTP {response.status}")
        try:
            column = parse_column_page(response.text, response.url)
        except ListingError as exc:
            raise self._fatal(f"column page {response.url}: {exc}") from exc
        if not column.first_group.records:
            raise self._fatal(
                f"column page {response.url} yielded zero records (totalRecord "
                f"{column.total_record}): the page layout may have changed, or the column is "
                "empty; refusing to report 'nothing new'"
            )
        self.column = column
        self.total_record = self.top_read_at_total = column.total_record
        self.run.summary.total_record = column.total_record
        if len(self.known) >= 10 and column.total_record < len(self.known) / 2:
            raise self._fatal(
                f"column page {response.url} reports totalRecord {column.total_record}, far "
                f"below the {len(self.known)} cases this archive knows: the listing looks "
                "broken or truncated; refusing to treat it as the column"
            )
        yield from self._requisites(page_links(response.text, response.url).requisites)
        yield from self._cases(column.first_group.records)
        self.covered = column.group_records
        yield from self._next_group(column.first_group)

    def _next_group(self, group: Datastore) -> Iterator[Request]:
        column = self.column
        assert column is not None
        if self.covered >= self.total_record:
            self.run.summary.full_walk = True
            yield from self._recheck_top()
            return
        if self._limit_reached():
            logger.info("--limit reached: not reading further listing groups")
            return
        if self.cases_pending > LISTING_AHEAD * column.group_records:
            self.deferred_group = group  # read on when the case pages have caught up
            return
        if (
            not self.full
            and group.records
            and all(urldefrag(r.url)[0] in self.known for r in group.records)
            and len(self.known) >= self.total_record
        ):
            logger.info("a whole listing group holds only known cases: listing read far enough")
            return
        self.groups_requested += 1
        if self.groups_requested > math.ceil(self.total_record / column.group_records) + 3:
            raise self._fatal(
                "the listing keeps growing while it is read; stopping after "
                f"{self.groups_requested - 1} groups (totalrecord {self.total_record})"
            )
        start, end = self.covered + 1, self.covered + column.group_records
        meta = {"start": start, "end": end}
        if self.use_get_paging:
            yield self._get_group(start, meta)
        else:
            url, form = column.post_request(start, end)
            yield self._request(
                url, self.parse_group, "listing", formdata=form, meta=meta, priority=10
            )

    def _recheck_top(self) -> Iterator[Request]:
        """Read the top of the listing again when records were added while it was walked.

        New cases appear at the top, which was read first; the walk down only sees the old
        records shifted. Bounded, so a column edited without pause cannot keep us here.
        """
        column = self.column
        assert column is not None
        if self.total_record <= self.top_read_at_total or self.top_rechecks >= 3:
            return
        self.top_rechecks += 1
        self.top_read_at_total = self.total_record
        logger.info(
            "totalrecord grew to %s while reading: reading the top again", self.total_record
        )
        meta = {"start": 1, "end": column.group_records, "recheck": True}
        if self.use_get_paging:
            request = self._get_group(1, meta)
        else:
            url, form = column.post_request(1, column.group_records)
            request = self._request(
                url, self.parse_group, "listing", formdata=form, meta=meta, priority=10
            )
        yield request.replace(dont_filter=True)

    def _get_group(self, start: int, meta: dict[str, Any]) -> Request:
        column = self.column
        assert column is not None
        url = column.get_request((start - 1) // column.group_records + 1)
        if url is None:
            raise self._fatal(
                "dataproxy.jsp refused the POST form and the column page offers no <nextgroup> "
                "link for the GET form"
            )
        return self._request(
            url, self.parse_group, "listing", meta={**meta, "get": True}, priority=10
        )

    def parse_group(self, response: Response) -> Iterator[Request]:
        self._check_challenge(response)
        start, end = response.meta["start"], response.meta["end"]
        is_post = response.request is not None and response.request.method == "POST"
        if is_post and response.status in POST_REFUSED_STATUSES:
            logger.warning(
                "dataproxy.jsp answered the POST form with HTTP %s; using its GET form",
                response.status,
            )
            self.run.summary.warn(
                f"dataproxy.jsp refused POST (HTTP {response.status}); listing read with GET"
            )
            self.use_get_paging = True
            yield self._get_group(start, {"start": start, "end": end})
            return
        if response.status != 200:
            raise self._fatal(f"listing request {response.url} answered HTTP {response.status}")
        try:
            group = parse_datastore(response.text, response.url)
        except CsrfStubError as exc:
            raise self._fatal(f"{response.url}: {exc}") from exc
        except ListingError as exc:
            raise self._fatal(f"listing request {response.url}: {exc}") from exc
        if group.total_record is not None and group.total_record != self.total_record:
            logger.warning(
                "totalrecord changed from %s to %s while the listing was read",
                self.total_record,
                group.total_record,
            )
            if group.total_record < self.total_record:
                # Records moved up: step back so none falls between two groups.
                end -= self.total_record - group.total_record
            self.total_record = group.total_record
            self.run.summary.total_record = group.total_record
        if not group.records and end < self.total_record:
            raise self._fatal(
                f"listing group {start}-{end} came back empty although totalrecord is "
                f"{self.total_record}"
            )
        yield from self._cases(group.records)
        if not response.meta.get("recheck"):
            self.covered = max(end, 0)
        yield from self._next_group(group)

    # -- cases ----------------------------------------------------------------------------------

    def _limit_reached(self) -> bool:
        return bool(self.run.limit) and self.new_scheduled >= self.run.limit

    def _cases(self, records: Iterable[ListingRecord]) -> Iterator[Request]:
        summary = self.run.summary
        for record in records:
            url = urldefrag(record.url)[0]
            if url in self.listed:
                continue  # groups repeat the previous group's last record
            self.listed.add(url)
            summary.listed += 1
            if not self.profile.allows(url):
                summary.warn(f"listed case on a host the profile does not allow: {url}")
                continue
            if url in self.withdrawn and self.run.catalog.set_withdrawn(
                self.profile.name, url, None
            ):
                summary.warn(f"{url} is listed again after being withdrawn")
            if url in self.known:
                summary.known += 1
                continue
            if self._limit_reached():
                summary.skipped_by_limit += 1
                continue
            self.new_scheduled += 1
            self.cases_pending += 1
            yield self._request(
                url, self.parse_case, "case", meta={"listing": record, "counted": True}
            )

    def _case_answered(self, request: Request) -> Iterator[Request]:
        """A listed case got its answer: read further in the listing if it was waiting."""
        if not request.meta.get("counted"):
            return
        self.cases_pending -= 1
        column = self.column
        if (
            self.deferred_group is not None
            and column is not None
            and (self.cases_pending <= LISTING_AHEAD * column.group_records)
        ):
            group, self.deferred_group = self.deferred_group, None
            yield from self._next_group(group)

    def spider_idle(self) -> None:
        """Never close with the listing unread (should a case request vanish uncounted)."""
        if self.deferred_group is None:
            return
        if self.cases_pending:
            logger.warning("%d case requests unaccounted for", self.cases_pending)
        self.cases_pending = 0
        group, self.deferred_group = self.deferred_group, None
        for request in self._next_group(group):
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def parse_case(self, response: Response) -> Iterator[Request | CaseFetched]:
        yield from self._case_answered(response.request or Request(response.url))
        self._check_challenge(response)
        record: ListingRecord = response.meta["listing"]
        url = urldefrag(record.url)[0]
        ids = article_ids(url) or article_ids(response.url)
        if ids is None:
            self._case_failed(url, "not an article URL (art_<column>_<id>.html)")
            return
        column_id, article_id = ids
        summary = self.run.summary
        if response.status in DEAD_STATUSES and url in self.known:
            capture: Capture = response.meta[CAPTURE_META_KEY]
            self._withdraw(
                url, f"answers HTTP {response.status}", at=capture.record.warc_date[:19] + "Z"
            )
            return
        if response.status in DEAD_STATUSES:
            summary.dead[url] = f"HTTP {response.status}"
            self._note_case(url, article_id, "dead", f"HTTP {response.status}", record)
            return
        if response.status not in (200, 304):
            self._case_failed(url, f"HTTP {response.status}", article_id, record)
            return
        if response.status == 304:
            yield self._case_item(url, article_id, column_id, record, response)
            return
        links = page_links(response.text, response.url)
        yield from self._requisites(links.requisites)
        for _name, link in links.attachments:
            if self.profile.allows(link):
                yield self._request(
                    link, self.parse_attachment, "attachment", meta={"case": url}, priority=-1
                )
        yield self._case_item(url, article_id, column_id, record, response)

    def _case_item(
        self, url: str, article_id: str, column_id: str, record: ListingRecord, response: Response
    ) -> CaseFetched:
        content_type = response.headers.get(b"Content-Type")
        return CaseFetched(
            url=url,
            article_id=article_id,
            column_id=column_id,
            listing=record,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            capture=response.meta[CAPTURE_META_KEY],
            not_modified=response.status == 304,
        )

    def _withdraw(self, url: str, why: str, at: str | None = None) -> None:
        """A known case the site no longer has: keep everything archived, note when it went."""
        if self.run.catalog.set_withdrawn(self.profile.name, url, at or utc_now()):
            self.run.summary.withdrawn.append(url)
            self.run.summary.warn(f"{url} withdrawn from the site ({why}); its archive stays")
        self.run.catalog.commit()

    def closed(self, reason: str) -> None:
        """After a complete listing walk, known cases no longer listed are withdrawn."""
        if reason != "finished" or not self.run.summary.full_walk or self.run.summary.fatal:
            return
        archived = self.run.catalog.case_urls(self.profile.name, "archived")
        for url in sorted(archived - self.listed - self.withdrawn):
            self._withdraw(url, "no longer in the column's listing")

    def _note_case(
        self,
        url: str,
        article_id: str,
        status: str,
        reason: str | None,
        record: ListingRecord | None,
    ) -> None:
        self.run.catalog.note_case(
            site=self.profile.name,
            url=url,
            article_id=article_id,
            column_id=self.profile.column.id,
            status=status,
            reason=reason,
            run_id=self.run.run_id,
            at=utc_now(),
            listing_title=record.title if record else None,
            listing_date=record.date if record else None,
        )
        self.run.catalog.commit()

    def _case_failed(
        self,
        url: str,
        reason: str,
        article_id: str | None = None,
        record: ListingRecord | None = None,
    ) -> None:
        self.run.summary.fail(url, reason)
        ids = article_ids(url)
        self._note_case(url, article_id or (ids[1] if ids else ""), "failed", reason, record)

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
        if response.status == 200:
            self.run.summary.attachments += 1
        elif response.status in DEAD_STATUSES:
            self.run.summary.warn(
                f"attachment {response.url} of {case} is a dead link (HTTP {response.status})"
            )
        else:
            self.run.summary.fail(response.url, f"attachment of {case}: HTTP {response.status}")

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
        elif failure.check(IgnoreRequest):
            reason = f"not fetched: {failure.value}"
        else:
            reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        if failure.check(ArchiveMiss):
            # Already listed among the run's misses; a case still must not count as archived.
            if role == "case":
                self._note_case(
                    urldefrag(request.url)[0],
                    (article_ids(request.url) or ("", ""))[1],
                    "failed",
                    "not in the archive",
                    request.meta.get("listing"),
                )
            elif role == "listing":
                raise self._fatal(f"listing request {request.url} is not in the archive")
            return
        if role == "listing":
            raise self._fatal(f"listing request {request.url} failed: {reason}")
        if role == "case":
            for resumed in self._case_answered(request):
                self.crawler.engine.crawl(resumed)
            record = request.meta.get("listing")
            self._case_failed(urldefrag(request.url)[0], reason, record=record)
        elif role == "attachment":
            self.run.summary.fail(request.url, f"attachment of {request.meta['case']}: {reason}")
        else:
            self.run.summary.warn(f"page requisite {request.url}: {reason}")
