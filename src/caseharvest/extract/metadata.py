"""Article metadata from the page around the body: title, publication date, source, attachments."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from caseharvest.extract.body import holds_end_marker
from caseharvest.extract.rules import compile_css
from caseharvest.extract.structure import SILENT_TAGS

# Tolerant of "2019- 01- 07", "2019-\r\n 01-\r\n 07" (a browser's view of a split bar) and 年月日.
_DATE = r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
_DATE_LABEL = re.compile(r"(?:发布日期|发布时间)")
_LABELLED_DATE = re.compile(_DATE_LABEL.pattern + r"[:：\s]*" + _DATE)
_BARE_DATE = re.compile(_DATE)
# Hanweb article URLs carry the date (/art/2019/1/7/art_21482_4415480.html), TRS ones too
# (t20190107_123.html).
_URL_DATES = (
    re.compile(r"/art/(\d{4})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/t(\d{4})(\d{2})(\d{2})_\d+\.s?html?"),
)
# "信息来源：", or a bare "来源：" that follows no other word ("资金来源：" in a body is no label).
_SOURCE_LABEL = re.compile(r"(?:信息来源|(?<![\u4e00-\u9fff])来源)\s*[:：]")
# A source value ends at the next label of the metadata bar or at a cell/line boundary.
_SOURCE_END = re.compile(
    r"信息来源|浏览次数|浏览量|点击[数率量次]|访问量|阅读[数量次]|字体|发布日期|发布时间"
    r"|作者\s*[:：]|责任编辑|编辑\s*[:：]|来源\s*[:：]|【|\t|\n"
)
_SOURCE_PADDING = " \u3000\xa0|｜丨/,，;；"

# Title elements of Hanweb, TRS and generic article templates.
_TITLE_SELECTORS = ("h1", "h2", "h3", "#title", "[class*='title']", "[id*='title']")
_TITLE_MIN_CHARS = 4
_TITLE_MAX_CHARS = 200
# Breadcrumb separators never appear in an article title.
_BREADCRUMB = re.compile(r"[>＞»→]")
_TITLE_SEPARATORS = " \t\r\n\u3000\xa0-_|｜—–·•:：,，>＞»"

# Documents a page links as attachments, by their file name; download scripts of a CMS come
# from the profile (ExtractionRules.attachment_paths). The spider fetches these too: one
# definition.
ATTACHMENT_SUFFIXES = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".wps",
    ".et",
    ".ppt",
    ".pptx",
    ".zip",
    ".rar",
    ".7z",
    ".txt",
    ".csv",
    ".ofd",
    ".tif",
    ".tiff",
)
# Attachment blocks sit right under the body; links further down belong to other page parts.
_ELEMENTS_AFTER_BODY = 60


@dataclass(frozen=True)
class Attachment:
    """A file linked from the article."""

    name: str
    url: str  # absolute


def _squash(text: str) -> str:
    return "".join(text.split())


def _collapse(text: str) -> str:
    return " ".join(text.split())


def meta_content(root: HtmlElement, name: str) -> str | None:
    """The content of ``<meta name=NAME>`` (name compared case-insensitively), if not blank."""
    wanted = name.lower()
    for meta in root.iter("meta"):
        if (meta.get("name") or "").strip().lower() == wanted:
            content = _collapse(meta.get("content") or "")
            if content:
                return content
    return None


def _iso_date(year: str, month: str, day: str) -> str | None:
    try:
        return datetime.date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def url_date(url: str) -> str | None:
    """The publication date encoded in an article URL, if the CMS puts one there."""
    for pattern in _URL_DATES:
        match = pattern.search(url)
        if match:
            return _iso_date(*match.groups())
    return None


def labelled_date(page_text: str) -> str | None:
    """The first valid date after a 发布日期/发布时间 label; unlabelled dates are never used."""
    for match in _LABELLED_DATE.finditer(page_text):
        date = _iso_date(*match.groups())
        if date:
            return date
    return None


def find_published(root: HtmlElement, page_text: str, url: str) -> tuple[str | None, list[str]]:
    """Publication date (YYYY-MM-DD): meta PubDate, else the date label; the URL cross-checks."""
    warnings: list[str] = []
    page_date = None
    pub_meta = meta_content(root, "PubDate")
    if pub_meta:
        match = _BARE_DATE.search(pub_meta)
        page_date = _iso_date(*match.groups()) if match else None
    page_date = page_date or labelled_date(page_text)
    from_url = url_date(url)
    if page_date and from_url and page_date != from_url:
        warnings.append(
            f"page date {page_date} disagrees with the URL date {from_url}; kept the page date"
        )
    if page_date:
        return page_date, warnings
    if from_url:
        warnings.append(f"no publication date on the page; used the URL date {from_url}")
        return from_url, warnings
    return None, warnings


def find_source(root: HtmlElement, page_text: str) -> str | None:
    """The issuing body: meta ContentSource, else the first non-empty 信息来源 label value."""
    from_meta = meta_content(root, "ContentSource")
    if from_meta:
        return from_meta
    for label in _SOURCE_LABEL.finditer(page_text):
        rest = page_text[label.end() :]
        end = _SOURCE_END.search(rest)
        value = rest[: end.start() if end else len(rest)].strip(_SOURCE_PADDING)
        if value:
            return value
    return None


def _title_like(text: str, title_strip: Sequence[str]) -> bool:
    return (
        _TITLE_MIN_CHARS <= len(text) <= _TITLE_MAX_CHARS
        and not _BREADCRUMB.search(text)
        and text not in title_strip
        and not _LABELLED_DATE.search(text)
        and not _SOURCE_LABEL.search(text)
    )


def strip_title_words(title: str, title_strip: Sequence[str]) -> str:
    """Remove site and column words (and separators) from the start and end of a <title>.

    A word is removed only where a separator or the string's edge bounds it, so a title that
    merely begins with the site name ("山东省商务厅关于…") keeps it.
    """
    text = title.strip(_TITLE_SEPARATORS)
    changed = True
    while changed and text:
        changed = False
        for word in title_strip:
            if text.startswith(word) and (
                len(text) == len(word) or text[len(word)] in _TITLE_SEPARATORS
            ):
                text = text[len(word) :].strip(_TITLE_SEPARATORS)
                changed = True
            elif text.endswith(word) and (
                len(text) == len(word) or text[-len(word) - 1] in _TITLE_SEPARATORS
            ):
                text = text[: -len(word)].strip(_TITLE_SEPARATORS)
                changed = True
    return text


def _line_before_metadata_bar(page_lines: Sequence[str]) -> str | None:
    for index, line in enumerate(page_lines):
        if _LABELLED_DATE.search(line) or _SOURCE_LABEL.search(line):
            return page_lines[index - 1] if index else None
    return None


def _element_titles(root: HtmlElement) -> Iterator[str]:
    seen: set[str] = set()
    for selector in _TITLE_SELECTORS:
        for element in compile_css(selector)(root):
            text = _collapse(element.text_content())
            if text not in seen:
                seen.add(text)
                yield text


def find_title(
    root: HtmlElement, title_strip: Sequence[str], page_lines: Sequence[str]
) -> str | None:
    """Title from meta ArticleTitle, else the page's title element, else the stripped <title>.

    The title element is the line just before the metadata bar or an ``h1``/``.title``-like
    element; when the page has a <title>, a candidate must appear in it (the longest such wins),
    which keeps sidebar headings and banners out.
    """
    from_meta = meta_content(root, "ArticleTitle")
    if from_meta:
        return from_meta
    title_element = root.find(".//title")
    document_title = _collapse(title_element.text_content()) if title_element is not None else ""
    before_bar = _line_before_metadata_bar(page_lines)
    candidates = [
        text
        for text in ([before_bar] if before_bar else []) + list(_element_titles(root))
        if _title_like(text, title_strip)
    ]
    if document_title:
        squashed_title = _squash(document_title)
        in_title = [text for text in candidates if _squash(text) in squashed_title]
        if in_title:
            return max(in_title, key=lambda text: len(_squash(text)))
        stripped = strip_title_words(document_title, title_strip)
        if stripped:
            return stripped
    return candidates[0] if candidates else None


def is_attachment(href: str, scripts: Sequence[str] = ()) -> bool:
    """True for a link (absolute or relative) to a downloadable document rather than a page.

    *scripts* are download paths of the site's CMS (e.g. ``downfile.jsp``).
    """
    path = urlsplit(href).path.lower()
    return path.endswith(ATTACHMENT_SUFFIXES) or any(
        path.endswith(script.lower()) for script in scripts
    )


def _file_name(url: str) -> str:
    parts = urlsplit(url)
    for key in ("filename", "fileName", "name"):
        values = parse_qs(parts.query).get(key)
        if values and values[0].strip():
            return values[0].strip()
    return unquote(parts.path.rsplit("/", 1)[-1])


def _metadata_bar(root: HtmlElement) -> HtmlElement | None:
    """The first element whose own text carries the publication-date label."""
    for element in root.iter():
        if (
            isinstance(element.tag, str)
            and element.tag not in SILENT_TAGS
            and _DATE_LABEL.search(element.text or "")
        ):
            return element
    return None


def _document_order_from(anchor: HtmlElement) -> Iterator[HtmlElement]:
    """``anchor``, its descendants, then every element after it in document order."""
    yield from anchor.iter()
    node: HtmlElement | None = anchor
    while node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter()
        node = node.getparent()


def find_attachments(
    root: HtmlElement,
    url: str,
    end_markers: Sequence[str],
    *,
    anchor: HtmlElement | None = None,
    last: HtmlElement | None = None,
    scripts: Sequence[str] = (),
) -> tuple[Attachment, ...]:
    """File links of the article, from ``anchor`` through ``last`` and a little beyond.

    The scan stops at the first text holding an end marker (print bar, disclaimer, prev/next),
    and a few dozen elements after ``last``. Without an anchor it starts at the metadata bar
    (the page header's links are not the article's), or at the top of a page without one.
    Links are made absolute and deduplicated in page order.
    """
    if anchor is None:
        anchor = _metadata_bar(root)
    found: dict[str, Attachment] = {}
    after_body: int | None = None
    for element in _document_order_from(anchor if anchor is not None else root):
        if after_body is not None:
            after_body += 1
            if after_body > _ELEMENTS_AFTER_BODY:
                break
        if not isinstance(element.tag, str):
            continue
        if holds_end_marker((element.text or "").strip(), end_markers):
            break
        href = (element.get("href") or "").strip() if element.tag == "a" else ""
        if (
            href
            and not href.lower().startswith(("javascript:", "mailto:", "#"))
            and is_attachment(href, scripts)
        ):
            absolute = urljoin(url, href)
            if absolute not in found:
                name = _collapse(element.text_content()) or _collapse(element.get("title") or "")
                found[absolute] = Attachment(name or _file_name(absolute), absolute)
        if holds_end_marker((element.tail or "").strip(), end_markers):
            break
        if element is last:
            after_body = 0
    return tuple(found.values())
