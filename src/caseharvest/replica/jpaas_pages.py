"""HTML of the jpaas replica: the list-less column page, unit HTML fragments, articles.

Modelled on deyye/policy-collector ``samples/zj/col_main.html``, ``unit_api.json`` and
``zj_detail_energy.html``.
"""

from __future__ import annotations

import hashlib
import random
from html import escape
from typing import Protocol

from caseharvest.replica.family import FamilyCase, body_html, site_relative


class JpaasConfigLike(Protocol):
    """The fields of :class:`~caseharvest.replica.jpaas.JpaasConfig` the pages read.

    Declared here so this module needs no import of :mod:`.jpaas`, which imports it (no import
    loops between files, not even type-only ones).
    """

    @property
    def site_name(self) -> str: ...
    @property
    def column_id(self) -> str: ...
    @property
    def column_name(self) -> str: ...
    @property
    def web_id(self) -> str: ...


class JpaasSiteLike(Protocol):
    """What the pages use of :class:`~caseharvest.replica.jpaas.JpaasSite`.

    A protocol instead of the class itself, so this module needs no import of :mod:`.jpaas`,
    which imports it (no import loops between files, not even type-only ones).
    """

    @property
    def config(self) -> JpaasConfigLike: ...
    @property
    def seed(self) -> int: ...
    @property
    def list_tag(self) -> str: ...
    @property
    def title_chars(self) -> int: ...
    @property
    def column_path(self) -> str: ...
    def query_data(self, tag: str) -> dict[str, str]: ...


UNITBUILD_JS = "/cms_files/default/script/AuthorizedRead/unitbuild.js?v=20250318"
_SIDE_UNITS = ("栏目导航", "相关链接")


def unit_tags(site: JpaasSiteLike) -> tuple[str, ...]:
    """Every unit on the column page: two side units and the list."""
    return (_SIDE_UNITS[0], site.list_tag, _SIDE_UNITS[1])


def _query_data(site: JpaasSiteLike, tag: str) -> str:
    # Single-quoted JSON, as the page writes it (a JSON parser needs the quotes swapped).
    pairs = ",".join(f"'{key}':'{value}'" for key, value in site.query_data(tag).items())
    return "{" + pairs + "}"


def _unit_script(site: JpaasSiteLike, tag: str) -> str:
    script_id = hashlib.md5(f"{site.seed}-{tag}".encode(), usedforsecurity=False).hexdigest()
    return (
        f'<script id="{script_id}" src="{UNITBUILD_JS}" webId="{site.config.web_id}" '
        'parseType="bulidstatic" url="/api-gateway/jpaas-publish-server/front/page/build/unit" '
        f'queryData="{_query_data(site, tag)}"></script>\n'
    )


def _head(site: JpaasSiteLike, title: str, extra: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="UTF-8">\n'
        f'<meta name="ColId" content="{site.config.column_id}">\n'
        '<meta id="pagetype" content="2">\n'
        f"<title>{escape(title, quote=False)}</title>\n"
        f'<meta name="SiteName" content="{escape(site.config.site_name)}">\n'
        + extra
        + '<link rel="stylesheet" href="/cms_files/jcms1/web3201/site/css/hanweb.css">\n'
        '<script src="/cms_files/default/script/jquery-1.12.4.min.js"></script>\n'
        "</head>\n"
    )


def _header(site: JpaasSiteLike) -> str:
    return (
        '<div class="header"><div class="logo"><a href="/">'
        '<img src="/cms_files/jcms1/web3201/site/images/logo.png" '
        f'alt="{escape(site.config.site_name)}">'
        '</a></div><ul class="nav"><li><a href="/">首页</a></li>'
        '<li><a href="/col/col1229251050/index.html">政务公开</a></li>'
        '<li><a href="/col/col1229251052/index.html">商务动态</a></li></ul></div>\n'
    )


def _footer(site: JpaasSiteLike) -> str:
    return (
        f'<div class="footer"><p>主办单位：{escape(site.config.site_name)}</p>'
        "<p>网站标识码：3300000041　"
        '<a href="https://beian.miit.gov.cn/">浙ICP备11036374号</a></p></div>\n'
    )


def column_page(site: JpaasSiteLike) -> str:
    """The column page: chrome and unitbuild scripts, no list."""
    config = site.config
    left, list_tag, right = unit_tags(site)
    return (
        _head(site, f"{config.column_name} {config.site_name}")
        + "<body>\n"
        + _header(site)
        + '<div class="main">\n<div class="left-menu">\n'
        + _unit_script(site, left)
        + "</div>\n"
        + f'<div class="right-list"><div class="list-title">{escape(config.column_name)}</div>\n'
        + _unit_script(site, list_tag)
        + "</div>\n"
        + '<div class="links">\n'
        + _unit_script(site, right)
        + "</div>\n</div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )


def side_unit(site: JpaasSiteLike, tag: str) -> str:
    """The HTML of a unit that is not the list."""
    if tag == _SIDE_UNITS[0]:
        return (
            f'<div id="{tag}"><ul class="menu"><li class="on"><a href="{site.column_path}">'
            f"{escape(site.config.column_name)}</a></li>"
            '<li><a href="/col/col1229251059/index.html">政策文件</a></li></ul></div>'
        )
    return (
        f'<div id="{tag}"><ul><li><a href="http://www.mofcom.gov.cn/">商务部</a></li>'
        '<li><a href="https://www.zj.gov.cn/">浙江省人民政府</a></li></ul></div>'
    )


def list_href(case: FamilyCase) -> str:
    """Old articles are linked protocol-relative, new ones site-relative."""
    if case.extra.get("shape") == "old":
        return "//" + case.url.split("://", 1)[1]
    return site_relative(case.url)


def _item(site: JpaasSiteLike, case: FamilyCase) -> str:
    shown = case.title
    if len(shown) > site.title_chars:
        shown = shown[: site.title_chars] + "..."
    return (
        f'<li class="clearfix"><a class="bt-left" title="{escape(case.title)}" '
        f'href="{escape(list_href(case))}" target="_blank">{escape(shown, quote=False)}</a>'
        f'<span class="bt-right">{case.published}</span></li>'
    )


def list_unit(
    site: JpaasSiteLike, shown: list[FamilyCase], page_no: int, page_size: int, total: int
) -> str:
    """The list unit's ``data.html``: items, then the pagination table with the total."""
    tag = site.list_tag
    items = "".join(_item(site, case) for case in shown)
    return (
        f'<ul><div id="{tag}"><div class="page-content">{items}</div></div></ul>'
        f'<table class="pagination default_pgToolbar" style="width:100%" '
        f'queryData="{_query_data(site, tag)}" rows="{page_size}" unitid="{tag}" '
        f'count="{total}" pageNo="{page_no}" '
        'unitUrl="/api-gateway/jpaas-publish-server/front/page/build/unit"><tr><td></td></tr></table>'
        '<script src="/cms_files/default/script/ajax/page/pageNew.js"></script>'
    )


def _xxgk_table(site: JpaasSiteLike, case: FamilyCase) -> str:
    rows = (
        ("索引号", case.extra["index"], "组配分类", "工作动态"),
        ("发布机构", site.config.site_name, "生成日期", case.published),
        ("文件编号", "", "统一编号", ""),
        ("有效性", "有效", "", ""),
    )
    cells = "".join(
        f'<tr><td class="name">{a}</td><td>{escape(b)}</td>'
        f'<td class="name">{c}</td><td>{escape(d)}</td></tr>'
        for a, b, c, d in rows
    )
    return f'<table class="xxgktab" width="100%"><tbody>{cells}</tbody></table>\n'


def article_page(site: JpaasSiteLike, case: FamilyCase) -> str:
    """An article: title, small-title bar, optional info table, ``div.main-txt#zoom`` body."""
    config = site.config
    rng = random.Random(f"jpaas-markup-{case.article_id}")
    stamp = f"{case.published} {case.extra['time']}"
    meta = (
        f'<meta name="ArticleTitle" content="{escape(case.title)}">\n'
        f'<meta name="PubDate" content="{stamp}">\n'
        f'<meta name="ContentSource" content="{escape(case.source or "")}">\n'
        f'<meta name="Url" content="{escape(case.url)}">\n'
    )
    links = {name: site_relative(url) for name, url in case.attachments}
    body = body_html(case.paragraphs, links, rng, heading="strong")
    table = _xxgk_table(site, case) if case.template == "jpaas-xxgk" else ""
    source = escape(case.source or "", quote=False)
    return (
        _head(site, f"{case.title} {config.site_name}", meta)
        + "<body>\n"
        + _header(site)
        + '<div class="main-box">\n'
        + f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="{site.column_path}">'
        + f"{escape(config.column_name)}</a></div>\n"
        + table
        + f'<p class="con-title">{escape(case.title, quote=False)}</p>\n'
        + f'<div class="small-title"><span>发布日期：{stamp}</span>'
        + f"<span>信息来源：{source}</span>"
        + '<span>浏览次数：<lable id="artcount"></lable></span></div>\n'
        + f'<div class="main-txt" id="zoom">\n{body}</div>\n'
        + '<div class="btns"><span class="printer" onclick="window.print()">打印</span>'
        + '<span class="close" onclick="window.close()">关闭</span></div>\n'
        + "</div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )
