"""Family A: a TRS WCM static-publishing site (拓尔思), e.g. swt.fujian.gov.cn.

The column is a directory: page 1 is ``/<col>/`` or ``/<col>/index.htm``, page N is
``index_{N-1}.htm``; the page count only appears in ``createPageHTML(count, current, "index",
"htm")`` (or a ``var countPage = N//共多少页`` script). Items link articles with RELATIVE hrefs
``./YYYYMM/tYYYYMMDD_ID.htm`` (``../`` for a sibling column) and put pinned (置顶) old items above
the newest. Where the notes only guess (page size, extension, page name, pager script, item
markup, date format) the shape is drawn from the seed unless :class:`TrsConfig` fixes it.
Optional modes: deep pages as 300–400 B stubs, and a WAF that answers 429 after a burst.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from caseharvest.replica import trs_pages
from caseharvest.replica.family import (
    Draft,
    FamilyCase,
    FamilySite,
    minute_of,
    page_total,
    pick,
)
from caseharvest.replica.routes import SiteRequest, SiteResponse

EXTENSIONS = ("htm", "html", "shtml")
PAGE_NAMES = ("index", "list")
PAGERS = ("createPageHTML", "countPage")
LIST_STYLES = ("u-list", "gl-ul", "zfxxgk")
DATE_STYLES = ("slash", "dash", "bracket", "cn")
TEMPLATES = ("trs-editor", "trs-view", "trs-ueditor", "trs-inline-attach")
_PER_PAGE_CHOICES = (15, 20, 25)
_SIBLING_DIR = "kfqgzdt"  # the sibling column a few items of the case column come from


@dataclass(frozen=True)
class TrsConfig:
    """Shape and behaviour of one TRS replica; ``None`` fields are drawn from ``seed``."""

    host: str = "swt.fujian.gov.cn"
    site_name: str = "福建省商务厅"
    column_path: str = "/xxgk/jgzn/jgcs/kfqc/kfqal/"
    column_name: str = "开发区典型案例"
    breadcrumb: tuple[str, ...] = ("信息公开", "机构职能", "处室介绍", "开发区处")
    cases: int = 60
    per_page: int | None = None
    ext: str | None = None
    page_name: str | None = None
    pager: str | None = None
    list_style: str | None = None
    date_style: str | None = None
    pinned: int = 2
    encoding: str = "utf-8"  # "gbk": GB18030 bytes, charset only in a <meta>
    stub_from: int | None = None  # pages index_N with N >= this are 300–400 B stubs
    waf_burst: int | None = None  # more requests than this within waf_window s: 429s
    waf_window: float = 10.0
    waf_block: float = 60.0
    schemes: tuple[str, ...] = ("http",)
    seed: int = 9003

    def __post_init__(self) -> None:
        if not (self.column_path.startswith("/") and self.column_path.endswith("/")):
            raise ValueError("column_path must start and end with '/'")
        if self.encoding not in ("utf-8", "gbk"):
            raise ValueError("encoding must be utf-8 or gbk")
        for value, allowed in (
            (self.ext, EXTENSIONS),
            (self.page_name, PAGE_NAMES),
            (self.pager, PAGERS),
            (self.list_style, LIST_STYLES),
            (self.date_style, DATE_STYLES),
        ):
            if value is not None and value not in allowed:
                raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class TrsShape:
    """The resolved shape of a TRS site: config choices, or seed draws where it left them open."""

    per_page: int
    ext: str
    page_name: str
    pager: str
    list_style: str
    date_style: str


def resolve_shape(config: TrsConfig) -> TrsShape:
    """Fill the config's open choices from its seed (the same seed always gives the same shape)."""
    rng = random.Random(f"trs-shape-{config.seed}")
    return TrsShape(
        per_page=config.per_page or rng.choice(_PER_PAGE_CHOICES),
        ext=pick(rng, config.ext, EXTENSIONS),
        page_name=pick(rng, config.page_name, PAGE_NAMES),
        pager=pick(rng, config.pager, PAGERS),
        list_style=pick(rng, config.list_style, LIST_STYLES),
        date_style=pick(rng, config.date_style, DATE_STYLES),
    )


class TrsSite(FamilySite):
    """A TRS WCM column, its articles and ``P0…`` attachments."""

    family = "trs"
    # TRS docids of 2019 are 7 digits; they grow with the publication date, a few thousand a
    # day across the CMS.
    first_article_id = 4_200_000
    ids_per_day = 1_300
    #: TRS sites keep crawlers out of their search and preview paths.
    robots = "User-agent: *\nDisallow: /was5/\nDisallow: /trsapp/\nDisallow: /preview/\n"

    def __init__(
        self, config: TrsConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or TrsConfig()
        self.shape = resolve_shape(self.config)
        self._recent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        super().__init__(self.config, clock=clock)
        self._pin_old_cases()

    @property
    def column_url(self) -> str:
        """The column directory (page 1)."""
        return f"{self.root}{self.config.column_path}"

    def page_url(self, index: int) -> str:
        """Absolute URL of listing page ``index`` (0-based, as createPageHTML counts)."""
        return f"{self.column_url}{self.page_file(index)}"

    def page_file(self, index: int) -> str:
        """File name of listing page ``index`` (0-based)."""
        name = self.shape.page_name if index == 0 else f"{self.shape.page_name}_{index}"
        return f"{name}.{self.shape.ext}"

    def page_count(self) -> int:
        """How many listing pages the pager announces."""
        return page_total(len(self.listed()), self.shape.per_page)

    def _pin_old_cases(self) -> None:
        rng = random.Random(f"trs-pinned-{self.seed}")
        older = [c for c in self.cases[len(self.cases) // 2 :] if c.status == 200 and not c.flaky]
        for case in rng.sample(older, min(self.config.pinned, len(older))):
            case.pinned = True

    # ------------------------------------------------------------ content

    def templates(self) -> tuple[str, ...]:
        """TRS editor generations: TRS_Editor, trs_editor_view, TRS_UEDITOR, inline attachments."""
        return TEMPLATES

    def extra_roles(self, count: int) -> list[str]:
        """Some items come from a sibling column (listed with a ``../`` href)."""
        return ["sibling", "sibling"] if count >= 12 else []

    def make_case(self, draft: Draft) -> FamilyCase:
        """A case under ``./YYYYMM/tYYYYMMDD_ID.ext``, with P0… attachments next to it."""
        rng, published, template = draft.rng, draft.published, draft.template
        column = self.config.column_path
        if draft.role == "sibling":
            column = column.rstrip("/").rsplit("/", 1)[0] + f"/{_SIBLING_DIR}/"
        folder = f"{self.root}{column}{published:%Y%m}/"
        url = f"{folder}t{published:%Y%m%d}_{draft.article_id}.{self.shape.ext}"
        attachments: list[tuple[str, str]] = []
        inline = template == "trs-inline-attach"
        count = {"trs-inline-attach": rng.randint(1, 2), "trs-editor": rng.randint(0, 1)}
        for number in range(1, count.get(template, 0) + 1):
            digits = rng.randint(10**11, 10**12 - 1)
            kind = "pdf" if number == 1 else rng.choice(("docx", "xlsx"))
            title = draft.attachment_name()
            name = f"附件{number}：{title}.{kind}" if inline else f"{title}.{kind}"
            attachments.append((name, f"{folder}P0{published:%Y%m%d}{digits}.{kind}"))
        if template == "trs-ueditor":
            draft.insert_table(at=2)
        if inline:
            draft.lines.extend(name for name, _ in attachments)
        return draft.case(
            url,
            attachments,
            encoding="gb18030" if self.config.encoding == "gbk" else "utf-8",
            inline_attachments=inline,
            extra={"time": minute_of(str(draft.article_id)), "column": column},
        )

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The article page; GBK pages carry their charset only in a <meta>."""
        html = trs_pages.article_page(self, case)
        return html.encode(case.encoding), self._content_type(int(case.article_id))

    def _content_type(self, salt: int) -> str:
        if self.config.encoding == "gbk":
            return "text/html"
        return "text/html" if salt % 2 else "text/html; charset=UTF-8"

    # ------------------------------------------------------------ answering

    def gate(self, request: SiteRequest) -> SiteResponse | None:
        """The WAF: after more than ``waf_burst`` requests within ``waf_window`` s, 429s."""
        burst = self.config.waf_burst
        if burst is None:
            return None
        now = self.clock()
        with self._lock:
            if now < self._blocked_until:
                return self._blocked()
            self._recent.append(now)
            while self._recent and self._recent[0] <= now - self.config.waf_window:
                self._recent.popleft()
            if len(self._recent) > burst:
                self._blocked_until = now + self.config.waf_block
                self._recent.clear()
                return self._blocked()
        return None

    def unblock(self) -> None:
        """Lift a WAF block now (tests use it instead of waiting ``waf_block`` seconds)."""
        with self._lock:
            self._blocked_until = 0.0
            self._recent.clear()

    def _blocked(self) -> SiteResponse:
        body = trs_pages.waf_page().encode("utf-8")
        return SiteResponse(429, [("Content-Type", "text/html; charset=utf-8")], body, close=True)

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """Listing pages: the column dir, ``index.ext`` and ``index_N.ext``."""
        column = self.config.column_path
        if not request.path.startswith(column) or request.method == "POST":
            return None
        rest = request.path[len(column) :]
        index = self._page_index(rest)
        if index is None:
            return None
        if index >= self.page_count():
            return None  # a page past the end does not exist: 404 from the base class
        stub_from = self.config.stub_from
        if stub_from is not None and index >= stub_from:
            return self._listing(request, trs_pages.stub_page(self))
        return self._listing(request, trs_pages.listing_page(self, index))

    def _page_index(self, rest: str) -> int | None:
        if rest == "":
            return 0
        stem, dot, ext = rest.partition(".")
        if not dot or ext != self.shape.ext or "/" in stem:
            return None
        if stem == self.shape.page_name:
            return 0
        prefix = f"{self.shape.page_name}_"
        number = stem[len(prefix) :]
        if stem.startswith(prefix) and number.isdigit() and not number.startswith("0"):
            return int(number)
        return None

    def _listing(self, request: SiteRequest, html: str) -> SiteResponse:
        encoding = "gb18030" if self.config.encoding == "gbk" else "utf-8"
        return self.listing_response(request, html.encode(encoding), self._content_type(0))
