"""Extraction quality on the hand-checked gold set (tests/gold/), and the scoring behind it.

The gold pages were written independently of the extractor, from what the sites serve: each
test below names the page it is about, so a failure points at one layout or trap (see the
page's `notes` in its .json).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from caseharvest.extract import extract_page
from caseharvest.extract.quality import (
    LEAK_MARKERS,
    PageFields,
    PageResult,
    bigram_f1,
    find_leaks,
    iso_date,
    normalize_for_score,
    same_field,
    score_gold_set,
)
from caseharvest.sites import rules_for_url
from tests.gold_set import GoldPage, load_gold_set

MEAN_F1_FLOOR = 0.995
PAGE_F1_FLOOR = 0.98

GOLD_PAGES = load_gold_set()
PAGES_BY_STEM = {page.stem: page for page in GOLD_PAGES}
STEMS = list(PAGES_BY_STEM)

SEED_URL = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"


# ---------------------------------------------------------------- running the extractor


@dataclass(frozen=True)
class Outcome:
    """What extract_page returned for one gold page, or what it raised."""

    page: GoldPage
    result: Any
    error: Exception | None

    def __repr__(self) -> str:
        # pytest prints fixture values on failure; the page bytes would drown the message.
        return f"<Outcome {self.page.stem}: {'raised' if self.error else 'extracted'}>"


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Extract every gold page once; an exception is kept so only that page's tests fail."""
    done = {}
    for page in GOLD_PAGES:
        try:
            result = extract_page(
                page.html, page.url, rules=rules_for_url(page.url), content_type=page.content_type
            )
        except Exception as exc:
            done[page.stem] = Outcome(page, None, exc)
        else:
            done[page.stem] = Outcome(page, result, None)
    return done


def extracted(outcomes: dict[str, Outcome], stem: str) -> Any:
    """The extraction result for `stem`, failing the test with the page name if it raised."""
    outcome = outcomes[stem]
    if outcome.error is not None:
        raise AssertionError(
            f"{stem}: extract_page raised {type(outcome.error).__name__}: {outcome.error}"
        ) from outcome.error
    return outcome.result


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width // 2] + "…" + text[-width // 2 :]


def describe_difference(candidate: str, gold: str, limit: int = 8, width: int = 70) -> str:
    """Missing and extra stretches of text, compared the way the score compares them."""
    cand = normalize_for_score(candidate)
    ref = normalize_for_score(gold)
    matcher = difflib.SequenceMatcher(None, ref, cand, autojunk=False)
    lines = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        where = f"after «{ref[max(0, i1 - 12) : i1]}»" if i1 else "at the start"
        if tag in ("delete", "replace"):
            lines.append(f"  missing {where}: {_clip(ref[i1:i2], width)}")
        if tag in ("insert", "replace"):
            lines.append(f"  extra   {where}: {_clip(cand[j1:j2], width)}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"  … and {len(lines) - limit} more differences"]
    return "\n".join(lines)


# ---------------------------------------------------------------- extractor against the gold


@pytest.mark.parametrize("stem", STEMS)
def test_body_text_matches_gold(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    text = extracted(outcomes, stem).text or ""
    f1 = bigram_f1(text, page.text)
    assert f1 >= PAGE_F1_FLOOR, (
        f"{stem} ({page.template}): bigram F1 {f1:.4f} < {PAGE_F1_FLOOR}\n"
        f"{describe_difference(text, page.text)}\n"
        f"page notes: {page.notes}"
    )


@pytest.mark.parametrize("stem", STEMS)
def test_body_text_has_no_chrome(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    text = extracted(outcomes, stem).text or ""
    leaks = find_leaks(text, page.text)
    folded = normalize_for_score(text)
    context = [
        _clip(folded[max(0, at - 20) : at + 40], 60)
        for at in (folded.find(normalize_for_score(marker)) for marker in leaks)
    ]
    assert not leaks, f"{stem} ({page.template}): chrome in the body text {leaks}: {context}"


@pytest.mark.parametrize("stem", STEMS)
def test_title(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    title = extracted(outcomes, stem).title
    assert same_field(title, page.title), f"{stem}: title {title!r}, gold {page.title!r}"


@pytest.mark.parametrize("stem", STEMS)
def test_published_date(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    published = iso_date(extracted(outcomes, stem).published)
    assert published == page.published, f"{stem}: published {published!r}, gold {page.published}"


@pytest.mark.parametrize("stem", STEMS)
def test_source(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    source = extracted(outcomes, stem).source
    assert same_field(source, page.source), f"{stem}: source {source!r}, gold {page.source!r}"


@pytest.mark.parametrize("stem", STEMS)
def test_attachments(outcomes: dict[str, Outcome], stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    found = [(item.name, item.url) for item in extracted(outcomes, stem).attachments]
    gold = [(item.name, item.url) for item in page.attachments]
    assert found == gold, f"{stem}: attachments {found}, gold {gold}"


def test_mean_f1_over_gold_set(outcomes: dict[str, Outcome]) -> None:
    results = []
    for stem, outcome in outcomes.items():
        page = outcome.page
        candidate = None if outcome.error else PageFields.from_extraction(outcome.result)
        error = f"{type(outcome.error).__name__}: {outcome.error}" if outcome.error else None
        results.append(PageResult(stem, page.template, page.fields(), candidate, error))
    report = score_gold_set(results)
    worst = sorted(report.pages, key=lambda score: score.f1)[:5]
    assert report.mean_f1 >= MEAN_F1_FLOOR, (
        f"mean bigram F1 {report.mean_f1:.4f} < {MEAN_F1_FLOOR}; lowest pages: "
        + ", ".join(f"{score.stem} {score.f1:.4f}" for score in worst)
    )


# ---------------------------------------------------------------- the gold set itself


def _decode_page(page: GoldPage) -> str:
    # GB pages are labelled gb2312 or gbk but hold GB18030 bytes; everything else is UTF-8.
    try:
        return page.html.decode("utf-8-sig")
    except UnicodeDecodeError:
        return page.html.decode("gb18030")


def _page_text(page: GoldPage) -> str:
    return normalize_for_score(lxml_html.document_fromstring(_decode_page(page)).text_content())


def test_gold_set_is_large_and_holds_the_seed() -> None:
    assert len(GOLD_PAGES) >= 27
    seed = next(page for page in GOLD_PAGES if page.url == SEED_URL)
    assert seed.title == "淄博市五举措精准发力深化开发区体制机制创新工作"
    assert seed.published == "2019-01-07"
    assert seed.source == "淄博市商务局"
    stored = (files("caseharvest.replica") / "data" / "seed_art_21482_4415480.txt").read_text(
        encoding="utf-8"
    )
    first, last = "淄博市大力推动", "建设资本社会化。"
    body = stored[stored.index(first) : stored.index(last) + len(last)]
    assert normalize_for_score(seed.text) == normalize_for_score(body)
    # The page serves full-width punctuation; the stored copy is NFKC-folded.
    assert "，" in seed.text and "（" in seed.text


def test_gold_set_covers_every_layout_several_times() -> None:
    counts: dict[str, int] = {}
    for page in GOLD_PAGES:
        counts[page.template] = counts.get(page.template, 0) + 1
    assert set(counts) == {
        "div-meta",
        "div-plain",
        "div-disclaimer",
        "table-layout",
        "disclosure",
        "trs",
    }
    assert min(counts.values()) >= 2, counts


def test_gold_set_holds_mislabelled_gb_pages() -> None:
    gb_pages = [page for page in GOLD_PAGES if "gb2312" in page.content_type.lower()]
    assert gb_pages
    for page in gb_pages:
        # A strict gb2312 decode fails, and a lenient one turns the em dash into U+2015.
        with pytest.raises(UnicodeDecodeError):
            page.html.decode("gb2312")
        assert "—" in page.text and "—" in page.html.decode("gb18030")
        assert "―" in page.html.decode("gb2312", errors="replace")


@pytest.mark.parametrize("stem", STEMS)
def test_gold_text_is_clean(stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    assert page.text, f"{stem}: empty gold text"
    assert find_leaks(page.text, "") == [], f"{stem}: chrome marker in the gold text"
    for number, line in enumerate(page.text.split("\n"), start=1):
        assert line and line == line.strip(), f"{stem}.txt line {number}: blank or padded"
        assert not set(line) & {"\u3000", "\xa0", "\r"}, f"{stem}.txt line {number}: indent left"


@pytest.mark.parametrize("stem", STEMS)
def test_gold_lines_are_on_the_page(stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    shown = _page_text(page)
    for number, line in enumerate(page.text.split("\n"), start=1):
        for cell in line.split("\t"):
            assert normalize_for_score(cell) in shown, f"{stem}.txt line {number} not on the page"


@pytest.mark.parametrize("stem", STEMS)
def test_gold_metadata_is_on_the_page(stem: str) -> None:
    page = PAGES_BY_STEM[stem]
    shown = _page_text(page)
    assert normalize_for_score(page.title) in shown
    year, month, day = page.published.split("-")
    assert f"{year}-{month}-{day}" in shown or f"{year}年{month}月{day}日" in shown
    if page.source is not None:
        assert "来源:" + normalize_for_score(page.source) in shown
    document = lxml_html.document_fromstring(_decode_page(page))
    links = {
        (anchor.text_content().strip(), urljoin(page.url, anchor.get("href", "")))
        for anchor in document.iter("a")
    }
    for attachment in page.attachments:
        assert (attachment.name, attachment.url) in links, f"{stem}: {attachment} not linked"


# ---------------------------------------------------------------- quality.py


def test_normalize_for_score_folds_width_and_drops_all_whitespace() -> None:
    assert normalize_for_score("\u3000\u3000淄博，市\r\n（2019）\xa0 Ａ\tb") == "淄博,市(2019)Ab"
    assert normalize_for_score(" \n\u3000") == ""


def test_bigram_f1_ignores_layout_and_width() -> None:
    gold = "一、制定改革路线图\n淄博市委、市政府高度重视，组织（市）有关部门。"
    assert bigram_f1("一、制定改革路线图 淄博市委、市政府高度重视,组织(市)有关部门。", gold) == 1.0


def test_bigram_f1_known_values() -> None:
    # bigrams ab bc cd against ab bc ce: 2 shared of 3 each.
    assert bigram_f1("abcd", "abce") == pytest.approx(2 / 3)
    assert bigram_f1("abcd", "wxyz") == 0.0
    assert bigram_f1("abcd", "abcd") == 1.0


def test_bigram_f1_counts_repeated_bigrams_once_each() -> None:
    # "aaaa" has aa three times, "aa" once: a set overlap would wrongly give 1.0.
    assert bigram_f1("aaaa", "aa") == pytest.approx(0.5)
    assert bigram_f1("正文正文", "正文") == pytest.approx(bigram_f1("正文", "正文正文"))
    assert bigram_f1("正文正文", "正文") < 1.0


def test_bigram_f1_empty_and_single_character_cases() -> None:
    assert bigram_f1("", "") == 1.0
    assert bigram_f1(" \n", "\u3000") == 1.0
    assert bigram_f1("", "正文") == 0.0
    assert bigram_f1("正文", "") == 0.0
    assert bigram_f1("正", "正") == 1.0
    assert bigram_f1("正", "文") == 0.0


def test_bigram_f1_penalises_a_leaked_disclaimer() -> None:
    gold = "淄博市大力推动省级经济开发区体制机制改革，开发区改革工作取得了突破性进展。" * 4
    leaked = gold + "山东商务网版权与免责声明：1、凡本站及其子站注明“文章类型：原创”的所有作品。"
    truncated = gold[: len(gold) // 2]
    assert 0.8 < bigram_f1(leaked, gold) < 0.95
    assert 0.6 < bigram_f1(truncated, gold) < 0.7


def test_leak_markers_cover_the_known_chrome() -> None:
    for marker in (
        "免责声明",
        "版权与免责声明",
        "发布日期",
        "浏览次数",
        "信息来源",
        "打印本页",
        "关闭窗口",
    ):
        assert marker in LEAK_MARKERS
    for marker in ("主办单位", "ICP备", "网站标识码", "字体：【", "索引号", "成文日期"):
        assert marker in LEAK_MARKERS


def test_find_leaks_reports_markers_missing_from_gold() -> None:
    text = "正文内容。\n发布日期：2019-01-07 信息来源：淄博市商务局\n【打印本页】【关闭窗口】"
    assert find_leaks(text, "正文内容。") == ["发布日期", "信息来源", "打印本页", "关闭窗口"]
    assert find_leaks("正文内容。", "正文内容。") == []


def test_find_leaks_spares_markers_that_the_gold_contains() -> None:
    gold = "本办法所称信息来源，是指……"
    assert find_leaks(gold, gold) == []


def test_find_leaks_matches_half_width_spellings() -> None:
    assert find_leaks("正文 字体:【大 中 小】", "正文") == ["字体：【"]
    assert find_leaks("鲁ICP备 05045476号", "正文") == ["ICP备"]


def test_same_field_normalizes_and_treats_empty_as_absent() -> None:
    assert same_field("中韩(烟台)产业园 建设", "中韩（烟台）产业园建设")
    assert same_field(None, None)
    assert same_field("", None)
    assert not same_field("淄博市商务局信息来源：淄博市商务局", "淄博市商务局")
    assert not same_field(None, "淄博市商务局")


def test_iso_date_accepts_dates_datetimes_and_strings() -> None:
    assert iso_date(date(2019, 1, 7)) == "2019-01-07"
    assert iso_date(datetime(2019, 1, 7, 10, 23)) == "2019-01-07"
    assert iso_date("2019-01-07 10:23") == "2019-01-07"
    assert iso_date("2019-01-07T10:23:00+08:00") == "2019-01-07"
    assert iso_date(None) is None
    # A non-ISO string is kept as it is, so it can never equal a gold date.
    assert iso_date("2019年01月07日") == "2019年01月07日"
    with pytest.raises(TypeError):
        iso_date(20190107)


def _fields(
    text: str, title: str = "标题", published: str = "2019-01-07", source: str | None = "甲"
) -> PageFields:
    return PageFields(text=text, title=title, published=published, source=source)


def test_score_gold_set_aggregates_pages() -> None:
    gold_a = _fields("第一篇正文内容")
    gold_b = _fields("第二篇正文内容", source=None)
    results = [
        PageResult("01-a", "div-meta", gold_a, gold_a),
        PageResult(
            "02-b",
            "table-layout",
            gold_b,
            _fields("第二篇正文内容浏览次数", title="别的标题", source=None),
        ),
        PageResult("03-c", "table-layout", gold_a, None, error="ValueError: broken page"),
    ]
    report = score_gold_set(results)
    f1_b = bigram_f1("第二篇正文内容浏览次数", "第二篇正文内容")
    assert report.pages[0].f1 == 1.0
    assert report.mean_f1 == pytest.approx((1.0 + f1_b + 0.0) / 3)
    assert report.min_f1 == 0.0
    assert report.min_f1_page == "03-c"
    assert report.leak_pages == ("02-b",)
    assert report.pages[1].leaks == ("浏览次数",)
    assert report.title_accuracy == pytest.approx(1 / 3)
    assert report.published_accuracy == pytest.approx(2 / 3)
    assert report.source_accuracy == pytest.approx(2 / 3)
    assert report.failed_pages == ("03-c",)
    assert report.template_f1() == {"div-meta": 1.0, "table-layout": pytest.approx(f1_b / 2)}


def test_score_gold_set_rejects_an_empty_set() -> None:
    with pytest.raises(ValueError):
        score_gold_set([])


def test_page_fields_from_extraction_takes_date_objects() -> None:
    @dataclass
    class Result:
        text: str
        title: str | None
        published: object
        source: str | None

    fields = PageFields.from_extraction(Result("正文", "标题", date(2020, 6, 1), None))
    assert fields == PageFields(text="正文", title="标题", published="2020-06-01", source=None)


def test_describe_difference_names_missing_and_extra_text() -> None:
    message = describe_difference(
        "正文第一段。山东商务网版权与免责声明", "正文第一段。正文第二段。"
    )
    assert "missing after «正文第一段。»: 正文第二段。" in message
    assert "extra   after «正文第一段。»: 山东商务网版权与免责声明" in message


def _family(page: GoldPage) -> str:
    """The CMS family of a gold page: its site's listing style (gkmlpt posts by their path)."""
    from caseharvest.sites import profile_for_url

    if "/gkmlpt/" in page.url:
        return "gd-gkmlpt"
    profile = profile_for_url(page.url)
    if profile is None:
        return "other"
    styles = {column.listing_style or profile.listing_style for column in profile.columns}
    return "gd-nfcms" if "gd-nfcms" in styles else min(styles)


def test_every_family_has_six_gold_pages_and_mean_f1_of_at_least_0_99(
    outcomes: dict[str, Outcome],
) -> None:
    by_family: dict[str, list[float]] = {}
    for outcome in outcomes.values():
        text = "" if outcome.error else (outcome.result.text or "")
        by_family.setdefault(_family(outcome.page), []).append(bigram_f1(text, outcome.page.text))
    for family in ("trs-static", "hanweb-jpage", "hanweb-jpaas", "gd-nfcms", "gd-gkmlpt"):
        scores = by_family.get(family, [])
        assert len(scores) >= 6, f"{family}: {len(scores)} gold pages"
        assert sum(scores) / len(scores) >= 0.99, (
            f"{family}: mean F1 {sum(scores) / len(scores):.4f}"
        )
