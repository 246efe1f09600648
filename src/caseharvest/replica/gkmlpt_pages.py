"""HTML of the gkmlpt replica: the index page with ``window._CONFIG`` and post pages."""

from __future__ import annotations

import json
import random
from html import escape
from typing import Protocol

from caseharvest.replica.family import FamilyCase, body_html, site_relative
from caseharvest.replica.guangdong_pages import footer, head, header


class CategoryLike(Protocol):
    """A :class:`~caseharvest.replica.gkmlpt.Category` as the pages read it.

    Declared here so this module needs no import of :mod:`.gkmlpt`, which imports it (no import
    loops between files, not even type-only ones).
    """

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def parent(self) -> int | None: ...


class GkmlptConfigLike(Protocol):
    """The fields of :class:`~caseharvest.replica.gkmlpt.GkmlptConfig` the pages read.

    Declared here for the same reason as :class:`CategoryLike`.
    """

    @property
    def site_name(self) -> str: ...
    @property
    def sid(self) -> str: ...
    @property
    def case_category(self) -> int: ...
    @property
    def categories(self) -> tuple[CategoryLike, ...]: ...


class GkmlptSiteLike(Protocol):
    """What the pages use of :class:`~caseharvest.replica.gkmlpt.GkmlptSite`.

    A protocol instead of the class itself, so this module needs no import of :mod:`.gkmlpt`,
    which imports it (no import loops between files, not even type-only ones).
    """

    @property
    def config(self) -> GkmlptConfigLike: ...
    def listed(self) -> list[FamilyCase]: ...
    def in_category(self, category: int) -> bool: ...


def tree(site: GkmlptSiteLike) -> list[dict[str, object]]:
    """The category TREE as ``_CONFIG`` holds it (nodes with children and post counts)."""
    total = len(site.listed())
    categories = site.config.categories

    def node(category_id: int) -> dict[str, object]:
        category = next(c for c in categories if c.id == category_id)
        children = [node(c.id) for c in categories if c.parent == category_id]
        return {
            "id": category.id,
            "name": category.name,
            "children": children,
            "jump_url": "",
            "post_count": total if site.in_category(category.id) else 0,
        }

    return [node(c.id) for c in categories if c.parent is None]


def _script_json(data: object) -> str:
    # "</" inside a script would end it early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def index_page(site: GkmlptSiteLike) -> str:
    """``/gkmlpt/index``: an app shell whose data comes from ``window._CONFIG`` and the API."""
    config = site.config
    script = (
        "<script>\nwindow._CONFIG = {\n"
        f"  SID: '{config.sid}',\n"
        "  SERVICE_AREA_ID: 1,\n"
        f"  SITE_NAME: '{config.site_name}',\n"
        f"  TREE: {_script_json(tree(site))},\n"
        "  API_BASE: '/gkmlpt/api'\n};\n</script>\n"
    )
    return (
        head(config.site_name, f"政府信息公开-{config.site_name}")
        + "<body>\n"
        + header(config.site_name)
        + '<div id="app" class="gkmlpt"><div class="tree"></div><div class="list"></div></div>\n'
        + script
        + '<script src="/gkmlpt/static/js/app.2f4e1c.js"></script>\n'
        + footer(config.site_name)
        + "</body>\n</html>\n"
    )


def _classify(site: GkmlptSiteLike, case: FamilyCase) -> str:
    category = next(c for c in site.config.categories if c.id == site.config.case_category)
    rows = (
        ("索引号：", case.extra["identifier"], "分类：", category.name),
        ("发布机构：", site.config.site_name, "成文日期：", case.extra["written"]),
        ("名称：", case.title, None, None),
        ("文号：", case.extra["document_number"], "发布日期：", case.published),
        ("主题词：", case.extra["keywords"], None, None),
    )
    html = []
    for label, value, label2, value2 in rows:
        if label2 is None:
            html.append(
                f'<tr><td class="first">{label}</td><td colspan="3">{escape(value)}</td></tr>'
            )
        else:
            html.append(
                f'<tr><td class="first">{label}</td><td>{escape(value)}</td>'
                f'<td class="first">{label2}</td><td>{escape(value2 or "")}</td></tr>'
            )
    return f'<div class="classify"><table>{"".join(html)}</table></div>\n'


def post_page(site: GkmlptSiteLike, case: FamilyCase) -> str:
    """A gkmlpt post: metadata table, title, source line, body, ``_CONFIG.DETAIL``."""
    config = site.config
    rng = random.Random(f"gkmlpt-markup-{case.article_id}")
    links = {name: site_relative(url) for name, url in case.attachments}
    body = body_html(case.paragraphs, links, rng, heading="strong", paragraph="<p>")
    detail = {
        "id": int(case.article_id),
        "title": case.title,
        "abstract": case.paragraphs[0][:60] if case.paragraphs else "",
        "content": body,
        "publisher": config.site_name,
        "date": f"{case.published} {case.extra['time']}",
    }
    script = (
        "<script>\nwindow._CONFIG = {\n"
        f"  SID: '{config.sid}',\n"
        f"  DETAIL: {_script_json(detail)}\n}};\n</script>\n"
    )
    meta = (
        f'<meta name="ArticleTitle" content="{escape(case.title)}">\n'
        f'<meta name="PubDate" content="{case.published} {case.extra["time"]}">\n'
        f'<meta name="ContentSource" content="{escape(case.source or "")}">\n'
    )
    return (
        head(config.site_name, f"{case.title}-{config.site_name}", meta)
        + "<body>\n"
        + header(config.site_name)
        + '<div class="main gkmlpt-content">\n'
        + _classify(site, case)
        + '<div class="content-box">\n'
        + f'<h1 class="content-title">{escape(case.title, quote=False)}</h1>\n'
        + f'<div class="content-info"><span>来源：{escape(case.source or "", quote=False)}</span>'
        + '<span class="font">字号：<a>大</a> <a>中</a> <a>小</a></span></div>\n'
        + f'<div class="article-content">\n{body}</div>\n'
        + '<div class="print"><a href="javascript:window.print()">【打印】</a></div>\n'
        + "</div></div>\n"
        + script
        + footer(config.site_name)
        + "</body>\n</html>\n"
    )
