"""Family B beyond Shandong: Hanweb JCMS classic (jpage) as Jiangsu and Jiangxi sites run it.

Differences from the Shandong replica, each switchable in :class:`HanwebVariantConfig`:

- ``twin_units``: the column page carries two identical jpage units (pc and mobile), so every
  record appears twice in the page source;
- ``range_ignored``: the dataproxy ignores ``startrecord``/``endrecord`` and honours only
  ``page`` (without ``page=`` it answers the first group whatever start and end say);
- ``uid_paging``: ``/col/colN/index.html?uid=<unitid>&pageNum=N`` server-renders page N;
- ``quote``: records written with single-quoted attributes (``<a href='…' title='…'>``);
- ``jsluid``: 加速乐 ``__jsluid_s`` cookies on normal answers; ``challenge``: 521 for everything.

Articles use the Jiangsu template (``p.bt-art-title``, ``span.bt-date``, ``span.bt-source``,
``div.bt-content.zoom`` wrapping ``<meta name="ContentStart"><div class="TRS_Editor">``) or
Jiangxi's ``div.jgzn_content``.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from urllib.parse import parse_qs

from caseharvest.replica import hanweb_variant_pages as variant_pages
from caseharvest.replica.family import (
    Draft,
    FamilyCase,
    FamilySite,
    minute_of,
    page_of,
    page_param,
    page_total,
)
from caseharvest.replica.pages import DATAPROXY_PATH, datastore
from caseharvest.replica.routes import SiteRequest, SiteResponse, int_param

VARIANTS = ("jiangsu", "jiangxi")
TEMPLATES = {
    "jiangsu": ("jiangsu-bt", "jiangsu-main-txt", "jiangsu-table"),
    "jiangxi": ("jiangxi-content", "jiangxi-table"),
}
DOWNLOAD_PATH = "/module/download/downfile.jsp"
_PER_PAGE_CHOICES = (10, 15, 20)


@dataclass(frozen=True)
class HanwebVariantConfig:
    """One Hanweb classic site; ``per_page=None`` is drawn from the seed."""

    variant: str = "jiangsu"
    host: str = "doc.jiangsu.gov.cn"
    site_name: str = "江苏省商务厅"
    column_id: str = "78712"
    column_name: str = "开发区建设"
    webid: int = 3
    unitid: int = 423656
    cases: int = 60
    per_page: int | None = None
    group_size: int = 3
    twin_units: bool = True
    range_ignored: bool = True
    uid_paging: bool = True
    quote: str = "double"  # "single": <a href='…' title='…'>
    jsluid: bool = True
    challenge: bool = False
    schemes: tuple[str, ...] = ("https", "http")
    seed: int = 5003

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}")
        if self.quote not in ("double", "single"):
            raise ValueError("quote must be double or single")
        if self.group_size < 1 or (self.per_page is not None and self.per_page < 1):
            raise ValueError("per_page and group_size must be positive")


JIANGXI_CONFIG = HanwebVariantConfig(
    variant="jiangxi",
    host="swt.jiangxi.gov.cn",
    site_name="江西省商务厅",
    column_id="30184",
    column_name="开发区动态",
    webid=12,
    unitid=380055,
    twin_units=False,
    range_ignored=False,
    quote="single",
    jsluid=False,
    schemes=("http",),
    seed=8003,
)


class HanwebVariantSite(FamilySite):
    """A Jiangsu- or Jiangxi-like Hanweb classic column."""

    family = "hanweb"
    # Hanweb article ids of 2019 are 7 digits, 8 by 2026.
    first_article_id = 9_000_000
    ids_per_day = 1_900
    id_gap = 400
    #: Hanweb keeps crawlers out of its search and script modules.
    robots = "User-agent: *\nDisallow: /module/search/\nDisallow: /module/jslib/\n"

    def __init__(self, config: HanwebVariantConfig | None = None) -> None:
        self.config = config or HanwebVariantConfig()
        rng = random.Random(f"hanweb-shape-{self.config.seed}")
        self.per_page = self.config.per_page or rng.choice(_PER_PAGE_CHOICES)
        super().__init__(self.config)

    @property
    def column_path(self) -> str:
        """Site-relative path of the column page."""
        return f"/col/col{self.config.column_id}/index.html"

    @property
    def column_url(self) -> str:
        """The column page."""
        return f"{self.root}{self.column_path}"

    @property
    def group_records(self) -> int:
        """Records per jpage group."""
        return self.per_page * self.config.group_size

    @property
    def unit_ids(self) -> tuple[int, ...]:
        """The jpage units on the column page (pc, and mobile when twinned)."""
        unit = self.config.unitid
        return (unit, unit + 1) if self.config.twin_units else (unit,)

    # ------------------------------------------------------------ content

    def templates(self) -> tuple[str, ...]:
        """The variant's article templates."""
        return TEMPLATES[self.config.variant]

    def make_case(self, draft: Draft) -> FamilyCase:
        """A case at ``/art/YYYY/M/D/art_<col>_<id>.html``; some link downfile.jsp attachments."""
        rng, article_id, published = draft.rng, draft.article_id, draft.published
        if draft.template.endswith("-table"):
            draft.insert_table()
        attachments: list[tuple[str, str]] = []
        if rng.random() < 0.35:
            kind = rng.choice(("pdf", "docx"))
            digest = hashlib.md5(f"{article_id}-{kind}".encode(), usedforsecurity=False)
            name = f"附件：{draft.attachment_name()}.{kind}"
            url = f"{self.root}{DOWNLOAD_PATH}?classid=0&filename={digest.hexdigest()}.{kind}"
            attachments.append((name, url))
            draft.lines.append(name)
        url = (
            f"{self.root}/art/{published.year}/{published.month}/{published.day}/"
            f"art_{self.config.column_id}_{article_id}.html"
        )
        return draft.case(url, attachments, extra={"time": minute_of(str(article_id))})

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The article in its template."""
        return variant_pages.article_page(self, case).encode("utf-8"), "text/html;charset=UTF-8"

    # ------------------------------------------------------------ answering

    def _jsluid(self, request: SiteRequest) -> str:
        digest = hashlib.sha256(f"{self.seed}-jsluid-{request.target}".encode()).hexdigest()
        name = "__jsluid_s" if request.scheme == "https" else "__jsluid_h"
        secure = "; secure" if request.scheme == "https" else ""
        return f"{name}={digest[:32]}; max-age=31536000; path=/; HttpOnly{secure}"

    def extra_headers(self, request: SiteRequest) -> list[tuple[str, str]]:
        """加速乐 hands out its ``__jsluid`` cookie to clients that do not send one."""
        if not self.config.jsluid or self.config.challenge:
            return []
        if "__jsluid" in (request.header("Cookie") or ""):
            return []
        return [("Set-Cookie", self._jsluid(request))]

    def gate(self, request: SiteRequest) -> SiteResponse | None:
        """Challenge mode: 加速乐 521 for everything but robots.txt."""
        if not self.config.challenge or request.path == "/robots.txt":
            return None
        cookies = request.header("Cookie") or ""
        if "__jsl_clearance" in cookies:
            return None
        headers = [("Content-Type", "text/html")]
        if "__jsluid" not in cookies:
            headers.append(("Set-Cookie", self._jsluid(request)))
            body = variant_pages.jiasule_first(self.seed)
        else:
            body = variant_pages.jiasule_second(self.seed)
        return SiteResponse(521, headers, body.encode("utf-8"))

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """The column page (also ``?uid=&pageNum=``) and the dataproxy."""
        if request.path == DATAPROXY_PATH:
            return self._dataproxy(request)
        if request.path in (self.column_path, f"/col/col{self.config.column_id}/"):
            if request.method == "POST":
                return None
            query = parse_qs(request.query)
            if self.config.uid_paging and "pageNum" in query:
                return self._uid_page(request, query)
            records = self.listed()
            html = variant_pages.column_page(self, records[: self.group_records], len(records))
            return self.listing_response(request, html)
        return None

    def _uid_page(self, request: SiteRequest, query: dict[str, list[str]]) -> SiteResponse:
        uid = query.get("uid", [""])[0]
        number = page_param(query, "pageNum")
        records = self.listed() if uid in {str(unit) for unit in self.unit_ids} else []
        shown = page_of(records, number, self.per_page)
        pages = page_total(len(records), self.per_page)
        html = variant_pages.uid_page(self, shown, number, pages, len(records), uid)
        return self.listing_response(request, html)

    def _dataproxy(self, request: SiteRequest) -> SiteResponse:
        query = parse_qs(request.query)
        form = parse_qs(request.body.decode("utf-8", "replace")) if request.body else {}
        params = {**query, **form}
        group = int_param(params, "page")
        if group is None:
            start, end = int_param(params, "startrecord"), int_param(params, "endrecord")
            if self.config.range_ignored or start is None or end is None:
                # The quirk: without page= this proxy always answers the first group.
                group = 1
            else:
                first = max(start, 1)
                return self._store(
                    params, first, max(end, first - 1), (first - 1) // self.group_records + 1
                )
        group = max(group, 1)
        first = (group - 1) * self.group_records + 1
        return self._store(params, first, group * self.group_records, group)

    def _store(
        self, params: dict[str, list[str]], first: int, last: int, group: int
    ) -> SiteResponse:
        known_unit = params.get("unitid", [""])[0] in {str(unit) for unit in self.unit_ids}
        known_column = params.get("columnid", [""])[0] == self.config.column_id
        # Hanweb answers an unknown unit or column with an empty store, not an error.
        records = self.listed() if known_unit and known_column else []
        chosen = records[first - 1 : last]
        xml = datastore(
            [variant_pages.record(self, case) for case in chosen],
            next_link=variant_pages.next_group_link(self, self.config.unitid, group + 1),
            total_records=len(records),
            total_pages=math.ceil(len(records) / self.per_page),
        )
        headers = [("Content-Type", "text/xml;charset=UTF-8"), ("Cache-Control", "no-cache")]
        return SiteResponse(200, headers, xml.encode("utf-8"))
