"""Hanweb jpaas "页面构建单元" (page-building units), as zcom.zj.gov.cn and MOFCOM run it.

The column page holds no list: only ``unitbuild.js`` script tags whose single-quoted
``queryData`` names a unit. The list unit (``tagId`` 信息列表, 分页列表 or 当前栏目list) is read
from the unit API, ``GET <url>?<queryData>&paramJson={"pageNo":N,"pageSize":S}`` — paging only
works inside ``paramJson`` — as a JSON envelope whose ``data.html`` holds the items and a
``<table class="pagination" count=…>`` with the total. A page past the end is an empty list.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urldefrag, urlencode, urljoin, urlsplit

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.case_shapes import jpaas_case
from caseharvest.listings.html_items import parse_html, records_from_links
from caseharvest.model import CaseKey

UNIT_API_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
LIST_TAGS = ("信息列表", "分页列表", "当前栏目list")
PAGE_SIZE = 15  # what zj.gov.cn and MOFCOM pages ask for
_SCRIPT = re.compile(r"<script\b[^>]*unitbuild\.js[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*("[^"]*"|'[^']*')""")
_COUNT = re.compile(r"<table\b[^>]*\bclass=\"[^\"]*pagination[^>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    """A page-building unit: the API URL and the query naming it."""

    api_url: str
    query: tuple[tuple[str, str], ...]

    @property
    def tag(self) -> str:
        return dict(self.query).get("tagId", "")

    def page_url(self, page_no: int, page_size: int) -> str:
        """The unit API URL for one page (paging inside ``paramJson``, as the page script does)."""
        param = json.dumps({"pageNo": page_no, "pageSize": page_size}, separators=(",", ":"))
        return f"{self.api_url}?{urlencode([*self.query, ('paramJson', param)])}"


def _attributes(tag: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value[1:-1]) for name, value in _ATTRIBUTE.findall(tag)}


def units_of(page: str, page_url: str) -> list[Unit]:
    """Every unit script of a column page, in page order."""
    units = []
    for tag in _SCRIPT.findall(page):
        attributes = _attributes(tag)
        raw = attributes.get("querydata")
        if not raw:
            continue
        try:
            # The page writes JSON with single quotes.
            data = json.loads(raw.replace("'", '"'))
        except json.JSONDecodeError as exc:
            raise ListingError(f"a unit's queryData is not readable: {raw[:80]!r} ({exc})") from exc
        query = tuple((str(key), str(value)) for key, value in data.items())
        api = urljoin(page_url, attributes.get("url") or UNIT_API_PATH)
        units.append(Unit(api, query))
    return units


def list_unit(page: str, page_url: str) -> Unit:
    """The unit that holds the column's list."""
    units = units_of(page, page_url)
    if not units:
        raise ListingError(
            "no unitbuild.js unit with queryData on the column page: not a jpaas column"
        )
    for tag in LIST_TAGS:
        for unit in units:
            if unit.tag == tag:
                return unit
    raise ListingError(
        "none of the page's units is a list (tagId "
        + ", ".join(sorted({u.tag for u in units}))
        + f"; expected one of {', '.join(LIST_TAGS)})"
    )


def pagination(fragment: str) -> tuple[int | None, int | None]:
    """(count, rows) of the unit HTML's pagination table."""
    table = _COUNT.search(fragment)
    if table is None:
        return None, None
    attributes = _attributes(table.group(0))

    def number(name: str) -> int | None:
        value = attributes.get(name, "")
        return int(value) if value.isdigit() else None

    return number("count"), number("rows")


class HanwebJpaasSource:
    """A jpaas column: the list unit read page by page through the unit API."""

    style: ClassVar[str] = "hanweb-jpaas"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.unit: Unit | None = None
        self.rows = PAGE_SIZE

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0], state={"kind": "column"})]

    def page_size(self) -> int:
        return self.rows

    def case_key(self, url: str) -> CaseKey | None:
        if not self.site.allows(url):
            return None
        return jpaas_case(self.site.name, url)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return []

    def parse(self, answer: ListingAnswer) -> ListingPage:
        if answer.status != 200:
            raise ListingError(f"jpaas request {answer.url} answered HTTP {answer.status}")
        if answer.request.state.get("kind") == "column":
            self.unit = list_unit(answer.text, answer.url)
            request = self._page(1)
            return ListingPage((), None, (request,), transitional=True)
        return self._parse_unit(answer)

    def _page(self, page_no: int) -> ListingRequest:
        assert self.unit is not None
        return ListingRequest(self.unit.page_url(page_no, PAGE_SIZE), state={"page": page_no})

    def _parse_unit(self, answer: ListingAnswer) -> ListingPage:
        try:
            envelope = json.loads(answer.text)
        except json.JSONDecodeError as exc:
            raise ListingError(
                f"the unit API answered something that is not JSON: {answer.text[:80]!r}"
            ) from exc
        if not isinstance(envelope, dict) or not envelope.get("success"):
            message = envelope.get("message") if isinstance(envelope, dict) else None
            raise ListingError(f"the unit API refused {answer.url}: {message or 'no success'}")
        data = envelope.get("data") or {}
        fragment = str(data.get("html") or "") if isinstance(data, dict) else ""
        count, rows = pagination(fragment)
        if rows:
            self.rows = rows
        page_no = int(answer.request.state.get("page", 1))
        records = records_from_links(
            parse_html(fragment),
            answer.url,
            lambda url: urlsplit(url).hostname is not None and jpaas_case("", url) is not None,
        )
        if not records:
            return ListingPage((), count)  # past the last page: an empty list ends the walk
        more = count is None or page_no * self.rows < count
        following = (self._page(page_no + 1),) if more else ()
        return ListingPage(records, count, following)
