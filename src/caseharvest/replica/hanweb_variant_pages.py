"""HTML and XML of the Jiangsu/Jiangxi Hanweb replicas (see :mod:`.hanweb_variants`).

Modelled on the captured Jiangsu column and article pages (deyye/policy-collector
``samples/jiangsu/js_list.html``, ``js_detail.html``) and Jiangxi's single-quoted records.
"""

from __future__ import annotations

import hashlib
import random
from html import escape
from typing import Protocol
from urllib.parse import quote, urlsplit

from caseharvest.replica.family import FamilyCase, body_html, site_relative
from caseharvest.replica.pages import DATAPROXY_PATH, datastore


class HanwebVariantConfigLike(Protocol):
    """What the pages read of :class:`~caseharvest.replica.hanweb_variants.HanwebVariantConfig`.

    Declared here so this module needs no import of :mod:`.hanweb_variants`, which imports it
    (no import loops between files, not even type-only ones).
    """

    @property
    def host(self) -> str: ...
    @property
    def site_name(self) -> str: ...
    @property
    def column_id(self) -> str: ...
    @property
    def column_name(self) -> str: ...
    @property
    def webid(self) -> int: ...
    @property
    def group_size(self) -> int: ...
    @property
    def quote(self) -> str: ...


class HanwebVariantSiteLike(Protocol):
    """What the pages use of :class:`~caseharvest.replica.hanweb_variants.HanwebVariantSite`.

    A protocol instead of the class itself, so this module needs no import of
    :mod:`.hanweb_variants`, which imports it (no import loops between files, not even
    type-only ones).
    """

    @property
    def config(self) -> HanwebVariantConfigLike: ...
    @property
    def per_page(self) -> int: ...
    @property
    def unit_ids(self) -> tuple[int, ...]: ...


def _webname(site: HanwebVariantSiteLike) -> str:
    # jpage puts the site name into URLs percent-encoded twice.
    return quote(quote(site.config.site_name, safe=""), safe="")


def next_group_link(site: HanwebVariantSiteLike, unit: int, page: int) -> str:
    """The GET dataproxy link written into ``<nextgroup>``."""
    config = site.config
    return (
        f"{DATAPROXY_PATH}?page={page}&appid=1&appid=1&webid={config.webid}&path=/"
        f"&columnid={config.column_id}&unitid={unit}&webname={_webname(site)}&permissiontype=0"
    )


def record(site: HanwebVariantSiteLike, case: FamilyCase) -> str:
    """One listing record, in the site's quoting style."""
    href, title = escape(urlsplit(case.url).path), escape(case.title)
    text = escape(case.title, quote=False)
    if site.config.quote == "single":
        return (
            f"<li><a href='{href}' title='{title}' target='_blank'>{text}</a>"
            f"<span>{case.published}</span></li>"
        )
    return (
        f'<li class="clearfix bt-list-new"><a title=\'{title}\' target="_blank" href="{href}">'
        f'{text}</a><span class="bt-list-time">{case.published}</span></li>'
    )


def _head(site: HanwebVariantSiteLike, title: str, extra: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<meta name='WebId' content='{site.config.webid}'>\n"
        "<meta name='Maketime' content='2026-06-30 10:00:00'>\n"
        f"<title>{escape(title, quote=False)}</title>\n"
        f'<meta name="SiteName" content="{escape(site.config.site_name)}">\n'
        f'<meta name="SiteDomain" content="{site.config.host}">\n'
        + extra
        + '<link rel="stylesheet" href="/images/base.css">\n'
        '<script src="/module/jslib/jquery/jquery.js"></script>\n'
        '<script src="/module/web/jpage/jquery.jpage.js"></script>\n'
        "</head>\n"
    )


def _header(site: HanwebVariantSiteLike) -> str:
    return (
        '<div class="bt-head"><div class="bt-logo"><a href="/">'
        f'<img src="/images/logo.png" alt="{escape(site.config.site_name)}"></a></div>'
        '<ul class="bt-nav"><li><a href="/">首页</a></li><li><a href="/col/col78700/index.html">'
        '政务公开</a></li><li><a href="/col/col78701/index.html">商务动态</a></li></ul></div>\n'
    )


def _breadcrumb(site: HanwebVariantSiteLike) -> str:
    column = f"/col/col{site.config.column_id}/index.html"
    return (
        '<div class="bt-position">当前位置：<a href="/">首页</a> &gt; '
        f'<a href="{column}">{escape(site.config.column_name)}</a></div>\n'
    )


def _footer(site: HanwebVariantSiteLike) -> str:
    return (
        '<div class="bt-foot"><p>主办单位：'
        f"{escape(site.config.site_name)}</p><p>网站标识码：3200000012　"
        '<a href="https://beian.miit.gov.cn/">苏ICP备05003460号</a></p></div>\n'
    )


def _unit(site: HanwebVariantSiteLike, unit: int, records: list[FamilyCase], total: int) -> str:
    config = site.config
    markup = [record(site, case) for case in records]
    store = datastore(markup, next_link=next_group_link(site, unit, 1))
    return (
        f'<div id="{unit}"><script type="text/xml">{store}</script></div>\n'
        f"<script>var param_{unit} = {{col:1,appid:'1',webid:{config.webid},path:'/',"
        f"columnid:{config.column_id},sourceContentType:1,unitid:'{unit}',"
        f"webname:'{config.site_name}',permissiontype:0}};</script>\n"
        f"<script>$('#{unit}').jpage({{dataType:'xml',totalRecord:{total},"
        f"groupSize:{config.group_size},proxyUrl:'{DATAPROXY_PATH}',"
        f"perPage:{site.per_page},barPosition:'bottom',ajaxParam:param_{unit},"
        "showMode:'full'});</script>\n"
    )


def column_page(site: HanwebVariantSiteLike, first_group: list[FamilyCase], total: int) -> str:
    """The column page: the first group embedded in one jpage unit, or two (pc and mobile)."""
    config = site.config
    units = [
        f'<div class="bt-list {kind}">\n{_unit(site, unit, first_group, total)}</div>\n'
        for kind, unit in zip(("pc", "mobile"), site.unit_ids, strict=False)
    ]
    return (
        _head(site, f"{config.site_name} {config.column_name}")
        + "<body>\n"
        + _header(site)
        + _breadcrumb(site)
        + f'<div class="bt-main"><h3 class="bt-col-title">{escape(config.column_name)}</h3>\n'
        + "".join(units)
        + "</div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )


def uid_page(
    site: HanwebVariantSiteLike,
    shown: list[FamilyCase],
    number: int,
    pages: int,
    total: int,
    uid: str,
) -> str:
    """``?uid=&pageNum=N``: page N rendered by the server as a plain list with a pager."""
    config = site.config
    items = "\n".join(record(site, case) for case in shown)
    links = []
    if number > 1:
        links.append(f'<a href="?uid={uid}&pageNum={number - 1}">上一页</a>')
    if number < pages:
        links.append(f'<a class="next" href="?uid={uid}&pageNum={number + 1}">下一页</a>')
    pager = (
        f'<div class="default_pgContainer">共{total}条 第{number}/{pages}页 {" ".join(links)}</div>'
    )
    return (
        _head(site, f"{config.site_name} {config.column_name}")
        + "<body>\n"
        + _header(site)
        + _breadcrumb(site)
        + f'<div class="bt-main"><div id="{uid}"><ul class="bt-list">\n{items}\n</ul>\n'
        + pager
        + "</div></div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )


def _guid(case: FamilyCase) -> str:
    return hashlib.md5(case.url.encode(), usedforsecurity=False).hexdigest()


def _meta_tags(site: HanwebVariantSiteLike, case: FamilyCase) -> str:
    return (
        f'<meta name="ArticleTitle" content="{escape(case.title)}">\n'
        f'<meta name="PubDate" content="{case.published} {case.extra["time"]}">\n'
        f'<meta name="ContentSource" content="{escape(case.source or "")}">\n'
        f'<meta name="ColumnName" content="{escape(site.config.column_name)}">\n'
        f'<meta name="guid" content="{_guid(case)}">\n'
    )


def _links(case: FamilyCase) -> dict[str, str]:
    return {name: site_relative(url) for name, url in case.attachments}


def _print_bar() -> str:
    return (
        '<div class="bt-print"><a href="javascript:window.print()">【打印本页】</a>'
        '<a href="javascript:window.close()">【关闭窗口】</a></div>\n'
    )


def article_page(site: HanwebVariantSiteLike, case: FamilyCase) -> str:
    """The article page in the case's template."""
    config = site.config
    rng = random.Random(f"hanweb-markup-{case.article_id}")
    title = escape(case.title, quote=False)
    source = escape(case.source or "", quote=False)
    body = body_html(case.paragraphs, _links(case), rng, heading="strong")
    stamp = f"{case.published} {case.extra['time']}"
    if case.template == "jiangsu-main-txt":
        content = (
            '<div class="main-title">' + title + "</div>\n"
            f'<div class="main-info"><span>发布时间：{stamp}</span>'
            f"<span>信息来源：{source}</span>"
            '<span>浏览次数：<i id="visitcount"></i></span></div>\n'
            f'<div class="main-txt" id="zoom">\n{body}</div>\n'
        )
    elif case.template.startswith("jiangxi"):
        year, month, day = case.published.split("-")
        content = (
            f'<h1 class="jgzn_title">{title}</h1>\n'
            f'<div class="jgzn_info">发布时间：{year}年{month}月{day}日　'
            f"来源：{source}　"
            '字体：[<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> '
            '<a href="javascript:doZoom(14)">小</a>]</div>\n'
            f'<div class="jgzn_content" id="zoom">\n{body}</div>\n'
        )
    else:
        content = (
            f'<p class="bt-art-title">{title}</p>\n'
            f'<div class="bt-art-info"><span class="bt-date">发布日期：{stamp}</span>'
            f'<span class="bt-source">来源：{source}</span>'
            '<span class="bt-view">浏览次数：<i id="visitcount"></i></span>'
            '<span class="bt-font">字体：【<a href="javascript:doZoom(18)">大</a>'
            '<a href="javascript:doZoom(16)">中</a><a href="javascript:doZoom(14)">小</a>】</span>'
            "</div>\n"
            '<div class="bt-content zoom">\n'
            '<!--ZJEG_RSS.content.begin--><meta name="ContentStart"><div class="TRS_Editor">\n'
            f'{body}</div><meta name="ContentEnd"><!--ZJEG_RSS.content.end-->\n</div>\n'
        )
    return (
        _head(site, f"{case.title} {config.column_name} {config.site_name}", _meta_tags(site, case))
        + "<body>\n"
        + _header(site)
        + _breadcrumb(site)
        + '<div class="bt-article">\n'
        + content
        + _print_bar()
        + "</div>\n"
        + '<div class="bt-share">分享到：<a class="weixin">微信</a>'
        + '<a class="weibo">微博</a></div>\n'
        + _footer(site)
        + "</body>\n</html>\n"
    )


def jiasule_first(seed: int) -> str:
    """加速乐's first 521 body: a script that sets ``__jsl_clearance_s`` and reloads."""
    token = hashlib.sha256(f"{seed}-jsl".encode()).hexdigest()
    pieces = "+".join(f"('{char}')" for char in f"__jsl_clearance_s={token[:16]}")
    return (
        f"<script>document.cookie={pieces}+';max-age=3600;path=/';"
        "location.href=location.pathname+location.search</script>"
    )


def jiasule_second(seed: int) -> str:
    """加速乐's second 521 body: the ``go({…})`` proof-of-work parameters."""
    token = hashlib.sha256(f"{seed}-jsl-go".encode()).hexdigest()
    return (
        '<script>var _0x=function(){};;go({"bts":["1719%2F","%3D"],"chars":"abcdefXYZ",'
        f'"ct":"{token[:40]}","ha":"sha1","is":true,"tn":"__jsl_clearance_s",'
        '"vt":"3600","wt":"1500"})</script>'
    )
