"""HTML and XML the replica serves, written the way Hanweb JCMS pages are laid out.

Every function returns text; the server encodes it. Markup varies per case (indents,
``&nbsp;``, spacer paragraphs) from an RNG seeded by the article id, so pages are stable.
"""

from __future__ import annotations

import hashlib
import random
import re
from html import escape
from urllib.parse import quote

from caseharvest.replica.cases import (
    COLUMN_ID,
    COLUMN_NAME,
    OTHER_COLUMN_ID,
    OTHER_COLUMN_NAME,
    SITE_ROOT,
    ReplicaCase,
    ReplicaConfig,
)

SITE_NAME = "山东省商务厅"
DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"
CSRF_STUB = "dataStore=['csrf'];"
TITLE_SHOWN_CHARS = 24  # the listing truncates longer titles; the title attribute is full

DISCLAIMER_LINES = (
    "山东商务网版权与免责声明：",
    "1、凡本站及其子站注明“文章类型：原创”的所有作品，其版权属于山东国际商务网及其子站所有。"
    "其他媒体、网站或个人转载使用时必须注明：“文章来源：山东国际商务网”。",
    "2、凡本站及其子站注明“文章类型：转载”、“文章类型：编译”、“文章类型：摘编”的所有作品，"
    "均转载、编译或摘编自其它媒体，转载、编译或摘编的目的在于传递更多信息，"
    "并不代表本站及其子站赞同其观点和对其真实性负责。"
    "其他媒体、网站或个人转载使用时必须保留本站注明的文章来源，并自负法律责任。",
)
_BREADCRUMB = (
    ("首页", "/"),
    ("政务公开", "/col/col15251/index.html"),
    ("内设机构", "/col/col15260/index.html"),
    ("职能处室", "/col/col15261/index.html"),
    ("开发区管理处", "/col/col21480/index.html"),
)
_NAV = (
    ("首页", "/"),
    ("机构概况", "/col/col15250/index.html"),
    ("政务公开", "/col/col15251/index.html"),
    ("政务服务", "/col/col15252/index.html"),
    ("互动交流", "/col/col15253/index.html"),
    ("商务数据", "/col/col15254/index.html"),
    ("专题专栏", "/col/col15255/index.html"),
)
_FIXED_LINKS = (
    ("中华人民共和国商务部", "http://www.mofcom.gov.cn/"),
    ("山东省人民政府", "http://www.shandong.gov.cn/"),
    ("中国开发区网", "http://www.cadz.org.cn/"),
)
# change_chrome() walks through these: one sidebar link differs, nothing in any body does.
_ROTATING_LINKS = (
    ("山东省发展和改革委员会", "http://fgw.shandong.gov.cn/"),
    ("山东省工业和信息化厅", "http://gxt.shandong.gov.cn/"),
    ("山东省科学技术厅", "http://kjt.shandong.gov.cn/"),
    ("山东省自然资源厅", "http://dnr.shandong.gov.cn/"),
)
_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING_MAX_CHARS = 30
_INDENTS = ("　　", "　　", "&nbsp;&nbsp;&nbsp;&nbsp;", "")
_TRAILERS = ("", "", "", "&nbsp;")


def webname_param() -> str:
    """The site name as jpage puts it in URLs: percent-encoded twice."""
    return quote(quote(SITE_NAME, safe=""), safe="")


def next_group_link(config: ReplicaConfig, page: int) -> str:
    """The GET dataproxy link Hanweb writes into ``<nextgroup>``."""
    return (
        f"{DATAPROXY_PATH}?page={page}&appid=1&appid=1&webid={config.webid}"
        f"&columnid={COLUMN_ID}&unitid={config.unitid}&webname={webname_param()}"
        f"&permissiontype=0"
    )


def record(case: ReplicaCase) -> str:
    """One listing record."""
    # Hanweb mixes absolute and site-relative hrefs; the choice is stable per article.
    href = case.url if int(case.article_id) % 3 == 0 else case.path
    shown = case.title
    if len(shown) > TITLE_SHOWN_CHARS:
        shown = shown[: TITLE_SHOWN_CHARS - 1] + "…"
    return (
        f'<li><a href="{escape(href)}" title="{escape(case.title)}" target="_blank">'
        f"{escape(shown, quote=False)}</a><span>{case.published}</span></li>"
    )


def datastore(
    records: list[str],
    *,
    next_link: str,
    total_records: int | None = None,
    total_pages: int | None = None,
) -> str:
    """A jpage ``<datastore>`` of record markup; dataproxy answers also carry the totals."""
    parts = [f'<datastore>\n<nextgroup><![CDATA[<a href="{next_link}"></a>]]></nextgroup>\n']
    parts.append("<recordset>\n")
    parts.extend(f"<record><![CDATA[\n{markup}\n]]></record>\n" for markup in records)
    parts.append("</recordset>\n")
    if total_records is not None:
        parts.append(f"<totalrecord>{total_records}</totalrecord>\n")
    if total_pages is not None:
        parts.append(f"<totalpage>{total_pages}</totalpage>\n")
    parts.append("</datastore>")
    return "".join(parts)


def _head(title: str, charset: str, extra: str = "") -> str:
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}" />\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge" />\n'
        f"<title>{escape(title, quote=False)}</title>\n"
        f'<meta name="SiteName" content="{SITE_NAME}" />\n'
        '<meta name="SiteDomain" content="commerce.shandong.gov.cn" />\n'
        '<meta name="SiteIDCode" content="3700000061" />\n'
        f"{extra}"
        '<link rel="stylesheet" type="text/css" href="/images/style.css" />\n'
        '<script type="text/javascript" src="/module/web/jpage/jquery.min.js"></script>\n'
        "</head>\n"
    )


def _header() -> str:
    nav = "".join(f'<li><a href="{href}">{name}</a></li>' for name, href in _NAV)
    return (
        '<div class="header">\n<div class="logo"><a href="/">'
        f'<img src="/images/logo.png" alt="{SITE_NAME}" /></a></div>\n'
        '<div class="search"><form action="/module/search/index.jsp" method="get" target="_blank">'
        '<input type="text" name="searchWord" value="" /><input type="submit" value="搜索" />'
        "</form></div>\n"
        f'<div class="nav"><ul>{nav}</ul></div>\n</div>\n'
    )


def _breadcrumb(column_id: str, column_name: str) -> str:
    links = [f'<a href="{href}">{name}</a>' for name, href in _BREADCRUMB]
    current = f'<a href="/col/col{column_id}/index.html">{column_name}</a>'
    # The real bar reads "首页 >政务公开>…": one space after 首页 and none elsewhere.
    return f'<div class="dqwz">{links[0]} &gt;{"&gt;".join([*links[1:], current])}</div>\n'


def _sidebar(chrome_version: int) -> str:
    rotating = _ROTATING_LINKS[chrome_version % len(_ROTATING_LINKS)]
    links = [*_FIXED_LINKS, rotating]
    items = "".join(f'<li><a href="{href}" target="_blank">{name}</a></li>' for name, href in links)
    return f'<div class="sidebar">\n<h3>相关链接</h3>\n<ul>{items}</ul>\n</div>\n'


def _footer() -> str:
    return (
        '<div class="footer">\n'
        '<p><a href="/col/col15292/index.html">网站地图</a> | '
        '<a href="/col/col15293/index.html">联系我们</a> | '
        '<a href="/col/col15294/index.html">隐私声明</a></p>\n'
        "<p>主办单位：山东省商务厅　　地址：山东省济南市历下区省府前街1号</p>\n"
        "<p>网站标识码：3700000061　　"
        '<a href="https://beian.miit.gov.cn/" target="_blank">鲁ICP备05002338号-1</a></p>\n'
        "</div>\n"
    )


def _disclaimer() -> str:
    lines = "".join(f"<p>{line}</p>" for line in DISCLAIMER_LINES)
    return f'<div class="mzsm">{lines}</div>\n'


def _print_bar() -> str:
    return (
        '<div class="bt-article-04"><a href="javascript:window.print()">【打印本页】</a>'
        '<a href="javascript:window.opener=null;window.close()">【关闭窗口】</a></div>\n'
    )


def _is_heading(line: str) -> bool:
    return bool(_HEADING.match(line)) and len(line) <= _HEADING_MAX_CHARS


def _table(rows: list[str]) -> str:
    body = []
    for number, row in enumerate(rows):
        cells = row.split("\t")
        if number == 0:
            html_cells = "".join(f'<td align="center"><b>{escape(c)}</b></td>' for c in cells)
        else:
            html_cells = "".join(f"<td>{escape(c)}</td>" for c in cells)
        body.append(f"<tr>{html_cells}</tr>")
    return (
        '<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="4" '
        f'style="border-collapse:collapse;width:100%"><tbody>{"".join(body)}</tbody></table>\n'
    )


def _body(case: ReplicaCase, heading_style: str) -> str:
    """Body markup for paragraph templates; ``heading_style`` is "strong", "plain" or "bold"."""
    rng = random.Random(f"markup-{case.article_id}")
    links = dict(case.attachments)
    out: list[str] = []
    table: list[str] = []
    for line in case.paragraphs:
        if "\t" in line:
            table.append(line)
            continue
        if table:
            out.append(_table(table))
            table = []
        text = escape(line, quote=False)
        if line in links:
            href = escape(links[line][len(SITE_ROOT) :])
            out.append(
                f'<p style="text-indent:2em;"><a href="{href}" target="_blank">{text}</a></p>\n'
            )
        elif _is_heading(line):
            if heading_style == "strong":
                out.append(f'<p style="text-indent:2em;"><strong>{text}</strong></p>\n')
            elif heading_style == "bold":
                out.append(f'<p style="line-height:200%"><b>　　{text}</b></p>\n')
            else:
                out.append(f'<p style="text-indent:2em;">{text}</p>\n')
            if rng.random() < 0.2:
                out.append("<p>&nbsp;</p>\n")
        else:
            indent, trailer = rng.choice(_INDENTS), rng.choice(_TRAILERS)
            out.append(f'<p style="text-indent:2em;">{indent}{text}{trailer}</p>\n')
    if table:
        out.append(_table(table))
    return "".join(out)


def _br_body(case: ReplicaCase) -> str:
    rng = random.Random(f"markup-{case.article_id}")
    links = dict(case.attachments)
    lines = []
    for line in case.paragraphs:
        text = escape(line, quote=False)
        if line in links:
            href = escape(links[line][len(SITE_ROOT) :])
            lines.append(f'<a href="{href}" target="_blank">{text}</a>')
        else:
            lines.append(f"{rng.choice(_INDENTS)}{text}")
    joined = "<br />\n".join(lines)
    return f'<p style="line-height:2em;">{joined}</p>\n'


def _meta_tags(case: ReplicaCase) -> str:
    # Hanweb writes the publication time to the minute; the minute is stable per article.
    digest = int(hashlib.sha1(case.article_id.encode()).hexdigest()[:6], 16)
    stamp = f"{case.published} {8 + digest % 10:02d}:{digest % 60:02d}"
    return (
        f'<meta name="ArticleTitle" content="{escape(case.title)}" />\n'
        f'<meta name="PubDate" content="{stamp}" />\n'
        f'<meta name="ContentSource" content="{escape(case.source)}" />\n'
    )


def _column_name(case: ReplicaCase) -> str:
    return OTHER_COLUMN_NAME if case.column_id == OTHER_COLUMN_ID else COLUMN_NAME


def _modern_page(case: ReplicaCase, chrome_version: int) -> str:
    column = _column_name(case)
    extra = f'<meta name="ColumnName" content="{column}" />\n'
    if case.template != "modern-plain":
        extra += _meta_tags(case)
    if case.template == "modern-plain":
        year, month, day = case.published.split("-")
        date = f"\r\n        {year}-\r\n        {month}-\r\n        {day}"
    else:
        date = case.published
    if case.template == "modern-br":
        body = _br_body(case)
    else:
        body = _body(case, "plain" if case.template == "modern-plain" else "strong")
    source = escape(case.source, quote=False)
    return (
        _head(f"{SITE_NAME} {column} {case.title}", "utf-8", extra)
        + "<body>\n"
        + _header()
        + '<div class="container">\n'
        + _breadcrumb(case.column_id, column)
        + '<div class="article">\n'
        + f'<div class="bt-article-01"><h1>{escape(case.title, quote=False)}</h1></div>\n'
        + '<div class="bt-article-02">'
        + f"<span>发布日期：{date}</span>"
        + f"<span>信息来源：{source}</span>"
        + f'<span class="ly-mobile">信息来源：{source}</span>'
        + '<span>浏览次数：<b id="visitcount"></b>次</span>'
        + '<span>字体：【<a href="javascript:doZoom(18)">大</a>'
        + '<a href="javascript:doZoom(16)">中</a><a href="javascript:doZoom(14)">小</a>】</span>'
        + "</div>\n"
        + '<div class="bt-article-03" id="zoom">\n'
        + '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">\n'
        + body
        + '<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->\n'
        + "</div>\n"
        + _print_bar()
        + _disclaimer()
        + "</div>\n"
        + _sidebar(chrome_version)
        + "</div>\n"
        + _footer()
        + "</body>\n</html>\n"
    )


def _legacy_page(case: ReplicaCase, chrome_version: int) -> str:
    column = _column_name(case)
    charset = "gb2312" if case.encoding == "gb18030" else "utf-8"
    year, month, day = case.published.split("-")
    source = escape(case.source, quote=False)
    return (
        _head(f"{SITE_NAME} {column} {case.title}", charset)
        + "<body>\n"
        + _header()
        + '<table width="1000" border="0" align="center" cellpadding="0" cellspacing="0">'
        + "<tr><td>\n"
        + '<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr><td height="36">\n'
        + _breadcrumb(case.column_id, column)
        + "</td></tr></table>\n"
        + '<table width="100%" border="0" cellspacing="0" cellpadding="0" class="bg-white">\n'
        + '<tr><td align="center" class="title" height="60" '
        + f'style="font-size:22px;font-weight:bold">{escape(case.title, quote=False)}</td></tr>\n'
        + '<tr><td align="center" class="bt-article-02" height="30">'
        + f"发布日期：{year}年{month}月{day}日&nbsp;&nbsp;信息来源：{source}&nbsp;&nbsp;"
        + f'<span class="ly-mobile">信息来源：{source}</span>&nbsp;&nbsp;'
        + '浏览次数：<span id="visitcount"></span>次&nbsp;&nbsp;'
        + '字体：【<a href="javascript:doZoom(18)">大</a><a href="javascript:doZoom(16)">中</a>'
        + '<a href="javascript:doZoom(14)">小</a>】</td></tr>\n'
        + "<tr><td>\n"
        + '<table width="96%" border="0" align="center" cellpadding="0" cellspacing="0"><tr>\n'
        # The old template puts the print bar and the disclaimer inside the body cell.
        + '<td id="zoom" class="bt_content" valign="top">\n'
        + _body(case, "bold")
        + _print_bar()
        + _disclaimer()
        + "</td>\n</tr></table>\n"
        + "</td></tr>\n</table>\n"
        + "</td></tr></table>\n"
        + _sidebar(chrome_version)
        + _footer()
        + "</body>\n</html>\n"
    )


def case_page(case: ReplicaCase, chrome_version: int) -> str:
    """The article page of a live case, in the case's template."""
    if case.template == "legacy-table":
        return _legacy_page(case, chrome_version)
    return _modern_page(case, chrome_version)


def column_page(config: ReplicaConfig, first_group: list[ReplicaCase], total_records: int) -> str:
    """The column index page: chrome, the embedded first group, and the jpage parameters."""
    unit = config.unitid
    store = datastore([record(case) for case in first_group], next_link=next_group_link(config, 1))
    menu = (
        f'<li class="on"><a href="/col/col{COLUMN_ID}/index.html">{COLUMN_NAME}</a></li>'
        f'<li><a href="/col/col{OTHER_COLUMN_ID}/index.html">{OTHER_COLUMN_NAME}</a></li>'
        '<li><a href="/col/col21484/index.html">政策文件</a></li>'
    )
    extra = f'<meta name="ColumnName" content="{COLUMN_NAME}" />\n'
    return (
        _head(f"{SITE_NAME} {COLUMN_NAME}", "utf-8", extra).replace(
            "</head>",
            '<script type="text/javascript" src="/module/web/jpage/jpage.js"></script>\n</head>',
        )
        + "<body>\n"
        + _header()
        + '<div class="container">\n'
        + _breadcrumb(COLUMN_ID, COLUMN_NAME)
        + f'<div class="left-menu"><h3>开发区管理处</h3><ul>{menu}</ul></div>\n'
        + '<div class="list-main">\n'
        + f'<div class="list-title"><span>{COLUMN_NAME}</span></div>\n'
        + '<div class="list-content">\n'
        + f'<div id="{unit}"><script type="text/xml">{store}</script></div>\n'
        + f'<script type="text/javascript">var param_{unit} = {{col:1,webid:{config.webid},'
        + f"path:'{SITE_ROOT}/',columnid:{COLUMN_ID},sourceContentType:1,unitid:'{unit}',"
        + f"webname:'{SITE_NAME}',permissiontype:0}};</script>\n"
        + '<script type="text/javascript">\n'
        + "jpage({\n"
        + "\tdataType:'xml',\n"
        + f"\ttotalRecord:{total_records},\n"
        + f"\tgroupSize:{config.group_size},\n"
        + f"\tproxyUrl:'{DATAPROXY_PATH}',\n"
        + "\tbarPosition:'bottom',\n"
        + f"\tperPage:{config.per_page},\n"
        + "\tappendPosition:'bottom',\n"
        + f"\tajaxParam:param_{unit},\n"
        + "\tthemeName:'default',\n"
        + "\tshowMode:'full',\n"
        + "\tpageBarTemplate:'共{totalRecord}条 {first}{prev}{pages}{next}{last}'\n"
        + "});\n"
        + "</script>\n"
        + "</div>\n</div>\n</div>\n"
        + _footer()
        + "</body>\n</html>\n"
    )


def not_found_page() -> str:
    """Hanweb's plain 404 page."""
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8" />\n'
        "<title>404 页面不存在</title>\n</head>\n<body>\n"
        '<div class="error"><h2>对不起，您访问的页面不存在或已被删除！</h2>\n'
        '<p><a href="/">返回首页</a></p></div>\n</body>\n</html>\n'
    )


def unavailable_page() -> str:
    """What the load balancer answers while a backend is briefly down."""
    return (
        "<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n<body>\n"
        "<center><h1>503 Service Temporarily Unavailable</h1></center>\n"
        "<hr><center>nginx</center>\n</body>\n</html>\n"
    )


def not_allowed_page() -> str:
    """nginx's 405 page, for POST to a static file or a refused dataproxy POST."""
    return (
        "<html>\n<head><title>405 Not Allowed</title></head>\n<body>\n"
        "<center><h1>405 Not Allowed</h1></center>\n"
        "<hr><center>nginx</center>\n</body>\n</html>\n"
    )


def robots_txt() -> str:
    """robots.txt: only the search module is off limits."""
    return "User-agent: *\nDisallow: /module/search/\nDisallow: /module/jslib/\n"


def ruishu_challenge(token: str) -> str:
    """A 瑞数-style HTTP 412 body: the ``$_ts`` bootstrap and a dynamic script."""
    return (
        '<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=utf-8">'
        f'<meta id="9DhefwqGPrzGxEp9hPaoag" content="{token}" r=\'m\'>'
        "<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};"
        f'$_ts.nsd=84937;$_ts.cd="{token[:48]}";</script>'
        '<script type="text/javascript" charset="utf-8" '
        "src=\"/ZhPqb6KQJ2Ux/QTK3hbOpP1Rw.b4c45da.js\" r='m'></script>"
        "</head><body><script type=\"text/javascript\" r='m'>$_ts.lcd();</script></body></html>"
    )


def jiasule_challenge(token: str) -> str:
    """A 加速乐-style HTTP 521 body: script that sets ``__jsl_clearance`` and reloads."""
    pieces = "+".join(f"('{char}')" for char in f"__jsl_clearance_s={token[:16]}")
    return (
        f"<script>document.cookie={pieces}+';max-age=3600;path=/';"
        "location.href=location.pathname+location.search</script>"
    )
