"""HTML of the TRS WCM replica: listing pages with their pager script, articles, stubs.

Markup follows what public TRS pages show: ``createPageHTML`` or ``countPage`` pagers, relative
item hrefs, ``CurrChnlCls`` breadcrumbs, the national meta tags plus TRS's own (``contentid`` …),
``div.TRS_Editor`` > ``div.Custom_UnionStyle`` bodies and their newer editor classes.
"""

from __future__ import annotations

import random
from html import escape
from typing import Protocol

from caseharvest.replica.family import FamilyCase, body_html


class TrsConfigLike(Protocol):
    """The fields of :class:`~caseharvest.replica.trs.TrsConfig` the pages read.

    Declared here so this module needs no import of :mod:`.trs`, which imports it (no import
    loops between files, not even type-only ones).
    """

    @property
    def host(self) -> str: ...
    @property
    def site_name(self) -> str: ...
    @property
    def column_path(self) -> str: ...
    @property
    def column_name(self) -> str: ...
    @property
    def breadcrumb(self) -> tuple[str, ...]: ...
    @property
    def encoding(self) -> str: ...


class TrsShapeLike(Protocol):
    """The fields of :class:`~caseharvest.replica.trs.TrsShape` the pages read.

    Declared here for the same reason as :class:`TrsConfigLike`.
    """

    @property
    def per_page(self) -> int: ...
    @property
    def ext(self) -> str: ...
    @property
    def page_name(self) -> str: ...
    @property
    def pager(self) -> str: ...
    @property
    def list_style(self) -> str: ...
    @property
    def date_style(self) -> str: ...


class TrsSiteLike(Protocol):
    """What the pages use of :class:`~caseharvest.replica.trs.TrsSite`.

    A protocol instead of the class itself, so this module needs no import of :mod:`.trs`,
    which imports it (no import loops between files, not even type-only ones).
    """

    @property
    def config(self) -> TrsConfigLike: ...
    @property
    def shape(self) -> TrsShapeLike: ...
    def listed(self) -> list[FamilyCase]: ...
    def page_count(self) -> int: ...
    def page_file(self, index: int) -> str: ...


TITLE_SHOWN_CHARS = 28
_TRS_STYLE = (
    '<style type="text/css">\n.TRS_Editor P{margin-top:0;margin-bottom:12px;line-height:1.8;'
    "font-family:宋体;font-size:12pt;}.TRS_Editor DIV,.TRS_Editor TD,.TRS_Editor TH,"
    ".TRS_Editor SPAN,.TRS_Editor FONT,.TRS_Editor UL,.TRS_Editor LI,.TRS_Editor A{margin-top:0;"
    "margin-bottom:12px;line-height:1.8;font-family:宋体;font-size:12pt;}\n</style>\n"
)
# The pager function as TRS ships it (shortened): page 0 is NAME.EXT, page i is NAME_i.EXT.
_CREATE_PAGE_JS = (
    '<script type="text/javascript">\n/* @author omi <yu.qian@trs.com.cn> */\n'
    "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){\n"
    "  if(_nPageCount == null || _nPageCount<=1){ return; }\n"
    '  var html = "";\n'
    "  for(var i=0;i<_nPageCount;i++){\n"
    '    var sPageName = (i == 0 ? _sPageName : (_sPageName+"_" + i));\n'
    "    if(i==_nCurrIndex){ html += '<span class=\"current\">'+(i+1)+'</span>'; }\n"
    "    else { html += '<a href=\"'+sPageName+'.'+_sPageExt+'\">'+(i+1)+'</a>'; }\n"
    "  }\n  document.write(html);\n}\n</script>\n"
)


def _date(style: str, iso: str) -> str:
    year, month, day = iso.split("-")
    if style == "slash":
        return f"{year}/{month}/{day}"
    if style == "bracket":
        return f"[{iso}]"
    if style == "cn":
        return f"{year}年{month}月{day}日"
    return iso


def _charset_meta(site: TrsSiteLike) -> str:
    if site.config.encoding == "gbk":
        return '<meta http-equiv="Content-Type" content="text/html; charset=gbk" />\n'
    return '<meta charset="utf-8">\n'


def _head(site: TrsSiteLike, title: str, extra: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        + _charset_meta(site)
        + '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        + f"<title>{escape(title, quote=False)}</title>\n"
        + f'<meta name="SiteName" content="{escape(site.config.site_name)}">\n'
        + f'<meta name="SiteDomain" content="{site.config.host}">\n'
        + extra
        + '<link rel="stylesheet" href="/images/common.css">\n'
        + '<script src="/images/jquery.min.js"></script>\n'
        + "</head>\n"
    )


def _header(site: TrsSiteLike) -> str:
    name = escape(site.config.site_name)
    return (
        '<div class="header"><div class="w1200">'
        f'<a class="logo" href="/"><img src="/images/logo.png" alt="{name}"></a>'
        '<div class="search"><form action="/was5/web/search" method="get">'
        '<input type="text" name="searchword" placeholder="请输入关键词"><button>搜索</button>'
        "</form></div></div></div>\n"
        '<div class="nav"><ul class="w1200"><li><a href="/">首页</a></li>'
        '<li><a href="/xxgk/">信息公开</a></li><li><a href="/zwfw/">政务服务</a></li>'
        '<li><a href="/hdjl/">互动交流</a></li></ul></div>\n'
    )


def _breadcrumb(site: TrsSiteLike, column_path: str) -> str:
    config = site.config
    parts = [part for part in column_path.split("/") if part]
    names = [*config.breadcrumb, config.column_name]
    links = ['<a href="/" title="首页" class="CurrChnlCls">首页</a>']
    for depth, name in enumerate(names[: len(parts)], 1):
        href = "/" + "/".join(parts[:depth]) + "/"
        links.append(f'<a href="{href}" title="{name}" class="CurrChnlCls">{name}</a>')
    return f'<div class="position">您当前的位置：{"&nbsp;&gt;&nbsp;".join(links)}</div>\n'


def _footer(site: TrsSiteLike) -> str:
    return (
        '<div class="footer"><div class="w1200">\n'
        '<p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a></p>\n'
        f"<p>主办单位：{escape(site.config.site_name)}　　"
        f"版权所有：{escape(site.config.site_name)}</p>\n"
        "<p>网站标识码：3500000049　　"
        '<a href="https://beian.miit.gov.cn/">闽ICP备05017390号</a></p>\n'
        "</div></div>\n"
    )


def item_href(site: TrsSiteLike, case: FamilyCase) -> str:
    """The relative href a listing page in the column directory writes for a case."""
    column = site.config.column_path
    if case.path.startswith(column):
        return "./" + case.path[len(column) :]
    parent = column.rstrip("/").rsplit("/", 1)[0] + "/"
    return "../" + case.path[len(parent) :]


def _item(site: TrsSiteLike, case: FamilyCase) -> str:
    style = site.shape.list_style
    href, title = escape(item_href(site, case)), escape(case.title)
    date = _date(site.shape.date_style, case.published)
    pin = '<i class="zd">置顶</i>' if case.pinned else ""
    if style == "gl-ul":
        shown = case.title
        if len(shown) > TITLE_SHOWN_CHARS:
            shown = shown[: TITLE_SHOWN_CHARS - 1] + "…"
        return (
            f'<li>{pin}<a href="{href}" target="_blank" title="{title}">'
            f'<span class="fr li-btn">{date}</span>{escape(shown, quote=False)}</a></li>\n'
        )
    anchor = f'<a href="{href}" target="_blank" title="{title}">{title}</a>'
    if style == "zfxxgk":
        return f"<li>{pin}{anchor}<b>{date}</b></li>\n"
    return f"<li>{pin}{anchor}<span>{date}</span></li>\n"


def _list(site: TrsSiteLike, items: str) -> str:
    style = site.shape.list_style
    if style == "gl-ul":
        return f'<ul class="gl-ul clearflx">\n{items}</ul>\n'
    if style == "zfxxgk":
        return f'<div class="zfxxgk_zdgkc"><ul>\n{items}</ul></div>\n'
    return f'<ul class="u-list">\n{items}</ul>\n'


def _pager(site: TrsSiteLike, count: int, index: int) -> str:
    name, ext = site.shape.page_name, site.shape.ext
    if site.shape.pager == "countPage":
        script = (
            f"var countPage = {count}//共多少页\n"
            f"var currentPage = {index};//所在页从0开始\n"
            "var prevPage = currentPage-1//上一页\n"
            "var nextPage = currentPage+1//下一页\n"
            f'var pageName = "{name}";//默认首页的名称\n'
            f'var pageExt = "{ext}";//默认页面的后缀\n'
            f'//var tailPage = "{name}_" + (countPage-1) + ".{ext}";\n'
            "if (countPage > 1 && currentPage != countPage-1) {\n"
            '  document.write("<a href=\\""+pageName+"_"+nextPage+"."+pageExt+"\\">下一页</a>");\n'
            "}\n"
        )
    else:
        script = f'createPageHTML({count}, {index}, "{name}", "{ext}");\n'
    return f'<div class="page"><script type="text/javascript">\n{script}</script></div>\n'


def listing_page(site: TrsSiteLike, index: int) -> str:
    """Listing page ``index`` (0-based) of the column."""
    config = site.config
    per_page = site.shape.per_page
    shown = site.listed()[index * per_page : (index + 1) * per_page]
    items = "".join(_item(site, case) for case in shown)
    extra = f'<meta name="ColumnName" content="{escape(config.column_name)}">\n'
    head = _head(site, f"{config.column_name}_{config.site_name}", extra)
    if site.shape.pager == "createPageHTML":
        head = head.replace("</head>", _CREATE_PAGE_JS + "</head>")
    return (
        head
        + "<body>\n"
        + _header(site)
        + '<div class="main w1200">\n'
        + _breadcrumb(site, config.column_path)
        + f'<div class="list-title"><h3>{escape(config.column_name)}</h3></div>\n'
        + '<div class="list-con">\n'
        + _list(site, items)
        + _pager(site, site.page_count(), index)
        + "</div>\n</div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )


def stub_page(site: TrsSiteLike) -> str:
    """What central TRS sites serve for deep ``index_N`` pages: a 300–400 B shell without items."""
    charset = "gbk" if site.config.encoding == "gbk" else "utf-8"
    page = (
        "<html>\n<head>\n"
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />\n'
        "<title></title>\n</head>\n<body>\n<!-- TRS WCM 6.x -->\n"
        f'<script type="text/javascript">location.href="./{site.page_file(0)}";</script>\n'
        "</body>\n</html>\n"
    )
    return page + "<!--" + "-" * max(0, 330 - len(page.encode())) + "-->\n"


def _meta_tags(site: TrsSiteLike, case: FamilyCase) -> str:
    stamp = f"{case.published} {case.extra['time']}"
    description = escape(case.paragraphs[0][:80]) if case.paragraphs else ""
    tags = {
        "ColumnName": site.config.column_name,
        "ArticleTitle": case.title,
        "PubDate": stamp,
        "ContentSource": case.source or "",
        "Keywords": "开发区,典型案例",
        "Description": description,
        "Url": case.url,
        "filetype": "0",
        "publishedtype": "1",
        "pagetype": "1",
        "catalogs": "91253" if case.extra["column"] == site.config.column_path else "91254",
        "contentid": case.article_id,
        "publishdate": case.published,
        "author": "开发区处",
        "source": case.source or "",
    }
    return "".join(f'<meta name="{name}" content="{escape(v)}">\n' for name, v in tags.items())


def _editor(case: FamilyCase, rng: random.Random) -> str:
    links = {}
    if case.inline_attachments:
        links = {name: "./" + url.rsplit("/", 1)[1] for name, url in case.attachments}
    body = body_html(case.paragraphs, links, rng, heading="strong")
    if case.template == "trs-view":
        return f'<div class="trs_editor_view">\n{body}</div>\n'
    if case.template == "trs-ueditor":
        return f'<div class="TRS_UEDITOR trs_paper_default trs_web">\n{body}</div>\n'
    return (
        f'<div class="TRS_Editor">{_TRS_STYLE}<div class="Custom_UnionStyle">\n{body}</div></div>\n'
    )


def _attachment_list(case: FamilyCase) -> str:
    if case.inline_attachments or not case.attachments:
        return ""
    items = "".join(
        f'<li><a href="./{url.rsplit("/", 1)[1]}" target="_blank">{escape(name)}</a></li>'
        for name, url in case.attachments
    )
    return f'<div class="xgfj"><h4>相关附件：</h4><ul>{items}</ul></div>\n'


def _info_bar(case: FamilyCase) -> str:
    year, month, day = case.published.split("-")
    if int(case.article_id) % 3 == 0:
        date = f"<span>发布日期：{year}年{month}月{day}日</span>"
    else:
        date = f"<span>发布时间：{case.published} {case.extra['time']}</span>"
    source = f"<span>来源：{escape(case.source or '', quote=False)}</span>"
    return (
        f'<div class="xl_info">{date}{source}'
        '<span>字号：[<a href="javascript:doZoom(18)">大</a>]'
        '[<a href="javascript:doZoom(16)">中</a>][<a href="javascript:doZoom(14)">小</a>]</span>'
        '<span><a href="javascript:window.print()">[打印]</a></span></div>\n'
    )


def article_page(site: TrsSiteLike, case: FamilyCase) -> str:
    """An article page in its template, with the chrome a TRS site puts around the body."""
    config = site.config
    rng = random.Random(f"trs-markup-{case.article_id}")
    title = escape(case.title, quote=False)
    head = _head(
        site, f"{case.title}_{config.column_name}_{config.site_name}", _meta_tags(site, case)
    )
    return (
        head
        + "<body>\n"
        + _header(site)
        + '<div class="main w1200">\n'
        + _breadcrumb(site, case.extra["column"])
        + '<div class="xl_con">\n'
        + f'<h2 class="xl_tit">{title}</h2>\n'
        + _info_bar(case)
        + '<div class="xl_text" id="Zoom">\n'
        + _editor(case, rng)
        + "</div>\n"
        + _attachment_list(case)
        + '<div class="share">分享到：<a class="bshare-weixin">微信</a>'
        + '<a class="bshare-sinaminiblog">微博</a></div>\n'
        + '<div class="ewm"><img src="/images/ewm.png" alt="">扫一扫在手机打开当前页</div>\n'
        + '<div class="xl_btn"><a href="javascript:window.print()">[打印本页]</a>'
        + '<a href="javascript:window.close()">[关闭窗口]</a></div>\n'
        + "</div>\n"
        + '<div class="xglj"><h4>相关链接</h4><ul><li><a href="http://www.mofcom.gov.cn/">商务部</a></li>'
        + '<li><a href="http://www.fujian.gov.cn/">福建省人民政府</a></li></ul></div>\n'
        + "</div>\n"
        + _footer(site)
        + "</body>\n</html>\n"
    )


def waf_page() -> str:
    """What the WAF answers while it blocks a client."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>访问受限</title></head>\n'
        "<body><h2>您的访问过于频繁，请稍后再试。</h2><p>事件ID：waf-429</p></body></html>\n"
    )
