"""Body extraction: rule selection, structure kept, end-marker cut, guarded fallback, rules."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from caseharvest.extract import ExtractionRules, decode_html, read_page
from caseharvest.extract import extract_page as _extract_page
from caseharvest.extract.page_links import page_links
from caseharvest.sites import load_profile, rules_for_url
from tests.gold_set import GoldPage, load_gold_set

# These pages are Shandong's: extraction runs with its profile, as `fetch` runs it. (The
# site-neutral defaults hold no site's words; tests/sites checks that.)
SHANDONG_RULES = load_profile("shandong").extraction
extract_page = functools.partial(_extract_page, rules=SHANDONG_RULES)

URL = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
SEED = Path(__file__).parents[2] / "src/caseharvest/replica/data/seed_art_21482_4415480.txt"
# Blocks of the seed text: 0 = page header, 1-11 = body, 12-13 = disclaimer.
SEED_BLOCKS = SEED.read_text(encoding="utf-8").split("\n\n")
SEED_BODY = [block.strip() for block in SEED_BLOCKS[1:12]]
DISCLAIMER = "山东商务网版权与免责声明："
CHROME_HEAD = (
    '<div class="dqwz"><a href="/">首页</a> &gt;<a>政务公开</a>&gt;<a>开发区典型案例</a></div>'
    '<div class="bt-article-02"><span>发布日期：2019-01-07</span>'
    "<span>信息来源：淄博市商务局</span><span>浏览次数：</span></div>"
)
CHROME_TAIL = (
    '<div class="bt-article-04"><a href="javascript:window.print()">【打印本页】</a>'
    '<a href="javascript:window.close()">【关闭窗口】</a></div>'
    f'<div class="mzsm"><p>{DISCLAIMER}</p>'
    "<p>1、凡本站及其子站注明“文章类型：原创”的所有作品。</p></div>"
    '<div class="footer"><p>主办单位：山东省商务厅</p><p>鲁ICP备05002338号-1</p></div>'
)


def html_page(inner: str, charset: str = "utf-8", title: str = "开发区典型案例") -> str:
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f"<title>山东省商务厅 {title}</title><script>var t='发布日期';</script></head>"
        f"<body>{inner}</body></html>"
    )


def zoom_page(body: str) -> bytes:
    return html_page(f'{CHROME_HEAD}<div id="zoom">{body}</div>{CHROME_TAIL}').encode()


def paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>\u3000\u3000{line}</p>\n" for line in lines)


def test_seed_article_in_div_layout_with_content_markers() -> None:
    body = (
        '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">'
        + paragraphs(SEED_BODY)
        + '<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->'
    )

    page = extract_page(zoom_page(body), URL)

    assert page.text.split("\n") == SEED_BODY
    assert (page.method, page.confidence, page.warnings) == (
        "profile:markers:ContentStart:ContentEnd",
        "high",
        (),
    )


def test_headings_stay_on_their_own_lines() -> None:
    body = (
        "<p><strong>一、制定改革路线图</strong></p><p>淄博市委、市政府高度重视。</p>"
        "<h3>二、理顺管理体制机制</h3><div>正文。</div>"
    )

    page = extract_page(zoom_page(body), URL)

    assert page.text.split("\n") == [
        "一、制定改革路线图",
        "淄博市委、市政府高度重视。",
        "二、理顺管理体制机制",
        "正文。",
    ]


def test_br_separated_lines_each_get_a_line_and_padding_is_stripped() -> None:
    body = (
        '<p style="line-height:2em">\u3000\u3000第一行，开发区改革。<br>'
        "&nbsp;&nbsp;第二行：投资2000万—5000万元。&nbsp;<br /><br/>\n"
        "\u3000第三行（全角括号）。\u3000</p>"
    )

    page = extract_page(zoom_page(body), URL)

    # Punctuation is kept as served: full-width "：（）" and "—" are not folded.
    assert page.text == "第一行，开发区改革。\n第二行：投资2000万—5000万元。\n第三行（全角括号）。"


def test_data_table_rows_become_tab_joined_lines() -> None:
    body = (
        "<p>各开发区投资情况如下：</p>"
        '<table border="1"><tbody>'
        "<tr><td><b>开发区</b></td><td><b>投资（亿元）</b></td></tr>"
        "<tr><td><p>临淄经济开发区</p></td><td>5.7</td></tr>"
        "<tr><td>淄川经济开发区</td><td>2</td></tr>"
        "</tbody></table><p>合计7.7亿元。</p>"
    )

    page = extract_page(zoom_page(body), URL)

    assert page.text.split("\n") == [
        "各开发区投资情况如下：",
        "开发区\t投资（亿元）",
        "临淄经济开发区\t5.7",
        "淄川经济开发区\t2",
        "合计7.7亿元。",
    ]


def test_nested_layout_tables_are_not_flattened_into_a_row() -> None:
    # An old GBK template: the article lives in a cell of nested layout tables, next to a title
    # cell, and the print bar and disclaimer share the body cell.
    layout = (
        '<table width="1000"><tr><td><table><tr><td>首页 &gt; 开发区典型案例</td></tr></table>'
        '<table width="100%"><tr>'
        '<td class="title">淄博市五举措精准发力深化开发区体制机制创新工作</td></tr>'
        "<tr><td>发布日期：2019年01月07日&nbsp;&nbsp;信息来源：淄博市商务局</td></tr>"
        '<tr><td><table width="96%"><tr><td id="zoom">'
        f"{paragraphs(SEED_BODY[:4])}"
        "<table><tr><td>【打印本页】</td><td>【关闭窗口】</td></tr></table>"
        f"<p>{DISCLAIMER}</p><p>1、凡本站……</p>"
        "</td></tr></table></td></tr></table></td></tr></table>"
    )
    body = html_page(
        layout,
        charset="gb2312",
        title="开发区典型案例 淄博市五举措精准发力深化开发区体制机制创新工作",
    )

    page = extract_page(body.encode("gb18030"), URL)

    assert page.text.split("\n") == SEED_BODY[:4]
    assert page.method == "profile:td#zoom"
    assert page.encoding == "gb18030"
    assert (page.title, page.published, page.source) == (
        "淄博市五举措精准发力深化开发区体制机制创新工作",
        "2019-01-07",
        "淄博市商务局",
    )


def test_disclaimer_inside_the_body_container_is_cut_with_everything_after() -> None:
    body = (
        paragraphs(SEED_BODY[:2])
        + f"<p>山东商务网版权与免责声明：1、凡本站……</p><p>{SEED_BODY[2]}</p>"
    )

    page = extract_page(zoom_page(body), URL)

    assert page.text.split("\n") == SEED_BODY[:2]
    assert page.confidence == "high"


def test_end_marker_words_inside_a_long_paragraph_do_not_cut_the_body() -> None:
    prose = (
        "各开发区要建立专门台账并及时报送，"
        "具体要求详见本文后附的相关链接和上一篇通知所列事项，按期完成。"
    )
    body = paragraphs([SEED_BODY[0], prose, SEED_BODY[2]])

    assert extract_page(zoom_page(body), URL).text.split("\n") == [
        SEED_BODY[0],
        prose,
        SEED_BODY[2],
    ]


def test_pruned_and_hidden_elements_leave_the_text_but_their_tail_stays() -> None:
    body = (
        "<p>开发区改革工作取得了突破性进展<script>document.write('发布日期')</script>，为创新发展扫清障碍。</p>"
        '<div style="display:none">信息来源：隐藏</div><div class="bdsharebuttonbox">分享到</div>'
    )

    page = extract_page(zoom_page(body), URL)

    assert page.text == "开发区改革工作取得了突破性进展，为创新发展扫清障碍。"


def test_disclosure_metadata_grid_inside_the_body_is_dropped() -> None:
    grid = (
        '<table class="xxgk" border="1"><tr><th>索引号：</th><td>11370000004209283X/2018-01187</td>'
        "<th>发布机构：</th><td>山东省商务厅</td></tr>"
        "<tr><th>主题分类：</th><td>开发区</td><th>成文日期：</th><td>2018年11月30日</td></tr>"
        "<tr><th>标\u3000\u3000题：</th><td colspan=3>聊城经济技术开发区推行改革的做法</td></tr></table>"
    )
    body = f'<meta name="ContentStart">{grid}{paragraphs(SEED_BODY[:3])}<meta name="ContentEnd">'

    page = extract_page(zoom_page(body), URL)

    assert page.text.split("\n") == SEED_BODY[:3]
    assert page.confidence == "high"


def test_no_matching_selector_falls_back_with_low_confidence() -> None:
    article = (
        f'{CHROME_HEAD}<div class="main-text"><h1>开发区典型案例</h1>'
        f"{paragraphs(SEED_BODY)}</div>{CHROME_TAIL}"
    )

    page = extract_page(html_page(article).encode(), URL)

    assert page.method.startswith("fallback:trafilatura")
    assert page.confidence == "low"
    assert any("no body selector matched" in warning for warning in page.warnings)
    # Cut at the end markers and stripped of chrome: no disclaimer, no metadata bar.
    assert DISCLAIMER not in page.text and "发布日期" not in page.text
    assert SEED_BODY[3] in page.text.split("\n")


def test_fallback_reads_nested_layout_tables_in_page_order() -> None:
    # No zoom, no markers: trafilatura alone returns such a page as one table row with the
    # body behind the disclaimer; the fallback turns layout tables into blocks first.
    rows = "".join(f"<tr><td>{line}</td></tr>" for line in SEED_BODY)
    layout = (
        '<table width="1000"><tr><td><table><tr><td>首页 &gt; 开发区典型案例</td></tr></table>'
        '<table width="100%"><tr><td class="title">淄博市五举措</td></tr>'
        "<tr><td>发布日期：2019-01-07</td></tr>"
        f'<tr><td><table width="96%">{rows}'
        "<tr><td><table><tr><td>临淄经济开发区</td><td>5.7亿元</td></tr>"
        "<tr><td>淄川经济开发区</td><td>2亿元</td></tr></table></td></tr>"
        "</table></td></tr>"
        "<tr><td>【打印本页】【关闭窗口】</td></tr>"
        f"<tr><td><p>{DISCLAIMER}</p><p>1、凡本站……</p></td></tr></table></td></tr></table>"
    )

    page = extract_page(html_page(layout).encode(), URL)

    assert page.method.startswith("fallback:")
    assert page.text.split("\n") == [*SEED_BODY, "临淄经济开发区\t5.7亿元", "淄川经济开发区\t2亿元"]


def test_a_leaking_body_is_rejected_for_the_fallback() -> None:
    # The container holds the metadata bar itself, so the profile's text is not trusted.
    article = f'<div id="zoom">{CHROME_HEAD}{paragraphs(SEED_BODY)}</div>{CHROME_TAIL}'

    page = extract_page(html_page(article).encode(), URL)

    assert page.confidence == "low"
    assert any("div#zoom holds page chrome" in warning for warning in page.warnings)
    assert "浏览次数" not in page.text
    assert SEED_BODY[1] in page.text


def test_a_short_body_is_kept_when_the_fallback_finds_nothing_better() -> None:
    body = '<p><a href="/module/download/downfile.jsp?filename=a.pdf">附件.pdf</a></p>'

    page = extract_page(zoom_page(body), URL)

    assert page.text == "附件.pdf"
    assert (page.method, page.confidence) == ("profile:div#zoom", "low")
    assert len(page.attachments) == 1


def test_empty_document() -> None:
    page = extract_page(b"", URL)

    assert (page.text, page.method, page.confidence) == ("", "none", "low")


def test_rules_from_a_profile_mapping() -> None:
    rules = ExtractionRules.from_mapping(
        {"body_selectors": ["div.content-body"], "end_markers": ["责任编辑"], "min_body_chars": 5}
    )
    article = '<div class="content-body"><p>开发区改革工作取得进展。</p><p>责任编辑：张三</p></div>'

    page = extract_page(html_page(article).encode(), URL, rules=rules)

    assert rules.body_selectors == ("div.content-body",)
    assert (page.text, page.method) == ("开发区改革工作取得进展。", "profile:div.content-body")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"body_selector": ["div#zoom"]}, ValueError),
        ({"body_selectors": ["div[[zoom"]}, ValueError),
        ({"body_selectors": ["markers:ContentStart"]}, ValueError),
        ({"end_markers": "打印本页"}, TypeError),
        ({"min_body_chars": -1}, ValueError),
    ],
)
def test_bad_rules_are_refused(data: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        ExtractionRules.from_mapping(data)


def test_a_typical_page_extracts_in_milliseconds() -> None:
    body = zoom_page(paragraphs(SEED_BODY * 5))
    extract_page(body, URL)  # warm the selector cache

    best = min(_timed(lambda: extract_page(body, URL)) for _ in range(3))

    assert len(body) > 20_000
    # Measured at a few ms; the bound only catches quadratic work or a fallback on the fast path.
    assert best < 0.1


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


@pytest.mark.parametrize("gold", load_gold_set(), ids=lambda gold: gold.stem)
def test_one_parse_gives_the_links_and_the_extraction_of_two(gold: GoldPage) -> None:
    """What a crawl reads of a case page in one parse equals the two separate reads."""
    rules = rules_for_url(gold.url)
    read = read_page(gold.html, gold.url, rules=rules, content_type=gold.content_type)
    assert read.page == _extract_page(
        gold.html, gold.url, rules=rules, content_type=gold.content_type
    )
    text, _encoding = decode_html(gold.html, gold.content_type)
    assert read.links == page_links(text, gold.url, rules.attachment_paths)
    assert read_page(gold.html, gold.url, rules=rules, extract=False).page is None
