"""The policy of walking one column's listing, the same for every listing source.

No Scrapy here, so it is tested against a fake source without a server. The spider hands
each listing answer to :meth:`ColumnWalk.on_answer` and gets back the case pages to fetch and
the listing requests to send now; the walk decides:

- **read-ahead**: listing requests wait while more than ``LISTING_AHEAD`` pages' worth of
  case pages are unanswered, so memory does not grow with the column;
- **incremental stop**: a run that is not a full walk stops reading once a whole listing page
  holds only known cases and the archive knows at least the column's total;
- **no runaway, no lie**: a step that brings no record not seen in this walk ends the walk
  (after the source's other request form, if it has one); a listing that empties or shrinks
  by half during the walk is an error; the first page without records is an error, never
  "nothing new";
- **completeness**: only a walk that reached the listing's end is complete, and only a
  complete walk may withdraw cases (the spider asks the ledger when the run closes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urldefrag

from caseharvest.archive.ledger import CaseLedger
from caseharvest.listings.base import ListingAnswer, ListingError, ListingRequest, ListingSource
from caseharvest.model import CaseKey, ListingRecord

logger = logging.getLogger(__name__)

LISTING_AHEAD = 2  # listing pages' worth of case requests queued before reading more


class WalkError(Exception):
    """The column's listing cannot be trusted; the message says why. Nothing is withdrawn."""


@dataclass
class WalkStep:
    """What to do after one listing answer."""

    cases: list[tuple[CaseKey, ListingRecord]] = field(default_factory=list)
    requests: list[ListingRequest] = field(default_factory=list)


class _Named(NamedTuple):
    """A listing record, the URL it names, and the key of the case there (None: no case)."""

    record: ListingRecord
    url: str
    key: CaseKey | None

    @property
    def mark(self) -> CaseKey | str:
        """What the walk remembers of it: the case's key, or the URL if it names no case."""
        return self.key or self.url


class ColumnWalk:
    """One walk of one column's listing."""

    def __init__(
        self,
        source: ListingSource,
        ledger: CaseLedger,
        *,
        full: bool,
        profile_columns: frozenset[str] = frozenset(),
    ) -> None:
        self.source = source
        # Every column of the profile: keys naming none of them are sub-columns' cases.
        self.profile_columns = profile_columns or frozenset({source.column.id})
        self.ledger = ledger
        self.full = full
        # The cases this walk has read in its listing: by key (the ledger holds the same key
        # objects), by URL for records naming no case. A crawl of tens of thousands of cases
        # keeps these to its end, and a URL string costs more than a shared key.
        self.seen: set[CaseKey | str] = set()
        self.pages_with_records = 0
        self.highest_total: int | None = None
        self.latest_total = 0
        self.pending_cases = 0
        self.deferred: list[ListingRequest] = []
        self.complete = False  # the walk reached the end of the listing
        self.stopped = False  # the walk ended early on purpose (incremental stop, --limit)
        self.failed: str | None = None

    @property
    def column(self) -> str:
        return self.source.column.id

    def start(self) -> list[ListingRequest]:
        """The first listing requests."""
        return self.source.start()

    def on_answer(self, answer: ListingAnswer) -> WalkStep:
        """Cases to fetch and listing requests to send after *answer*; raises WalkError."""
        try:
            page = self.source.parse(answer)
        except ListingError as exc:
            raise WalkError(str(exc)) from exc
        summary = self.ledger.summary
        if page.note:
            logger.warning("%s", page.note)
            summary.warn(page.note)
        self._check_total(page.total, answer.url)
        named = [self._named(record) for record in page.records]
        fresh = [entry for entry in named if entry.mark not in self.seen]
        if page.transitional and not page.records:
            return self._step([], list(page.next))
        if not page.records and self.pages_with_records == 0:
            raise WalkError(
                f"column {self.column}: {answer.url} yielded zero records (total "
                f"{page.total if page.total is not None else 'not given'}): the page layout may "
                "have changed, or the column is empty; refusing to report 'nothing new'"
            )
        if not page.records and page.next:
            raise WalkError(
                f"column {self.column}: listing page {answer.url} came back empty in the middle "
                "of the listing; nothing is withdrawn"
            )
        if page.records and not fresh:
            other_form = self.source.stalled(answer)
            if other_form:
                return self._step([], other_form)
            if page.next:
                message = (
                    f"column {self.column}: listing step {answer.url} brought no record not "
                    "read before; the walk ends here (not a complete walk)"
                )
                logger.warning("%s", message)
                summary.warn(message)
                self.stopped = True
                return WalkStep()
        if page.records:
            self.pages_with_records += 1
        cases = self._cases(fresh)
        if self.stopped:
            return WalkStep(cases=cases)
        if not self.full and page.records and self._only_known(named, page.total):
            logger.info("a whole listing page holds only known cases: listing read far enough")
            self.stopped = True
            return WalkStep(cases=cases)
        if self.ledger.limit_reached() and page.next:
            logger.info("--limit reached: not reading further listing pages")
            self.stopped = True
            return WalkStep(cases=cases)
        if not page.next:
            self.complete = True
        return self._step(cases, list(page.next))

    def _check_total(self, total: int | None, url: str) -> None:
        if total is None:
            return
        if self.highest_total is not None and total < self.highest_total / 2:
            raise WalkError(
                f"column {self.column}: the listing shrank from {self.highest_total} to {total} "
                f"records while it was read ({url}); nothing is withdrawn"
            )
        known = len(self.ledger.known)
        if self.highest_total is None and known >= 10 and total < known / 2:
            raise WalkError(
                f"column {self.column}: the listing reports {total} records, far below the "
                f"{known} cases this archive knows: the listing looks broken or truncated; "
                "refusing to treat it as the column"
            )
        self.highest_total = max(total, self.highest_total or 0)
        # The run's total is the sum of its columns' latest totals.
        summary = self.ledger.summary
        summary.total_record = (summary.total_record or 0) + total - self.latest_total
        self.latest_total = total

    def _only_known(self, named: list[_Named], total: int | None) -> bool:
        for entry in named:
            if entry.key is None or not self.ledger.is_known(entry.key):
                return False
        # A case's key names the column its URL names, which may be a sub-column of the one
        # listing it: keys of no column of the profile count for every column.
        known_here = sum(
            1
            for key in self.ledger.known
            if key.column == self.column or key.column not in self.profile_columns
        )
        return total is None or known_here >= total

    def _named(self, record: ListingRecord) -> _Named:
        url = urldefrag(record.url)[0]
        return _Named(record, url, self.source.case_key(url))

    def _cases(self, named: list[_Named]) -> list[tuple[CaseKey, ListingRecord]]:
        cases = []
        for entry in named:
            self.seen.add(entry.mark)  # a key: the very object the ledger keeps
            record, url, key = entry
            if not self.source.site.allows(url):
                self.ledger.off_site(url)
                continue
            if key is None:
                self.ledger.summary.fail(
                    url, "listed, but not a case page the site's listing source recognises"
                )
                continue
            if self.ledger.listed(key, url, record):
                cases.append((key, record))
                self.pending_cases += 1
        return cases

    def _step(
        self, cases: list[tuple[CaseKey, ListingRecord]], requests: list[ListingRequest]
    ) -> WalkStep:
        if requests and self.pending_cases > LISTING_AHEAD * self.source.page_size():
            self.deferred.extend(requests)  # read on when the case pages have caught up
            return WalkStep(cases=cases)
        return WalkStep(cases=cases, requests=requests)

    def case_answered(self) -> list[ListingRequest]:
        """A case page of this walk got its answer: listing requests that may go now."""
        self.pending_cases -= 1
        if self.deferred and self.pending_cases <= LISTING_AHEAD * self.source.page_size():
            released, self.deferred = self.deferred, []
            return released
        return []

    def release_deferred(self) -> list[ListingRequest]:
        """Everything held back (the crawl went idle: never close with the listing unread)."""
        if self.pending_cases:
            logger.warning("%d case requests unaccounted for", self.pending_cases)
        self.pending_cases = 0
        released, self.deferred = self.deferred, []
        return released
