"""Guangdong gkmlpt (政府信息公开) platform: a category read through its JSON list API.

The column is ``https://<host>/gkmlpt/index#<category id>``: the entry page's
``window._CONFIG`` gives the site id (``SID``) and the category ``TREE``; the list comes from
``/gkmlpt/api/all/<category>?page=N&sid=<SID>`` as JSON (``total``, ``articles[]`` with
``url``, ``title`` and a Unix ``date``), 100 articles a page; page 0 answers as page 1, and a
page past the end has no articles.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.case_shapes import gkmlpt_case
from caseharvest.listings.html_items import iso_date
from caseharvest.listings.js_literals import balanced_literal
from caseharvest.model import CaseKey, ListingRecord

PAGE_SIZE = 100
_CHINA = dt.timezone(dt.timedelta(hours=8))
_SID = re.compile(r"\bSID\s*:\s*['\"]?(\w+)['\"]?")
_TREE = re.compile(r"\bTREE\s*:\s*\[")


@dataclass(frozen=True)
class Category:
    """A node of the platform's category tree."""

    id: int
    name: str
    post_count: int | None


def read_config(page: str) -> tuple[str, list[Category]]:
    """(SID, every category of the TREE, depth first) from the entry page's ``_CONFIG``."""
    sid = _SID.search(page)
    tree = _TREE.search(page)
    if "_CONFIG" not in page or sid is None or tree is None:
        raise ListingError("no window._CONFIG with SID and TREE on the page: not a gkmlpt entry")
    try:
        nodes = json.loads(
            balanced_literal(page, tree.end() - 1, "the gkmlpt TREE on the entry page")
        )
    except json.JSONDecodeError as exc:
        raise ListingError(f"the gkmlpt TREE is not JSON: {exc}") from exc
    categories: list[Category] = []

    def walk(level: list[Any]) -> None:
        for node in level:
            if isinstance(node, dict) and "id" in node:
                count = node.get("post_count")
                categories.append(
                    Category(int(node["id"]), str(node.get("name", "")), count)
                    if isinstance(count, int)
                    else Category(int(node["id"]), str(node.get("name", "")), None)
                )
                walk(node.get("children") or [])

    walk(nodes)
    return sid.group(1), categories


def category_of(column_url: str) -> int | None:
    """The category a column URL names in its fragment (``…/gkmlpt/index#2947``)."""
    fragment = urldefrag(column_url)[1]
    return int(fragment) if fragment.isdigit() else None


def _date(value: Any) -> str | None:
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, _CHINA).date().isoformat()
    return iso_date(str(value)) if value else None


class GuangdongGkmlptSource:
    """One category of a gkmlpt platform."""

    style: ClassVar[str] = "gd-gkmlpt"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.category = category_of(column.url)
        self.sid = ""
        self.api_base = ""

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(urldefrag(self.column.url)[0], state={"kind": "index"})]

    def page_size(self) -> int:
        return PAGE_SIZE

    def case_key(self, url: str) -> CaseKey | None:
        if not self.site.allows(url):
            return None
        return gkmlpt_case(self.site.name, url)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        return []

    def parse(self, answer: ListingAnswer) -> ListingPage:
        if answer.status != 200:
            raise ListingError(f"gkmlpt request {answer.url} answered HTTP {answer.status}")
        if answer.request.state.get("kind") == "index":
            return self._parse_index(answer)
        return self._parse_api(answer)

    def _parse_index(self, answer: ListingAnswer) -> ListingPage:
        self.sid, categories = read_config(answer.text)
        if self.category is None or self.category not in {c.id for c in categories}:
            named = ", ".join(
                f"#{c.id} {c.name}" + (f" ({c.post_count})" if c.post_count is not None else "")
                for c in categories
            )
            wanted = "names no category" if self.category is None else "names an unknown one"
            raise ListingError(
                f"the gkmlpt column URL {self.column.url} {wanted}: end it with #<id> of one "
                f"of the categories: {named}"
            )
        self.api_base = urljoin(answer.url, "/gkmlpt/api/all/")
        return ListingPage((), None, (self._page(1),), transitional=True)

    def _page(self, page: int) -> ListingRequest:
        url = f"{self.api_base}{self.category}?page={page}&sid={self.sid}"
        return ListingRequest(url, state={"page": page})

    def _parse_api(self, answer: ListingAnswer) -> ListingPage:
        try:
            data = json.loads(answer.text)
        except json.JSONDecodeError as exc:
            raise ListingError(f"the gkmlpt API answered no JSON: {answer.text[:80]!r}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
            raise ListingError(f"the gkmlpt API answer has no articles list: {answer.text[:80]!r}")
        total = data.get("total")
        total = total if isinstance(total, int) else None
        records = []
        for article in data["articles"]:
            if not isinstance(article, dict):
                continue
            url = str(article.get("url") or article.get("post_url") or "")
            if not url:
                continue
            url = urljoin(answer.url, url)
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            title = " ".join(str(article.get("title") or "").split())
            records.append(ListingRecord(url, title, _date(article.get("date"))))
        page = int(answer.request.state.get("page", 1))
        if not records:
            return ListingPage((), total)
        more = total is None or page * PAGE_SIZE < total
        return ListingPage(tuple(records), total, (self._page(page + 1),) if more else ())
