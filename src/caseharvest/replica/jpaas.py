"""Family C: a Hanweb jpaas "页面构建单元" site, e.g. zcom.zj.gov.cn.

The column page ``/col/col<10 digits>/index.html`` holds NO list, only ``unitbuild.js`` script
tags with a single-quoted ``queryData`` (several units; the one whose ``tagId`` is the list tag
holds the column). The list comes from ``GET /api-gateway/jpaas-publish-server/front/page/build/
unit?<queryData>&paramJson={"pageNo":N,"pageSize":S}`` as a JSON envelope whose ``data.html``
has the items and a ``<table class="pagination" count=…>``; a bare ``pageNo`` is ignored (page 1)
and a page past the end is an empty list. Anchor text is truncated with ``...``; old
protocol-relative ``//host/art/Y/M/D/art_<col>_<id>.html`` and new
``/col/col<id>/art/YYYY/art_<32hex>.html`` article URLs mix. Attachments go through a download
gateway that answers 403 to a repeated request for the same file (rate limit).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from caseharvest.replica import jpaas_pages
from caseharvest.replica.family import (
    HTML_UTF8,
    JSON_UTF8,
    Draft,
    FamilyCase,
    FamilySite,
    json_body,
    minute_of,
    page_of,
    pick,
)
from caseharvest.replica.routes import SiteRequest, SiteResponse

UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DOWNLOAD_PATH = "/api-gateway/jpaas-web-server/front/document/download"
LIST_TAGS = ("信息列表", "分页列表", "当前栏目list")
TEMPLATES = ("jpaas-xxgk", "jpaas-plain", "jpaas-attach", "jpaas-table")
_PAGE_SIZES = (15, 20, 24, 30)
_MAX_PAGE_SIZE = 100
_OLD_COLUMN_ID = "1403427"  # the column id of the site's pre-jpaas articles
_NEW_SHAPE_FROM = dt.date(2023, 1, 1)


@dataclass(frozen=True)
class JpaasConfig:
    """One jpaas site; ``None`` fields are drawn from ``seed``."""

    host: str = "zcom.zj.gov.cn"
    site_name: str = "浙江省商务厅"
    column_id: str = "1229251058"
    column_name: str = "开发区建设"
    web_id: str = "3201"
    cases: int = 60
    page_size: int | None = None
    list_tag: str | None = None
    title_chars: int | None = None  # anchor text longer than this is cut and ends in "..."
    download_cooldown: float = 60.0  # a repeat download within this many seconds gets 403
    schemes: tuple[str, ...] = ("http", "https")
    seed: int = 7003

    def __post_init__(self) -> None:
        if not (self.column_id.isdigit() and len(self.column_id) == 10):
            raise ValueError("jpaas column ids have 10 digits")
        if self.list_tag is not None and self.list_tag not in LIST_TAGS:
            raise ValueError(f"list_tag must be one of {', '.join(LIST_TAGS)}")


class JpaasSite(FamilySite):
    """A jpaas column, its unit API, articles and download gateway."""

    family = "jpaas"
    first_article_id = 40_000_000  # article ids of the old Hanweb site were 8 digits
    #: Only the search module is off limits.
    robots = "User-agent: *\nDisallow: /module/search/\n"

    def __init__(
        self, config: JpaasConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or JpaasConfig()
        rng = random.Random(f"jpaas-shape-{self.config.seed}")
        self.page_size = self.config.page_size or rng.choice(_PAGE_SIZES)
        self.list_tag = pick(rng, self.config.list_tag, LIST_TAGS)
        self.title_chars = self.config.title_chars or rng.randint(18, 26)
        self.tpl_set_id = base64.urlsafe_b64encode(
            hashlib.sha256(f"tpl-{self.config.seed}".encode()).digest()
        ).decode()[:21]
        self._downloads: dict[str, float] = {}
        super().__init__(self.config, clock=clock)

    @property
    def column_path(self) -> str:
        """Site-relative path of the column page."""
        return f"/col/col{self.config.column_id}/index.html"

    @property
    def column_url(self) -> str:
        """The column page (which has no list of its own)."""
        return f"{self.root}{self.column_path}"

    def query_data(self, tag: str) -> dict[str, str]:
        """A unit's ``queryData`` as the column page writes it."""
        return {
            "parseType": "bulidstatic",
            "webId": self.config.web_id,
            "tplSetId": self.tpl_set_id,
            "pageType": "column",
            "tagId": tag,
            "editType": "null",
            "pageId": self.config.column_id,
        }

    # ------------------------------------------------------------ content

    def templates(self) -> tuple[str, ...]:
        """Article variants: info table, plain, gateway attachments, data table."""
        return TEMPLATES

    def next_id(self, rng: random.Random, previous: int, published: dt.date) -> int:
        """Ids grow steadily."""
        return previous + rng.randint(500, 40_000)

    def make_case(self, draft: Draft) -> FamilyCase:
        """A case in the old or new URL shape, with gateway attachments for one template."""
        rng, article_id, published = draft.rng, draft.article_id, draft.published
        if draft.template == "jpaas-table":
            draft.insert_table()
        attachments: list[tuple[str, str]] = []
        if draft.template == "jpaas-attach":
            for number in range(1, rng.randint(1, 2) + 1):
                kind = rng.choice(("pdf", "docx", "xlsx"))
                name = f"{draft.attachment_name()}.{kind}"
                token = base64.urlsafe_b64encode(
                    hashlib.sha256(f"{article_id}-{number}".encode()).digest()
                ).decode()
                file_url = token.rstrip("=")
                url = (
                    f"{self.root}{DOWNLOAD_PATH}?fileUrl={file_url}&fileName={quote(name, safe='')}"
                )
                attachments.append((name, url))
            draft.lines.extend(name for name, _ in attachments)
        # Older articles keep the pre-jpaas URL shape; from 2023 on most use the new one.
        old_shape = published < _NEW_SHAPE_FROM or rng.random() < 0.2
        if old_shape:
            url = (
                f"{self.root}/art/{published.year}/{published.month}/{published.day}/"
                f"art_{_OLD_COLUMN_ID}_{article_id}.html"
            )
        else:
            digest = hashlib.md5(f"jpaas-{article_id}".encode(), usedforsecurity=False)
            url = (
                f"{self.root}/col/col{self.config.column_id}/art/{published.year}/"
                f"art_{digest.hexdigest()}.html"
            )
        return draft.case(
            url,
            attachments,
            extra={
                "time": minute_of(str(article_id)),
                "shape": "old" if old_shape else "new",
                "index": f"002482365/{published.year}-{article_id % 100000:05d}",
            },
        )

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The article page."""
        return jpaas_pages.article_page(self, case).encode("utf-8"), HTML_UTF8

    # ------------------------------------------------------------ answering

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """Column page, unit API and download gateway."""
        if request.method == "POST":
            return None
        if request.path in (self.column_path, f"/col/col{self.config.column_id}/"):
            return self.listing_response(request, jpaas_pages.column_page(self))
        if request.path == UNIT_PATH:
            return self._unit(request)
        if request.path == DOWNLOAD_PATH:
            return self._download(request)
        return None

    def _unit(self, request: SiteRequest) -> SiteResponse:
        query = parse_qs(request.query)
        wanted = self.query_data(self.list_tag)
        tag = query.get("tagId", [""])[0]
        same_page = all(
            query.get(key, [""])[0] == wanted[key] for key in ("webId", "pageId", "tplSetId")
        )
        if not same_page or tag not in jpaas_pages.unit_tags(self):
            return self._envelope(None, success=False, message="参数错误", code="500")
        if tag != self.list_tag:
            return self._envelope(jpaas_pages.side_unit(self, tag))
        page_no, page_size = 1, self.page_size
        # Paging lives in paramJson only: a bare pageNo is ignored (always page 1).
        try:
            params = json.loads(query.get("paramJson", ["{}"])[0])
            page_no = max(1, int(params.get("pageNo", 1)))
            page_size = min(_MAX_PAGE_SIZE, max(1, int(params.get("pageSize", page_size))))
        except (ValueError, TypeError, AttributeError):
            pass
        records = self.listed()
        shown = page_of(records, page_no, page_size)
        html = jpaas_pages.list_unit(self, shown, page_no, page_size, len(records))
        return self._envelope(html)

    def _envelope(
        self,
        html: str | None,
        *,
        success: bool = True,
        message: str = "生成成功",
        code: str = "200",
    ) -> SiteResponse:
        trace = hashlib.sha1(f"{self.seed}-{html}-{self.clock()}".encode()).hexdigest()[:16]
        data = {
            "roles": None,
            "permissions": None,
            "success": success,
            "message": message,
            "code": code,
            "data": {"html": html} if html is not None else None,
            "traceId": trace,
            "messageType": 2,
        }
        return SiteResponse(200, [("Content-Type", JSON_UTF8)], json_body(data))

    def _download(self, request: SiteRequest) -> SiteResponse:
        file_url = parse_qs(request.query).get("fileUrl", [""])[0]
        found = None
        for case in self.listed():
            for name, url in case.attachments:
                if f"fileUrl={file_url}&" in url and case.status != 404:
                    found = (case, name)
        if not file_url or found is None:
            body = {"success": False, "code": "404", "message": "文件不存在", "data": None}
            return SiteResponse(404, [("Content-Type", JSON_UTF8)], json_body(body))
        now = self.clock()
        with self._lock:
            last = self._downloads.get(file_url)
            self._downloads[file_url] = now
        if last is not None and now - last < self.config.download_cooldown:
            body = {
                "success": False,
                "code": "403",
                "message": "下载过于频繁，请稍后再试",
                "data": None,
            }
            return SiteResponse(403, [("Content-Type", JSON_UTF8)], json_body(body))
        return self.download_response(*found)

    def reset_downloads(self) -> None:
        """Forget past downloads (the gateway's rate limit starts afresh)."""
        with self._lock:
            self._downloads.clear()
