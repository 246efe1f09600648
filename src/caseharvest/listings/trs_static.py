"""TRS WCM static publishing (拓尔思): a column directory of statically published list pages.

Page 1 is the column directory (or ``index.<ext>``); page N is ``<name>_{N-1}.<ext>``, with
the page name, extension and page count read from the pager call on the page:
``createPageHTML(count, current, "name", "ext")`` or the ``var countPage = N`` script with its
``pageName``/``pageExt``. Items link articles by RELATIVE hrefs (``./YYYYMM/tYYYYMMDD_ID.htm``,
``../sibling/…``); pinned old items may sit above the newest. No record total is printed.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.case_shapes import TRS_ARTICLE, trs_case
from caseharvest.listings.html_items import parse_html, records_from_links
from caseharvest.model import CaseKey

_CREATE_PAGE = re.compile(
    r"createPageHTML\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*['\"]([\w.-]+)['\"]\s*,\s*['\"](\w+)['\"]"
)
_COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"var\s+currentPage\s*=\s*(\d+)")
_PAGE_NAME = re.compile(r"var\s+pageName\s*=\s*['\"]([\w.-]+)['\"]")
_PAGE_EXT = re.compile(r"var\s+pageExt\s*=\s*['\"](\w+)['\"]")
# Central TRS sites answer deep pages with a few hundred bytes and no items.
_STUB_BYTES = 600
_DEFAULT_PAGE_SIZE = 20


def pager_of(text: str) -> tuple[int, int, str, str] | None:
    """(page count, current index from 0, page name, extension) of a TRS list page."""
    call = _CREATE_PAGE.search(text)
    if call:
        return int(call[1]), int(call[2]), call[3], call[4]
    count = _COUNT_PAGE.search(text)
    if count is None:
        return None
    current = _CURRENT_PAGE.search(text)
    name = _PAGE_NAME.search(text)
    ext = _PAGE_EXT.search(text)
    return (
        int(count[1]),
        int(current[1]) if current else 0,
        name[1] if name else "index",
        ext[1] if ext else "html",
    )


def column_directory(url: str) -> str:
    """The column's directory URL: the page URL without its file name."""
    url = urldefrag(url)[0]
    path = urlsplit(url).path
    return url if path.endswith("/") else urljoin(url, "./")


def is_trs_article(url: str) -> bool:
    """Whether *url* has the shape of a TRS article page."""
    return bool(TRS_ARTICLE.search(urlsplit(url).path))


class TrsStaticSource:
    """A TRS column: list pages one by one, as many as the pager announces."""

    style: ClassVar[str] = "trs-static"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.directory = column_directory(column.url)
        self.records_per_page = _DEFAULT_PAGE_SIZE

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0], state={"index": 0})]

    def page_size(self) -> int:
        return self.records_per_page

    def case_key(self, url: str) -> CaseKey | None:
        if not self.site.allows(url):
            return None
        return trs_case(self.site.name, url)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return []  # static pages have one form only

    def parse(self, answer: ListingAnswer) -> ListingPage:
        index = int(answer.request.state.get("index", 0))
        if answer.status != 200:
            raise ListingError(f"TRS list page {answer.url} answered HTTP {answer.status}")
        records = records_from_links(parse_html(answer.text), answer.url, is_trs_article)
        pager = pager_of(answer.text)
        if not records and index > 0 and len(answer.text.encode()) < _STUB_BYTES:
            raise ListingError(
                f"TRS list page {answer.url} is a {len(answer.text.encode())}-byte stub without "
                "items: the site publishes only its first list pages"
            )
        if index == 0 and records:
            self.records_per_page = len(records)
        if pager is None:
            # One page only: TRS writes no pager when everything fits on page 1.
            return ListingPage(records, None)
        count, current, name, ext = pager
        following = max(current, index) + 1
        if following >= count:
            return ListingPage(records, None)
        url = urljoin(self.directory, f"{name}_{following}.{ext}")
        return ListingPage(records, None, (ListingRequest(url, state={"index": following}),))
