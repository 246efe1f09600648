"""A column of no known CMS family: the case links found on the page, the next page followed.

Case links are those matching the column's ``case_pattern`` (a regex, ``--case-pattern``)
when it has one; otherwise the main list is found as the repeated items of one container
that each carry a link and a date (the largest such group on the page). The next page is the
``下一页``/``a.next`` link, else the numbered link one past the current page, else the current
URL with its ``pageIndex=``-style parameter one higher when the page links such a URL.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import ClassVar
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

from lxml.html import HtmlElement

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.case_shapes import safe_id
from caseharvest.listings.html_items import (
    anchor_date,
    anchor_title,
    item_of,
    parse_html,
)
from caseharvest.model import CaseKey, ListingRecord

PAGE_PARAMETERS = ("pageIndex", "pageNum", "pageNo", "page", "currentPage", "curPage", "p")
_NEXT_TEXTS = ("下一页", "下页", "下一頁", "next", "Next", "›", "»")
_TOTAL = re.compile(r"共\s*(\d+)\s*条")
_MIN_ITEMS = 2
_DIGITS = re.compile(r"\d+")


def compile_case_pattern(pattern: str) -> re.Pattern[str]:
    """The column's ``case_pattern``; ``ListingError`` names a regex that does not compile."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ListingError(f"case_pattern {pattern!r} is not a valid regex: {exc}") from exc


def case_id_of(url: str) -> str:
    """A case id from its URL: the last number of its path (and query), else a digest."""
    parts = urlsplit(urldefrag(url)[0])
    numbers = _DIGITS.findall(parts.path) or _DIGITS.findall(parts.query)
    if numbers and len(numbers[-1]) >= 3:
        return numbers[-1]
    return hashlib.sha1(url.encode()).hexdigest()[:16]


def main_list(root: HtmlElement, page_url: str) -> list[HtmlElement]:
    """Anchors of the page's main list: the largest group of dated items in one container."""
    groups: dict[HtmlElement, list[HtmlElement]] = defaultdict(list)
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        if anchor_date(anchor) is None:
            continue
        item = item_of(anchor)
        container = item.getparent()
        if container is None:
            continue
        # One link per item: the first (a title) counts, a second ("more", "PDF") does not.
        if any(item_of(other) is item for other in groups[container]):
            continue
        groups[container].append(anchor)
    best = max(groups.values(), key=len, default=[])
    return best if len(best) >= _MIN_ITEMS else []


def _page_number(url: str) -> tuple[str, int] | None:
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in PAGE_PARAMETERS and value.isdigit():
            return name, int(value)
    return None


def _with_parameter(url: str, name: str, value: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, str(value))])))


def next_page(root: HtmlElement, page_url: str, number: int) -> str | None:
    """The URL of the page after page *number* (1-based) of a list, or None."""
    anchors = [
        (anchor, urljoin(page_url, (anchor.get("href") or "").strip()))
        for anchor in root.iter("a")
        if (anchor.get("href") or "").strip()
        and not (anchor.get("href") or "").strip().startswith(("javascript:", "#"))
    ]
    current = urldefrag(page_url)[0]
    for anchor, url in anchors:
        text = " ".join(anchor.text_content().split())
        if ("next" in (anchor.get("class") or "").split() or text in _NEXT_TEXTS) and (
            urldefrag(url)[0] != current
        ):
            return url
    for anchor, url in anchors:
        if anchor.text_content().strip() == str(number + 1):
            return url
    # A query parameter counts the pages: the next value, if the page links to it.
    linked = {urldefrag(url)[0] for _, url in anchors}
    for name in PAGE_PARAMETERS:
        found = _page_number(current)
        if found is not None and found[0] == name:
            candidate = _with_parameter(current, name, found[1] + 1)
        else:
            candidate = _with_parameter(current, name, number + 1)
        if candidate in linked:
            return candidate
    return None


class GenericListSource:
    """A column of a site of no known family."""

    style: ClassVar[str] = "generic"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.pattern = compile_case_pattern(column.case_pattern) if column.case_pattern else None
        self.listed: set[str] = set()
        self.records_per_page = 20

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0], state={"number": 1})]

    def page_size(self) -> int:
        return self.records_per_page

    def case_key(self, url: str) -> CaseKey | None:
        url = urldefrag(url)[0]
        if not self.site.allows(url):
            return None
        if self.pattern is not None:
            if not self.pattern.search(url):
                return None
        elif url not in self.listed:
            return None
        return CaseKey(self.site.name, safe_id(self.column.id), case_id_of(url))

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return []

    def parse(self, answer: ListingAnswer) -> ListingPage:
        if answer.status != 200:
            raise ListingError(f"list page {answer.url} answered HTTP {answer.status}")
        number = int(answer.request.state.get("number", 1))
        root = parse_html(answer.text)
        root.make_links_absolute(answer.url, resolve_base_href=True, handle_failures="discard")
        records = self._records(root)
        if number == 1 and records:
            self.records_per_page = len(records)
        following = next_page(root, answer.url, number) if records else None
        total = _TOTAL.search(root.text_content())
        requests = (ListingRequest(following, state={"number": number + 1}),) if following else ()
        return ListingPage(records, int(total[1]) if total else None, requests)

    def _records(self, root: HtmlElement) -> tuple[ListingRecord, ...]:
        if self.pattern is not None:
            pattern = self.pattern
            anchors = [
                anchor
                for anchor in root.iter("a")
                if pattern.search(urldefrag((anchor.get("href") or "").strip())[0])
            ]
        else:
            anchors = main_list(root, "")
        records: list[ListingRecord] = []
        seen: set[str] = set()
        for anchor in anchors:
            url = urldefrag((anchor.get("href") or "").strip())[0]
            if not url or url in seen:
                continue
            seen.add(url)
            self.listed.add(url)
            records.append(ListingRecord(url, anchor_title(anchor), anchor_date(anchor)))
        return tuple(records)
