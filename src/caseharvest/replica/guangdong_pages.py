"""HTML of the Guangdong NFCMS replica: ``.comlist3`` listings with ``a.next``, post pages."""

from __future__ import annotations

import random
from html import escape
from typing import Protocol

from caseharvest.replica.family import FamilyCase, body_html, site_relative


class NfcmsConfigLike(Protocol):
    """The fields of :class:`~caseharvest.replica.guangdong.NfcmsConfig` the pages read.

    Declared here so this module needs no import of :mod:`.guangdong`, which imports it (no
    import loops between files, not even type-only ones).
    """

    @property
    def site_name(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def column_name(self) -> str: ...
    @property
    def site_id(self) -> str: ...
    @property
    def cat_id(self) -> str: ...


class NfcmsSiteLike(Protocol):
    """What the pages use of :class:`~caseharvest.replica.guangdong.NfcmsSite`.

    A protocol instead of the class itself, so this module needs no import of :mod:`.guangdong`,
    which imports it (no import loops between files, not even type-only ones).
    """

    @property
    def config(self) -> NfcmsConfigLike: ...
    @property
    def per_page(self) -> int: ...
    @property
    def absolute_hrefs(self) -> bool: ...
    @property
    def column_path(self) -> str: ...
    def listed(self) -> list[FamilyCase]: ...
    def page_count(self) -> int: ...


def head(site_name: str, title: str, extra: str = "") -> str:
    """The gov-cloud page head."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title, quote=False)}</title>\n"
        f'<meta name="SiteName" content="{escape(site_name)}">\n'
        + extra
        + '<link rel="stylesheet" href="/css/common.css">\n'
        "</head>\n"
    )


def header(site_name: str) -> str:
    """Logo and navigation."""
    return (
        '<div class="header"><a class="logo" href="/"><img src="/images/logo.png" '
        f'alt="{escape(site_name)}"></a><ul class="nav"><li><a href="/">首页</a></li>'
        '<li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/zcqggfwpt/">政策全过程服务平台</a></li>'
        '<li><a href="/gkmlpt/index">政府信息公开</a></li></ul></div>\n'
    )


def footer(site_name: str) -> str:
    """Footer with the usual registration lines."""
    return (
        f'<div class="footer"><p>主办：{escape(site_name)}　版权所有：{escape(site_name)}</p>'
        "<p>网站标识码：4400000112　"
        '<a href="https://beian.miit.gov.cn/">粤ICP备05071310号</a>　'
        "粤公网安备 44010402000123号</p></div>\n"
    )


def statistics_script(site_id: str, cat_id: str, post_id: str) -> str:
    """The gov-cloud visit counter."""
    return (
        f'<script>var NFCMS_SITE_ID = "{site_id}", NFCMS_CAT_ID = "{cat_id}", '
        f'NFCMS_POST_ID = "{post_id}";</script>\n'
        '<script src="//statistics.gd.gov.cn/scripts/s.js?v=2"></script>\n'
    )


def _href(site: NfcmsSiteLike, case: FamilyCase) -> str:
    return case.url if site.absolute_hrefs else site_relative(case.url)


def _pager(site: NfcmsSiteLike, number: int) -> str:
    count = site.page_count()

    def page_file(n: int) -> str:
        return "index.html" if n == 1 else f"index_{n}.html"

    links = []
    if number > 1:
        links.append(f'<a class="prev" href="{page_file(number - 1)}">上一页</a>')
    for n in range(max(1, number - 2), min(count, number + 2) + 1):
        if n == number:
            links.append(f'<span class="current">{n}</span>')
        else:
            links.append(f'<a href="{page_file(n)}">{n}</a>')
    if number < count:
        links.append(f'<a class="next" href="{page_file(number + 1)}">下一页</a>')
    links.append(f'<a class="last" href="{page_file(count)}">尾页</a>')
    return f'<div class="page">{"".join(links)}</div>\n'


def listing_page(site: NfcmsSiteLike, number: int) -> str:
    """Listing page ``number`` (1-based)."""
    config = site.config
    shown = site.listed()[(number - 1) * site.per_page : number * site.per_page]
    items = "".join(
        f'<li><a href="{escape(_href(site, case))}" title="{escape(case.title)}" target="_blank">'
        f"{escape(case.title, quote=False)}</a><span>{case.published}</span></li>\n"
        for case in shown
    )
    return (
        head(config.site_name, f"{config.column_name}-{config.site_name}")
        + "<body>\n"
        + header(config.site_name)
        + '<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; '
        + f'<a href="/{config.section}/">政策全过程服务平台</a> &gt; '
        + f'<a href="{site.column_path}index.html">{escape(config.column_name)}</a></div>\n'
        + f'<div class="comlist3">\n<ul>\n{items}</ul>\n</div>\n'
        + _pager(site, number)
        + "</div>\n"
        + footer(config.site_name)
        + statistics_script(config.site_id, config.cat_id, "")
        + "</body>\n</html>\n"
    )


def post_page(site: NfcmsSiteLike, case: FamilyCase) -> str:
    """A post: title, info bar, ``div.article-content`` body, share and print chrome."""
    config = site.config
    rng = random.Random(f"nfcms-markup-{case.article_id}")
    links = {name: site_relative(url) for name, url in case.attachments}
    body = body_html(case.paragraphs, links, rng, heading="strong", paragraph="<p>")
    stamp = f"{case.published} {case.extra['time']}"
    meta = (
        f'<meta name="ArticleTitle" content="{escape(case.title)}">\n'
        f'<meta name="PubDate" content="{stamp}">\n'
        f'<meta name="ContentSource" content="{escape(case.source or "")}">\n'
    )
    return (
        head(config.site_name, f"{case.title}-{config.site_name}", meta)
        + "<body>\n"
        + header(config.site_name)
        + '<div class="main"><div class="position">当前位置：<a href="/">首页</a> &gt; '
        + f'<a href="{site.column_path}index.html">{escape(config.column_name)}</a></div>\n'
        + '<div class="article">\n'
        + f'<h3 class="title">{escape(case.title, quote=False)}</h3>\n'
        + f'<div class="info"><span class="time">发布时间：{stamp}</span>'
        + f'<span class="source">来源：{escape(case.source or "", quote=False)}</span>'
        + '<span class="fontsize">字号：<a>大</a> <a>中</a> <a>小</a></span></div>\n'
        + f'<div class="article-content">\n{body}</div>\n'
        + '<div class="share">分享到：<a class="wx">微信</a><a class="wb">微博</a></div>\n'
        + '<div class="print"><a href="javascript:window.print()">【打印】</a>'
        + '<a href="javascript:window.close()">【关闭】</a></div>\n'
        + "</div></div>\n"
        + footer(config.site_name)
        + statistics_script(config.site_id, config.cat_id, case.article_id)
        + "</body>\n</html>\n"
    )
