"""Gold pages 31–60 of tests/gold/, generated from the family replicas.

``python -m tests.replica.gold_pages`` rewrites them; tests/replica/test_gold_pages.py checks
that the committed files are what the replicas serve. Each page is picked by template so every
article variant of every family appears; the gold text and metadata are the replica's gold.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caseharvest.replica import FamilyCase, FamilySite, build_site
from caseharvest.replica.routes import SiteRequest

GOLD_DIR = Path(__file__).resolve().parents[1] / "gold"


@dataclass(frozen=True)
class Pick:
    """Which case of which replica becomes a gold page, and what the page is about."""

    stem: str
    site: str
    want: Callable[[FamilyCase], bool]
    template: str  # the gold set's layout vocabulary (tests/test_extract_gold.py)
    notes: str


def _t(
    name: str, *, attachments: bool | None = None, shape: str | None = None
) -> Callable[[FamilyCase], bool]:
    def want(case: FamilyCase) -> bool:
        return (
            case.template == name
            and (attachments is None or bool(case.attachments) == attachments)
            and (shape is None or case.extra.get("shape") == shape)
        )

    return want


def _attachment_count(name: str, count: int) -> Callable[[FamilyCase], bool]:
    return lambda case: case.template == name and len(case.attachments) == count


_TRS = (
    "TRS WCM replica (family A): national meta tags plus TRS's own (contentid, catalogs …), "
    "CurrChnlCls breadcrumb, labels 发布时间：/发布日期：(年月日) and 来源：, chrome around the body "
    "(字号 [大][中][小], [打印], 分享到, 扫一扫, [打印本页][关闭窗口], 相关链接, footer with 主办单位/ICP)"
)
_JIANGSU = (
    "Hanweb classic replica, Jiangsu variant (family B): meta tags, 分享到 and 【打印本页】【关闭窗口】 "
    "chrome, footer with 主办单位/ICP"
)
_JPAAS = (
    "Hanweb jpaas replica (family C): meta ColId/ArticleTitle/PubDate/ContentSource/Url, p.con-title, "
    ".small-title spans 发布日期/信息来源/浏览次数 (<lable id=artcount>), body div.main-txt#zoom, "
    "span.printer 打印 and span.close 关闭 after it"
)
_NFCMS = (
    "Guangdong gov-cloud NFCMS replica (family D): post_<id>.html under the column's content/, "
    "h3.title, info bar 发布时间 (with seconds)/来源/字号, body div.article-content (<p> without "
    "indent style), 分享到 and 【打印】【关闭】 after it, NFCMS_SITE_ID statistics script"
)
_GKMLPT = (
    "Guangdong gkmlpt replica (family D): div.classify metadata table ABOVE the title (索引号, 分类, "
    "发布机构, 成文日期 ≠ 发布日期, 名称 repeating the title, 文号, 发布日期, 主题词) is NOT body text; "
    "来源 line, body div.article-content, the same body again as HTML inside window._CONFIG.DETAIL "
    "JSON in a script (must not be extracted twice)"
)

PICKS = (
    Pick(
        "31-fujian-trs-editor",
        "fujian-trs",
        _t("trs-editor", attachments=False),
        "trs",
        f"{_TRS}. Body div.TRS_Editor with an inline <style> (宋体 CSS must not leak) > div.Custom_UnionStyle; <strong> headings.",
    ),
    Pick(
        "32-fujian-trs-attachment-list",
        "fujian-trs",
        _t("trs-editor", attachments=True),
        "trs",
        f"{_TRS}. Attachment list 相关附件 OUTSIDE div.TRS_Editor with ./P0YYYYMMDD….pdf hrefs relative to the article directory: attachments, not gold text.",
    ),
    Pick(
        "33-fujian-trs-editor-view",
        "fujian-trs",
        _t("trs-view"),
        "trs",
        f"{_TRS}. Newer editor: body in div.trs_editor_view (no TRS_Editor class).",
    ),
    Pick(
        "34-fujian-trs-ueditor-table",
        "fujian-trs",
        _t("trs-ueditor"),
        "trs",
        f"{_TRS}. Body in div.TRS_UEDITOR.trs_paper_default with a real data table (th header row): one line per row, cells tab-separated.",
    ),
    Pick(
        "35-fujian-trs-inline-attachments",
        "fujian-trs",
        _t("trs-inline-attach", attachments=True),
        "trs",
        f"{_TRS}. Attachment links (./P0….pdf/.docx/.xlsx) INSIDE the TRS_Editor body: their link texts 附件N：… are gold lines.",
    ),
    Pick(
        "36-hubei-trs-gbk-meta-charset",
        "hubei-trs",
        _t("trs-editor"),
        "trs",
        f"{_TRS}. GB18030 bytes, HTTP Content-Type without charset, charset only in <meta http-equiv … charset=gbk>; .shtml article URL.",
    ),
    Pick(
        "37-jiangsu-bt-article",
        "jiangsu",
        _t("jiangsu-bt", attachments=False),
        "div-meta",
        f"{_JIANGSU}. p.bt-art-title, span.bt-date 发布日期, span.bt-source 来源：, body div.bt-content.zoom wrapping <meta name=ContentStart><div class=TRS_Editor> (no style block).",
    ),
    Pick(
        "38-jiangsu-bt-attachment",
        "jiangsu",
        _t("jiangsu-bt", attachments=True),
        "div-meta",
        f"{_JIANGSU}. Same bt-content.zoom template; a downfile.jsp attachment link ends the body (gold line, &amp; in the href).",
    ),
    Pick(
        "39-jiangsu-main-txt",
        "jiangsu",
        _t("jiangsu-main-txt"),
        "div-meta",
        f"{_JIANGSU}. Department template: div.main-title, 发布时间/信息来源/浏览次数 bar, body div.main-txt#zoom.",
    ),
    Pick(
        "40-jiangsu-data-table",
        "jiangsu",
        _t("jiangsu-table"),
        "div-meta",
        f"{_JIANGSU}. bt-content.zoom body holding a data table right after the first paragraph.",
    ),
    Pick(
        "41-jiangxi-content",
        "jiangxi",
        _t("jiangxi-content"),
        "div-meta",
        "Hanweb classic replica, Jiangxi variant: h1.jgzn_title, 发布时间 as YYYY年MM月DD日 and 来源 in one div with ideographic spaces and 字体 links, body div.jgzn_content#zoom.",
    ),
    Pick(
        "42-jiangxi-data-table",
        "jiangxi",
        _t("jiangxi-table"),
        "div-meta",
        "Hanweb classic replica, Jiangxi variant: div.jgzn_content body with a data table; 年月日 date.",
    ),
    Pick(
        "43-zhejiang-jpaas-xxgk",
        "zhejiang",
        _t("jpaas-xxgk", shape="new"),
        "disclosure",
        f"{_JPAAS}. table.xxgktab (索引号, 组配分类, 发布机构, 生成日期, 文件编号, 统一编号, 有效性) between the breadcrumb and the title: chrome. New /col/colN/art/YYYY/art_<32hex>.html URL.",
    ),
    Pick(
        "44-zhejiang-jpaas-xxgk-old-url",
        "zhejiang",
        _t("jpaas-xxgk", shape="old"),
        "disclosure",
        f"{_JPAAS}. table.xxgktab is chrome; old /art/Y/M/D/art_<col>_<id>.html URL.",
    ),
    Pick(
        "45-zhejiang-jpaas-plain-old-url",
        "zhejiang",
        _t("jpaas-plain", shape="old"),
        "div-meta",
        f"{_JPAAS}. No info table; old-shape URL.",
    ),
    Pick(
        "46-zhejiang-jpaas-plain-new-url",
        "zhejiang",
        _t("jpaas-plain", shape="new"),
        "div-meta",
        f"{_JPAAS}. No info table; new-shape URL with a 32-hex id.",
    ),
    Pick(
        "47-zhejiang-jpaas-attachments",
        "zhejiang",
        _t("jpaas-attach"),
        "div-meta",
        f"{_JPAAS}. Attachment links through /api-gateway/jpaas-web-server/front/document/download?fileUrl=<opaque>&fileName=<percent-encoded> inside the body (gold lines).",
    ),
    Pick(
        "48-zhejiang-jpaas-data-table",
        "zhejiang",
        _t("jpaas-table"),
        "div-meta",
        f"{_JPAAS}. Data table in the body.",
    ),
    Pick("49-guangdong-nfcms-article", "guangdong", _t("nfcms-article"), "div-meta", f"{_NFCMS}."),
    Pick(
        "50-guangdong-nfcms-attachment",
        "guangdong",
        _attachment_count("nfcms-attach", 1),
        "div-meta",
        f"{_NFCMS}. One /attachment/0/<a>/<b>/<n>.pdf link in the body (gold line).",
    ),
    Pick(
        "51-guangdong-nfcms-two-attachments",
        "guangdong",
        _attachment_count("nfcms-attach", 2),
        "div-meta",
        f"{_NFCMS}. Two attachment links (.pdf, .docx) in the body.",
    ),
    Pick(
        "52-guangdong-nfcms-data-table",
        "guangdong",
        _t("nfcms-table"),
        "div-meta",
        f"{_NFCMS}. Data table with th header row in the body.",
    ),
    Pick(
        "53-guangdong-nfcms-article-2",
        "guangdong",
        _t("nfcms-article"),
        "div-meta",
        f"{_NFCMS}. A second plain post (different heading and indent draws).",
    ),
    Pick(
        "54-guangdong-nfcms-data-table-2",
        "guangdong",
        _t("nfcms-table"),
        "div-meta",
        f"{_NFCMS}. A second data-table post.",
    ),
    Pick(
        "55-guangdong-gkmlpt-doc",
        "guangdong-gkmlpt",
        _attachment_count("gkmlpt-doc", 0),
        "disclosure",
        f"{_GKMLPT}. 文号 filled in.",
    ),
    Pick(
        "56-guangdong-gkmlpt-doc-attachment",
        "guangdong-gkmlpt",
        _attachment_count("gkmlpt-doc", 1),
        "disclosure",
        f"{_GKMLPT}. 文号 filled in; one /attachment/… link in the body.",
    ),
    Pick(
        "57-guangdong-gkmlpt-plain",
        "guangdong-gkmlpt",
        _t("gkmlpt-plain"),
        "disclosure",
        f"{_GKMLPT}. Empty 文号 cell.",
    ),
    Pick(
        "58-guangdong-gkmlpt-attachments",
        "guangdong-gkmlpt",
        _attachment_count("gkmlpt-attach", 3),
        "disclosure",
        f"{_GKMLPT}. Three attachment links (.pdf, .docx, .xlsx) end the body.",
    ),
    Pick(
        "59-guangdong-gkmlpt-attachment",
        "guangdong-gkmlpt",
        _attachment_count("gkmlpt-attach", 1),
        "disclosure",
        f"{_GKMLPT}. One attachment link ends the body.",
    ),
    Pick(
        "60-guangdong-gkmlpt-plain-2",
        "guangdong-gkmlpt",
        _t("gkmlpt-plain"),
        "disclosure",
        f"{_GKMLPT}. A second post without 文号.",
    ),
)


@dataclass(frozen=True)
class GoldFiles:
    """The three files of one gold page."""

    stem: str
    html: bytes
    text: str
    meta: str


def _content_type(site: FamilySite, case: FamilyCase) -> tuple[bytes, str]:
    return site.render(case, SiteRequest("GET", case.path, ""))


def build() -> list[GoldFiles]:
    """Every gold page, from freshly built registry sites (default sizes and seeds)."""
    sites: dict[str, FamilySite] = {}
    used: set[str] = set()
    out = []
    for pick in PICKS:
        site = sites.setdefault(pick.site, build_site(pick.site))
        case = next(
            c
            for c in reversed(site.cases)  # oldest first: stable when add_cases changes
            if c.status == 200 and pick.want(c) and c.url not in used
        )
        used.add(case.url)
        body, content_type = _content_type(site, case)
        meta = {
            "url": case.url,
            "content_type": content_type,
            "title": case.title,
            "published": case.published,
            "source": case.source,
            "attachments": [{"name": name, "url": url} for name, url in case.attachments],
            "template": pick.template,
            "notes": pick.notes,
        }
        out.append(
            GoldFiles(
                stem=pick.stem,
                html=body,
                text=case.text + "\n",
                meta=json.dumps(meta, ensure_ascii=False, indent=2) + "\n",
            )
        )
    return out


def write(directory: Path = GOLD_DIR) -> None:
    """(Re)write the generated gold pages."""
    for page in build():
        (directory / f"{page.stem}.html").write_bytes(page.html)
        (directory / f"{page.stem}.txt").write_text(page.text, encoding="utf-8", newline="\n")
        (directory / f"{page.stem}.json").write_text(page.meta, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLD_DIR)
