"""An "unknown CMS" site for a generic list walker, shaped like commerce.ah.gov.cn (Anhui).

The column is a query-string URL ``/public/column/21711?type=4&catId=…&action=list`` whose
page N adds ``&pageIndex=N``; items are ``<li class="clearfix"><a class="title" …>…</a><span
class="date">…</span></li>``; the pager has numbered links and a ``下一页`` link (plain text on
the last page). Articles are ``/public/21711/<id>.html``; most just offer a PDF.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qs

from caseharvest.replica.family import (
    HTML_UTF8,
    Draft,
    FamilyCase,
    FamilySite,
    body_html,
    page_of,
    page_param,
    page_total,
    site_relative,
)
from caseharvest.replica.routes import SiteRequest, SiteResponse

TEMPLATES = ("ah-pdf", "ah-article", "ah-pdf")  # mostly PDFs
_PER_PAGE_CHOICES = (10, 15, 20)


@dataclass(frozen=True)
class GenericConfig:
    """The Anhui-like site; ``per_page=None`` is drawn from the seed."""

    host: str = "commerce.ah.gov.cn"
    site_name: str = "安徽省商务厅"
    column: str = "21711"
    cat_id: str = "32712951"
    column_name: str = "开发区建设"
    cases: int = 45
    per_page: int | None = None
    schemes: tuple[str, ...] = ("http",)
    seed: int = 12003


class GenericSite(FamilySite):
    """A column of a site no family adapter knows."""

    family = "generic"
    first_article_id = 10_000_000  # post ids have 8 digits

    def __init__(self, config: GenericConfig | None = None) -> None:
        self.config = config or GenericConfig()
        rng = random.Random(f"generic-shape-{self.config.seed}")
        self.per_page = self.config.per_page or rng.choice(_PER_PAGE_CHOICES)
        super().__init__(self.config)

    @property
    def column_path(self) -> str:
        """Path of the column (its pages differ in the query only)."""
        return f"/public/column/{self.config.column}"

    @property
    def column_query(self) -> str:
        """The query of page 1."""
        return f"type=4&catId={self.config.cat_id}&action=list"

    @property
    def column_url(self) -> str:
        """Page 1 of the column."""
        return f"{self.root}{self.column_path}?{self.column_query}"

    def page_href(self, number: int) -> str:
        """Site-relative link to page ``number``."""
        return f"{self.column_path}?{self.column_query}&pageIndex={number}"

    def page_count(self) -> int:
        """Listing pages."""
        return page_total(len(self.listed()), self.per_page)

    def templates(self) -> tuple[str, ...]:
        """PDF-only posts and full articles."""
        return TEMPLATES

    def make_case(self, draft: Draft) -> FamilyCase:
        """A post; a PDF post has two lines of text and its file."""
        article_id = draft.article_id
        name = f"{draft.attachment_name()}.pdf"
        url = f"{self.root}/group6/M00/{article_id % 97:02X}/{article_id}.pdf"
        if draft.template == "ah-pdf":
            draft.lines = [draft.lines[0], "现将有关材料予以公布，详见附件。"]
        draft.lines.append(name)
        return draft.case(
            f"{self.root}/public/{self.config.column}/{article_id}.html", [(name, url)]
        )

    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The post page."""
        rng = random.Random(f"generic-markup-{case.article_id}")
        links = {name: site_relative(url) for name, url in case.attachments}
        body = body_html(case.paragraphs, links, rng, heading="strong")
        name = escape(self.config.site_name)
        html = (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(case.title, quote=False)}_{name}</title>\n</head>\n<body>\n"
            f'<div class="top"><a href="/">{name}</a></div>\n'
            '<div class="wz_top"><h1 class="wztit">'
            f"{escape(case.title, quote=False)}</h1>\n"
            f'<div class="wzxx"><span>发布时间：{case.published}</span>'
            f"<span>来源：{escape(case.source or '', quote=False)}</span></div></div>\n"
            f'<div class="wzcon j-fontContent">\n{body}</div>\n'
            f'<div class="footer">主办单位：{name}</div>\n</body>\n</html>\n'
        )
        return html.encode("utf-8"), HTML_UTF8

    def route(self, request: SiteRequest) -> SiteResponse | None:
        """Column pages: ``pageIndex`` picks the page; past the end is an empty list."""
        if request.path != self.column_path or request.method == "POST":
            return None
        number = page_param(parse_qs(request.query), "pageIndex")
        return self.listing_response(request, self._listing(number))

    def _listing(self, number: int) -> str:
        shown = page_of(self.listed(), number, self.per_page)
        items = "".join(
            f'<li class="clearfix"><a class="title" href="{escape(site_relative(case.url))}" '
            f'title="{escape(case.title)}" target="_blank">{escape(case.title, quote=False)}</a>'
            f'<span class="date">{case.published}</span></li>\n'
            for case in shown
        )
        count = self.page_count()
        links = [
            f'<a href="{escape(self.page_href(n))}">{n}</a>' if n != number else f"<b>{n}</b>"
            for n in range(max(1, number - 3), min(count, number + 3) + 1)
        ]
        if number < count:
            links.append(f'<a href="{escape(self.page_href(number + 1))}">下一页</a>')
        else:
            links.append("<span>下一页</span>")
        name = escape(self.config.site_name)
        return (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{escape(self.config.column_name)}_{name}</title>\n</head>\n<body>\n"
            f'<div class="top"><a href="/">{name}</a></div>\n'
            f'<div class="navjz">{escape(self.config.column_name)}</div>\n'
            f'<ul class="doc_list">\n{items}</ul>\n'
            f'<div class="pagination">共{len(self.listed())}条 {"".join(links)}</div>\n'
            f'<div class="footer">主办单位：{name}</div>\n</body>\n</html>\n'
        )
