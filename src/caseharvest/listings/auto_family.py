"""The ``auto`` listing style: the family is recognised from the column page at crawl time.

``fetch --column-url URL`` crawls a column nobody wrote a profile for. This source asks for
the column page, recognises its CMS family (:mod:`caseharvest.listings.families`), logs which,
and hands this answer and every later one to that family's source.

Case keys come from the URL shapes of every known family, whichever was recognised, so that
``replay`` — which reads no listing — keys the cases of such a site as the crawl did. Only a
column of no known family keys its cases by what its listing (or ``case_pattern``) showed.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import ClassVar
from urllib.parse import urldefrag

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    ListingSource,
    SiteScope,
)
from caseharvest.listings.case_shapes import any_family_case
from caseharvest.listings.families import Family, recognize
from caseharvest.listings.registry import listing_source
from caseharvest.model import CaseKey

logger = logging.getLogger(__name__)

AUTO_STYLE = "auto"


class AutoFamilySource:
    """A column whose family is recognised from its page, then read by that family's source."""

    style: ClassVar[str] = AUTO_STYLE

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.family: Family | None = None
        self.delegate: ListingSource | None = None

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0], state={"kind": "recognise"})]

    def page_size(self) -> int:
        return self.delegate.page_size() if self.delegate is not None else 20

    def case_key(self, url: str) -> CaseKey | None:
        if not self.site.allows(url):
            return None
        key = any_family_case(self.site.name, url)
        if key is None and self.family is not None and self.family.style == "generic":
            assert self.delegate is not None
            key = self.delegate.case_key(url)
        return key

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return self.delegate.stalled(answer) if self.delegate is not None else []

    def parse(self, answer: ListingAnswer) -> ListingPage:
        if self.delegate is not None:
            return self.delegate.parse(answer)
        if answer.status != 200:
            raise ListingError(f"column page {answer.url} answered HTTP {answer.status}")
        self.family = recognize(answer.text, answer.url)
        logger.info(
            "column %s: recognised %s (listing style %s) by %s",
            self.column.url,
            self.family.name,
            self.family.style,
            self.family.evidence,
        )
        self.delegate = listing_source(self.site, self.column, self.family.style)
        first = self.delegate.start()[0]
        if urldefrag(first.url)[0] != urldefrag(answer.request.url)[0]:
            return ListingPage((), None, (first,), transitional=True)
        # The family's source starts at the column page too: it reads this answer as its own.
        return self.delegate.parse(dataclasses.replace(answer, request=first))
