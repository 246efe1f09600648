"""Metadata: title, publication date, source and attachments come from labels and meta tags."""

from __future__ import annotations

import functools

from caseharvest.extract import Attachment
from caseharvest.extract import extract_page as _extract_page
from caseharvest.extract.metadata import strip_title_words
from caseharvest.sites import load_profile

# These pages are Shandong's: extraction runs with its profile, as `fetch` runs it. (The
# site-neutral defaults hold no site's words; tests/sites checks that.)
SHANDONG_RULES = load_profile("shandong").extraction
extract_page = functools.partial(_extract_page, rules=SHANDONG_RULES)

ART_URL = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
TITLE = "淄博市五举措精准发力深化开发区体制机制创新工作"
BODY = (
    "<p>\u3000\u3000淄博市委、市政府于2017年7月15日出台了《实施意见》（淄发〔2017〕17号），"
    "提出了19条具体措施。</p><p>一、制定改革路线图</p>"
)


def article(
    bar: str,
    *,
    head: str = "",
    body: str = BODY,
    after: str = "",
    title: str = f"山东省商务厅 开发区典型案例 {TITLE}",
) -> bytes:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>'
        '<div class="dqwz"><a href="/">首页</a> &gt;'
        '<a href="/col/col21482/index.html">开发区典型案例</a></div>'
        f'<div class="article"><div class="bt-article-01"><h1>{TITLE}</h1></div>'
        f'<div class="bt-article-02">{bar}</div>'
        f'<div id="zoom">{body}</div>{after}'
        '<div class="bt-article-04"><a href="javascript:window.print()">【打印本页】</a></div>'
        "<div><p>山东商务网版权与免责声明：</p></div></div>"
        '<div class="sidebar"><h3>相关链接</h3><a href="/files/guide.pdf">办事指南.pdf</a></div>'
        "</body></html>"
    ).encode()


HANWEB_BAR = (
    "<span>发布日期：2019-01-07</span><span>信息来源：淄博市商务局</span>"
    "<span>信息来源：淄博市商务局</span><span>浏览次数：<b></b>次</span>"
    "<span>字体：【<a>大</a><a>中</a><a>小</a>】</span>"
)


def test_split_date_across_lines_is_read_from_the_label() -> None:
    bar = "<span>发布日期：\r\n        2019-\r\n        01-\r\n        07</span>"

    page = extract_page(article(bar), ART_URL)

    assert page.published == "2019-01-07"
    assert page.warnings == ()


def test_date_with_nian_yue_ri_and_no_padding() -> None:
    page = extract_page(
        article("发布日期：2019年1月7日&nbsp;&nbsp;信息来源：淄博市商务局"), ART_URL
    )

    assert page.published == "2019-01-07"


def test_pubdate_meta_wins_and_is_normalized() -> None:
    head = '<meta name="PubDate" content="2019-01-07 10:35">'

    page = extract_page(article("<span>发布日期：2019-02-01</span>", head=head), ART_URL)

    assert page.published == "2019-01-07"


def test_url_disagreement_keeps_the_page_date_and_warns() -> None:
    page = extract_page(article("<span>发布日期：2019-01-08</span>"), ART_URL)

    assert page.published == "2019-01-08"
    assert len(page.warnings) == 1
    assert "2019-01-08" in page.warnings[0] and "2019-01-07" in page.warnings[0]


def test_url_date_only_when_the_page_has_none_and_then_with_a_warning() -> None:
    page = extract_page(article("<span>信息来源：淄博市商务局</span>"), ART_URL)

    assert page.published == "2019-01-07"
    assert any("URL" in warning for warning in page.warnings)


def test_dates_in_the_body_are_never_used() -> None:
    # The body holds 〔2017〕 and 2017年7月15日; the URL carries no date.
    page = extract_page(
        article("<span>信息来源：淄博市商务局</span>"), "http://example.org/content/post_1.html"
    )

    assert page.published is None


def test_impossible_labelled_date_is_skipped() -> None:
    page = extract_page(article("<span>发布日期：2019-13-45</span>"), ART_URL)

    assert page.published == "2019-01-07"  # from the URL, as the page has no valid date
    assert any("URL" in warning for warning in page.warnings)


def test_source_is_the_first_label_value_trimmed_at_the_next_label() -> None:
    page = extract_page(article(HANWEB_BAR), ART_URL)

    assert page.source == "淄博市商务局"
    assert page.published == "2019-01-07"
    assert page.warnings == ()


def test_source_on_one_run_of_text_with_other_labels() -> None:
    bar = (
        "发布日期：2019-01-07 信息来源：济南市商务局信息来源：济南市商务局"
        "浏览次数：次字体：【大中小】"
    )

    assert extract_page(article(bar), ART_URL).source == "济南市商务局"


def test_empty_source_label_falls_to_the_next_one() -> None:
    bar = "<span>信息来源：</span><span>浏览次数：</span><p>信息来源：省商务厅</p>"

    assert extract_page(article(bar), ART_URL).source == "省商务厅"


def test_meta_tags_win_for_title_and_source() -> None:
    head = (
        '<meta name="ArticleTitle" '
        'content="淄博市五举措精准发力深化开发区体制机制创新工作（全文）">'
        '<meta name="ContentSource" content="淄博市人民政府">'
    )

    page = extract_page(article(HANWEB_BAR, head=head), ART_URL)

    assert page.title == "淄博市五举措精准发力深化开发区体制机制创新工作（全文）"
    assert page.source == "淄博市人民政府"


def test_title_element_is_preferred_over_the_title_tag() -> None:
    # The <title> carries site and column words around the article title.
    page = extract_page(article(HANWEB_BAR), ART_URL)

    assert page.title == TITLE


def test_title_tag_is_stripped_when_no_title_element_matches_it() -> None:
    body = article(HANWEB_BAR, title="山东省商务厅 - 开发区典型案例 - 青岛西海岸新区改革纪实")

    assert extract_page(body, ART_URL).title == "青岛西海岸新区改革纪实"


def test_strip_title_words_needs_a_separator_after_a_site_word() -> None:
    words = ("山东省商务厅", "开发区典型案例")

    assert strip_title_words("山东省商务厅 开发区典型案例 山东省商务厅关于开发区的通知", words) == (
        "山东省商务厅关于开发区的通知"
    )
    assert strip_title_words("案例汇编_开发区典型案例_山东省商务厅", words) == "案例汇编"
    assert strip_title_words("山东省商务厅", words) == ""


def test_attachments_in_and_just_after_the_body_are_absolute_and_deduplicated() -> None:
    body = (
        BODY + '<p><a href="/module/download/downfile.jsp?classid=0&amp;filename='
        '0123456789abcdef0123456789abcdef.pdf">附件1：案例汇编.pdf</a></p>'
        '<p><a href="files/table.XLSX" title="统计表"> </a></p>'
        '<p><a href="/module/download/downfile.jsp?classid=0&amp;filename='
        '0123456789abcdef0123456789abcdef.pdf">再次链接</a></p>'
        '<p><a href="/art/2019/1/8/art_21482_1.html">另一篇文章</a></p>'
    )
    after = (
        '<div class="fj"><a href="http://files.example.org/d/%E6%8A%A5%E5%91%8A.docx"></a></div>'
    )

    page = extract_page(article(HANWEB_BAR, body=body, after=after), ART_URL)

    assert page.attachments == (
        Attachment(
            "附件1：案例汇编.pdf",
            "http://commerce.shandong.gov.cn/module/download/downfile.jsp"
            "?classid=0&filename=0123456789abcdef0123456789abcdef.pdf",
        ),
        Attachment("统计表", "http://commerce.shandong.gov.cn/art/2019/1/7/files/table.XLSX"),
        Attachment("报告.docx", "http://files.example.org/d/%E6%8A%A5%E5%91%8A.docx"),
    )
    # The sidebar's 办事指南.pdf sits after the print bar: not the article's.


def test_no_attachments_when_the_article_links_none() -> None:
    assert extract_page(article(HANWEB_BAR), ART_URL).attachments == ()


def test_fallback_pages_scan_for_attachments_from_the_metadata_bar() -> None:
    body = "".join(f"<p>{BODY}</p>" for _ in range(4))
    html = (
        '<html><head><meta charset="utf-8"><title>青岛西海岸新区改革纪实</title></head><body>'
        '<div class="nav"><a href="/help/guide.pdf">网站使用指南.pdf</a></div>'
        f'<div class="bar">发布日期：2019-01-07</div><div class="main-text">{body}'
        '<p><a href="/module/download/downfile.jsp?classid=0&amp;filename=ab.docx">附件</a></p>'
        '</div><div><a href="javascript:window.print()">【打印本页】</a></div></body></html>'
    )

    page = extract_page(html.encode(), ART_URL)

    assert page.confidence == "low"
    assert page.attachments == (
        Attachment(
            "附件",
            "http://commerce.shandong.gov.cn/module/download/downfile.jsp?classid=0&filename=ab.docx",
        ),
    )
