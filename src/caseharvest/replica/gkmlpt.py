"""Family D, part 2: the gkmlpt disclosure platform of com.gd.gov.cn (https).

``/gkmlpt/index`` carries ``window._CONFIG = {… SID: '2', TREE: [...] …}``; the JSON API
``/gkmlpt/api/all/<cat>?page=N&sid=<SID>`` lists 100 articles a page (page 0 is page 1) with
``total``, ``classify`` and ``articles[]``; articles live at
``/gkmlpt/content/{id//1e6}/{id//1e3}/post_{id}.html`` with a ``div.classify`` metadata table
(not body text), the body in ``div.article-content`` and ``_CONFIG.DETAIL`` JSON.
Attachments are ``/attachment/0/<a>/<b>/<n>.pdf`` like the NFCMS columns.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from caseharvest.replica import gkmlpt_pages
from caseharvest.replica.family import (
    HTML_UTF8,
    JSON_UTF8,
    Draft,
    FamilyCase,
    FamilySite,
    json_body,
    page_of,
    page_param,
)
from caseharvest.replica.guangdong import HOST, ROBOTS, SITE_NAME, attachment_path
from caseharvest.replica.routes import SiteRequest, SiteResponse

TEMPLATES = ("gkmlpt-doc", "gkmlpt-plain", "gkmlpt-attach")
_API = re.compile(r"^/gkmlpt/api/all/(\d+)$")
_CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Category:
    """A node of the gkmlpt TREE."""

    id: int
    name: str
    parent: int | None = None


@dataclass(frozen=True)
class GkmlptConfig:
    """The gkmlpt platform; every case sits in ``case_category``."""

    host: str = HOST
    site_name: str = SITE_NAME
    sid: str = "2"
    cases: int = 130
    per_page: int = 100
    case_category: int = 2947
    categories: tuple[Category, ...] = (
        Category(2940, "政务信息"),
        Category(2947, "开发区典型案例", 2940),
        Category(2948, "通知公告", 2940),
        Category(2950, "政策文件"),
    )
    schemes: tuple[str, ...] = ("https", "http")
    seed: int = 1004

    def __post_init__(self) -> None:
        if self.case_category not in {category.id for category in self.categories}:
            raise ValueError("case_category must be one of the categories")
        if self.per_page < 1:
            raise ValueError("per_page must be positive")


class GkmlptSite(FamilySite):
    """The gkmlpt platform of one gov-cloud site."""

    family = "gkmlpt"
    # Post ids of 2019 have 7 digits and grow with dates.
    first_article_id = 2_600_000
    ids_per_day = 1_000
    robots = ROBOTS  # the same host as the NFCMS columns

    def __init__(self, config: GkmlptConfig | None = None) -> None:
        self.config = config or GkmlptConfig()
        super().__init__(self.config)

    @property
    def column_url(self) -> str:
        """The platform's entry page (the case category is ``config.case_category``)."""
        return f"{self.root}/gkmlpt/index"

    def api_url(self, category: int | None = None, page: int = 1) -> str:
        """The list API for a category (the case category by default)."""
        cat = self.config.case_category if category is None else category
        return f"{self.root}/gkmlpt/api/all/{cat}?page={page}&sid={self.config.sid}"

    def claims(self, request: SiteRequest) -> bool:
        """gkmlpt paths and this platform's attachments."""
        return request.path.startswith("/gkmlpt/") or self.attachment_at(request.target) is not None

    def in_category(self, category: int) -> bool:
        """Whether the case category is ``category`` or lies under it (0 means all)."""
        if category == 0:
            return True
        node: int | None = self.config.case_category
        parents = {c.id: c.parent for c in self.config.categories}
        while node is not None:
            if node == category:
                return True
            node = parents.get(node)
        return False

    # ------------------------------------------------------------ content

    def templates(self) -> tuple[str, ...]:
        """Document with 文号 and attachments, plain, attachment-heavy."""
        return TEMPLATES

    def make_case(self, draft: Draft) -> FamilyCase:
        """A gkmlpt post with its metadata (索引号, 文号, 成文日期 …) in ``extra``."""
        rng, article_id, published = draft.rng, draft.article_id, draft.published
        attachments: list[tuple[str, str]] = []
        count = {"gkmlpt-doc": rng.randint(0, 1), "gkmlpt-attach": rng.randint(1, 3)}
        for number in range(1, count.get(draft.template, 0) + 1):
            kind = ("pdf", "docx", "xlsx")[(number - 1) % 3]
            name = f"{draft.attachment_name()}.{kind}"
            attachments.append((name, f"{self.root}{attachment_path(article_id, number)}.{kind}"))
        draft.lines.extend(name for name, _ in attachments)
        written = published - dt.timedelta(days=rng.randint(1, 9))
        document_number = f"粤商务开函〔{published.year}〕{rng.randint(3, 199)}号"
        clock_time = f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        return draft.case(
            f"{self.root}{post_path(article_id)}",
            attachments,
            extra={
                "time": clock_time,
                "identifier": f"006939748/{published.year}-{article_id % 100000:05d}",
                "document_number": document_number if draft.template == "gkmlpt-doc" else "",
                "written": written.isoformat(),
                "keywords": "开发区;典型案例",
            },
        )

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The post page."""
        return gkmlpt_pages.post_page(self, case).encode("utf-8"), HTML_UTF8

    def article_json(self, case: FamilyCase) -> dict[str, object]:
        """One ``articles[]`` entry of the list API."""
        moment = dt.datetime.fromisoformat(f"{case.published}T{case.extra['time']}")
        stamp = int(moment.replace(tzinfo=_CHINA).timestamp())
        category = next(c for c in self.config.categories if c.id == self.config.case_category)
        return {
            "id": int(case.article_id),
            "title": case.title,
            "url": case.url,
            "post_url": case.url,
            "document_number": case.extra["document_number"],
            "identifier": case.extra["identifier"],
            "publisher": self.config.site_name,
            "keywords": case.extra["keywords"],
            "date": stamp,
            "created_at": f"{case.published} {case.extra['time']}",
            "create_time": stamp,
            "display_publish_time": stamp,
            "abstract": case.paragraphs[0][:60] if case.paragraphs else "",
            "classify_main": category.id,
            "classify_main_name": category.name,
            "classify_genre_name": "其他",
            "classify_theme_name": "商贸、海关、旅游",
            "attachment": [
                {
                    "id": 3_900_000 + number,
                    "name": name,
                    "type": name.rsplit(".", 1)[-1],
                    "mime": "application/octet-stream",
                    "size": 40_000 + 1_000 * number,
                    "url": url,
                }
                for number, (name, url) in enumerate(case.attachments, 1)
            ],
            "relation": [],
            "is_expired": 0,
            "is_abolished": 0,
        }

    # ------------------------------------------------------------ answering

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """The index page, the list API and post pages (by the id in the path)."""
        if request.method == "POST":
            return None
        if request.path == "/gkmlpt/index":
            return self.listing_response(request, gkmlpt_pages.index_page(self))
        match = _API.match(request.path)
        if match is not None:
            return self._api(request, int(match.group(1)))
        return None  # post pages and attachments: the base class finds them by path

    def _api(self, request: SiteRequest, category: int) -> SiteResponse:
        query = parse_qs(request.query)
        page = page_param(query, "page")  # page 0 answers as page 1
        known = {c.id for c in self.config.categories} | {0}
        if query.get("sid", [""])[0] != self.config.sid or category not in known:
            body = {"code": 404, "msg": "栏目不存在", "total": 0, "articles": []}
            return SiteResponse(200, [("Content-Type", JSON_UTF8)], json_body(body))
        records = self.listed() if self.in_category(category) else []
        shown = page_of(records, page, self.config.per_page)
        name = next((c.name for c in self.config.categories if c.id == category), "全部")
        body = {
            "classify": {"id": category, "name": name, "post_count": len(records)},
            "total": len(records),
            "page": page,
            "articles": [self.article_json(case) for case in shown],
        }
        return SiteResponse(200, [("Content-Type", JSON_UTF8)], json_body(body))


def post_path(article_id: int) -> str:
    """``/gkmlpt/content/{id//1e6}/{id//1e3}/post_{id}.html``."""
    return f"/gkmlpt/content/{article_id // 1_000_000}/{article_id // 1_000}/post_{article_id}.html"
