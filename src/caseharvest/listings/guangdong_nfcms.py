"""Guangdong gov-cloud NFCMS columns (``*.gd.gov.cn``): static list pages joined by ``a.next``.

Page 1 is ``<column>/index.html``, then ``index_2.html``, ``index_3.html`` … (no ``index_1``,
unlike TRS). The safe way on is the page's ``a.next`` link, which the last page lacks; when a
page has none but numbers its pages, ``index_{N+1}.html`` is asked for as long as the pager
names it. Items link ``/<section>/<column>/content/post_<id>.html``.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urldefrag, urljoin

from lxml.html import HtmlElement

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.case_shapes import nfcms_case
from caseharvest.listings.html_items import parse_html, records_from_links
from caseharvest.model import CaseKey

_DEFAULT_PAGE_SIZE = 20
_NEXT_TEXTS = ("下一页", "下页", "›", "»")


def next_page_url(root: HtmlElement, page_url: str) -> str | None:
    """The ``a.next`` (or 下一页) link of an NFCMS list page, absolute; None on the last page."""
    for anchor in root.iter("a"):
        classes = (anchor.get("class") or "").split()
        text = anchor.text_content().strip()
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith("javascript:"):
            continue
        if "next" in classes or text in _NEXT_TEXTS:
            url = urljoin(page_url, href)
            return None if urldefrag(url)[0] == urldefrag(page_url)[0] else url
    return None


class GuangdongNfcmsSource:
    """An NFCMS column of the Guangdong gov cloud."""

    style: ClassVar[str] = "gd-nfcms"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.records_per_page = _DEFAULT_PAGE_SIZE
        self.pages_read = 0

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0])]

    def page_size(self) -> int:
        return self.records_per_page

    def case_key(self, url: str) -> CaseKey | None:
        if not self.site.allows(url):
            return None
        return nfcms_case(self.site.name, url)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return []

    def parse(self, answer: ListingAnswer) -> ListingPage:
        if answer.status != 200:
            raise ListingError(f"NFCMS list page {answer.url} answered HTTP {answer.status}")
        root = parse_html(answer.text)
        following = next_page_url(root, answer.url)
        records = records_from_links(root, answer.url, lambda url: nfcms_case("", url) is not None)
        self.pages_read += 1
        if self.pages_read == 1 and records:
            self.records_per_page = len(records)
        return ListingPage(records, None, (ListingRequest(following),) if following else ())
