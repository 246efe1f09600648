"""Family D, part 1: a Guangdong gov-cloud NFCMS column on com.gd.gov.cn, served over https.

Columns are ``/<section>/<col>/index.html`` then ``index_2.html``, ``index_3.html`` … (the
second page is ``_2``, unlike TRS); the safe way on is the ``a.next`` link, which the last
page lacks. Items are ``.comlist3 li a[title]`` with a ``span`` date; articles live at
``/<section>/<col>/content/post_<id>.html`` with the body in ``div.article-content`` and the
``NFCMS_SITE_ID`` statistics script; attachments at ``/attachment/0/<a>/<b>/<n>.pdf``.
The gkmlpt part of the same host is :mod:`caseharvest.replica.gkmlpt`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from caseharvest.replica import guangdong_pages
from caseharvest.replica.family import HTML_UTF8, Draft, FamilyCase, FamilySite, page_total
from caseharvest.replica.routes import SiteRequest, SiteResponse

HOST = "com.gd.gov.cn"
SITE_NAME = "广东省商务厅"
TEMPLATES = ("nfcms-article", "nfcms-attach", "nfcms-table")
#: The gov cloud keeps crawlers off its search (gkmlpt's too).
ROBOTS = "User-agent: *\nDisallow: /search/\nDisallow: /gkmlpt/search\n"
_PER_PAGE_CHOICES = (15, 20)
_PAGE = re.compile(r"^index(?:_([2-9]|[1-9]\d+))?\.html$")


def attachment_path(article_id: int, number: int) -> str:
    """``/attachment/0/<folder//1000>/<folder>/<n>.pdf``, as the gov-cloud stores files."""
    folder = 400_000 + article_id % 100_000
    file_number = 3_900_000 + (article_id % 10_000) * 10 + number
    return f"/attachment/0/{folder // 1000}/{folder}/{file_number}"


@dataclass(frozen=True)
class NfcmsConfig:
    """One NFCMS column; ``per_page=None`` and ``absolute_hrefs=None`` come from the seed."""

    host: str = HOST
    site_name: str = SITE_NAME
    section: str = "zcqggfwpt"
    column: str = "tzjy"
    column_name: str = "投资指引"
    site_id: str = "160"
    cat_id: str = "2945"
    cases: int = 60
    per_page: int | None = None
    absolute_hrefs: bool | None = None
    schemes: tuple[str, ...] = ("https", "http")
    seed: int = 1003


class NfcmsSite(FamilySite):
    """An NFCMS column of com.gd.gov.cn."""

    family = "nfcms"
    # Post ids of 2019 have 7 digits and grow with dates (one id space for the whole gov cloud).
    first_article_id = 2_400_000
    ids_per_day = 1_000
    robots = ROBOTS

    def __init__(self, config: NfcmsConfig | None = None) -> None:
        self.config = config or NfcmsConfig()
        rng = random.Random(f"nfcms-shape-{self.config.seed}")
        self.per_page = self.config.per_page or rng.choice(_PER_PAGE_CHOICES)
        absolute = self.config.absolute_hrefs
        self.absolute_hrefs = rng.random() < 0.5 if absolute is None else absolute
        super().__init__(self.config)

    @property
    def column_path(self) -> str:
        """The column directory."""
        return f"/{self.config.section}/{self.config.column}/"

    @property
    def column_url(self) -> str:
        """Page 1 of the column."""
        return f"{self.root}{self.column_path}index.html"

    def page_count(self) -> int:
        """Listing pages."""
        return page_total(len(self.listed()), self.per_page)

    def claims(self, request: SiteRequest) -> bool:
        """Everything on the host except gkmlpt and attachments of other sites."""
        if request.path.startswith("/attachment/"):
            return self.attachment_at(request.target) is not None
        return not request.path.startswith("/gkmlpt/")

    # ------------------------------------------------------------ content

    def templates(self) -> tuple[str, ...]:
        """Plain article, article with attachments, article with a data table."""
        return TEMPLATES

    def make_case(self, draft: Draft) -> FamilyCase:
        """A post under the column's ``content/`` folder."""
        rng, article_id = draft.rng, draft.article_id
        if draft.template == "nfcms-table":
            draft.insert_table()
        attachments: list[tuple[str, str]] = []
        if draft.template == "nfcms-attach":
            for number in range(1, rng.randint(1, 2) + 1):
                kind = "pdf" if number == 1 else "docx"
                name = f"{draft.attachment_name()}.{kind}"
                path = f"{attachment_path(article_id, number)}.{kind}"
                attachments.append((name, f"{self.root}{path}"))
            draft.lines.extend(name for name, _ in attachments)
        seconds = rng.randint(0, 59)
        return draft.case(
            f"{self.root}{self.column_path}content/post_{article_id}.html",
            attachments,
            extra={"time": f"{rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}:{seconds:02d}"},
        )

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The post page."""
        return guangdong_pages.post_page(self, case).encode("utf-8"), HTML_UTF8

    # ------------------------------------------------------------ answering

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """Listing pages ``index.html`` (or the bare directory) and ``index_N.html`` (N ≥ 2)."""
        if request.method == "POST" or not request.path.startswith(self.column_path):
            return None
        rest = request.path[len(self.column_path) :]
        if rest == "":
            number = 1
        else:
            match = _PAGE.match(rest)
            if match is None:
                return None
            number = int(match.group(1) or 1)
        if number > self.page_count():
            return None
        return self.listing_response(request, guangdong_pages.listing_page(self, number))
