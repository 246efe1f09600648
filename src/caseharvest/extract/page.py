"""One article page in, clean text and metadata out: rules first, a guarded fallback second."""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from caseharvest.extract.body import (
    BodyMatch,
    cut_at_end_markers,
    metadata_tables,
    select_body,
    strip_chrome_lines,
)
from caseharvest.extract.decoding import decode_document
from caseharvest.extract.metadata import (
    Attachment,
    find_attachments,
    find_published,
    find_source,
    find_title,
)
from caseharvest.extract.page_links import PageLinks, links_of
from caseharvest.extract.rules import ExtractionRules, compile_css
from caseharvest.extract.structure import (
    clean_line,
    is_data_table,
    render_lines,
    table_rows,
    visible_chars,
)

logger = logging.getLogger(__name__)

# lxml refuses str input that still carries an encoding declaration; the text is decoded already.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)

# Tried in this order; tables are kept in all of them (dropping them deletes real data tables).
# Each is (name, favor_recall, favor_precision).
_FALLBACK_VARIANTS: tuple[tuple[str, bool, bool], ...] = (
    ("trafilatura", False, False),
    ("trafilatura-recall", True, False),
    ("trafilatura-precision", False, True),
)
# Each chrome line a variant let through is evidence of more chrome no rule recognises.
_CHROME_LINE_PENALTY = 20


@dataclass(frozen=True)
class ExtractedPage:
    """Clean body text and metadata of one article page."""

    text: str  # lines joined with "\n", no trailing newline
    title: str | None
    published: str | None  # YYYY-MM-DD
    source: str | None
    attachments: tuple[Attachment, ...]
    method: str  # "profile:<selector>" or "fallback:<variant>"
    confidence: str  # "high" | "low"
    encoding: str
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _FallbackResult:
    variant: str
    lines: tuple[str, ...]
    score: int


def _parse(markup: str) -> HtmlElement | None:
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        root: HtmlElement = lxml.html.document_fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def _blocks_for_layout_tables(root: HtmlElement, rules: ExtractionRules) -> HtmlElement:
    """A pruned copy of the page whose layout tables are plain blocks; data tables stay tables
    (except the metadata grid of disclosure pages, which goes with the pruned elements).

    trafilatura reads nested layout tables as one table row: the body comes out reordered
    behind the print bar and disclaimer, and headings merge into paragraphs.
    """
    page = copy.deepcopy(root)
    layout = [table for table in page.iter("table") if not is_data_table(table)]
    for table in layout:
        for row in table_rows(table):
            for cell in row.iterchildren("td", "th"):
                cell.tag = "div"
            row.tag = "div"
        for part in table.iterchildren("tbody", "thead", "tfoot", "caption"):
            part.tag = "div"
        table.tag = "div"
    pruned = metadata_tables(page, rules.leak_markers)
    for selector in rules.prune_selectors:
        pruned.extend(compile_css(selector)(page))
    for element in pruned:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent
    return page


def _from_text_table(line: str) -> str | None:
    """trafilatura's "| a | b |" table row as tab-joined cells; None for a separator row."""
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    if all(set(cell) <= set("-: ") for cell in cells):
        return None
    return "\t".join(cells)


def _variant_lines(raw: str) -> list[str]:
    lines = []
    for raw_line in raw.splitlines():
        line = clean_line(raw_line)
        if len(line) > 1 and line.startswith("|") and line.endswith("|"):
            row = _from_text_table(line)
            line = row if row is not None else ""
        if line:
            lines.append(line)
    return lines


def _fallback(
    root: HtmlElement, url: str, rules: ExtractionRules, title: str | None
) -> _FallbackResult | None:
    """Run every trafilatura variant on the whole page and keep the best.

    Each output is cut at the end markers and stripped of chrome lines; its score is the
    number of characters left minus a penalty for every chrome line that had to be removed.
    """
    # Imported here: only pages no profile rule fits need it, and it is a tenth of a second
    # of every crawl's start-up.
    import trafilatura

    prepared = _blocks_for_layout_tables(root, rules)
    best: _FallbackResult | None = None
    for variant, favor_recall, favor_precision in _FALLBACK_VARIANTS:
        raw = trafilatura.extract(
            copy.deepcopy(prepared),  # trafilatura cleans the tree it is given in place
            url=url,
            output_format="txt",
            include_tables=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            deduplicate=False,
            favor_recall=favor_recall,
            favor_precision=favor_precision,
        )
        if not raw:
            continue
        lines = cut_at_end_markers(_variant_lines(raw), rules.end_markers)
        kept, removed = strip_chrome_lines(lines, rules.leak_markers, title)
        score = visible_chars(kept) - _CHROME_LINE_PENALTY * removed
        logger.debug(
            "fallback %s: %d chars kept, %d chrome lines, score %d",
            variant,
            visible_chars(kept),
            removed,
            score,
        )
        if kept and (best is None or score > best.score):
            best = _FallbackResult(variant, tuple(kept), score)
    return best


def _contains(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
    """True when the text of ``inner`` is non-empty and appears in ``outer``, spacing aside."""
    needle = "".join("".join(inner).split())
    return bool(needle) and needle in "".join("".join(outer).split())


def _empty_page(encoding: str, warnings: list[str]) -> ExtractedPage:
    return ExtractedPage("", None, None, None, (), "none", "low", encoding, tuple(warnings))


def extract_page(
    body: bytes,
    url: str,
    *,
    rules: ExtractionRules = ExtractionRules(),  # noqa: B008 - frozen and hashable, safe to share
    content_type: str | None = None,
) -> ExtractedPage:
    """Extract the clean body text and metadata of an article page from its raw bytes.

    The body comes from the first rule selector giving enough leak-free text
    (``confidence="high"``); otherwise from the best trafilatura variant on the whole page
    (``confidence="low"``, with a warning saying why).
    """
    page = read_page(body, url, rules=rules, content_type=content_type, links=False).page
    assert page is not None  # extraction was asked for
    return page


@dataclass(frozen=True)
class ReadPage:
    """What one parse of a case page gives: its links and, when asked for, its extraction."""

    links: PageLinks
    page: ExtractedPage | None  # None when extraction was not asked for
    document: bool = True  # False: the body parses to no HTML document at all


_NO_LINKS = PageLinks(requisites=(), attachments=())


def read_page(
    body: bytes,
    url: str,
    *,
    rules: ExtractionRules = ExtractionRules(),  # noqa: B008 - frozen and hashable, safe to share
    content_type: str | None = None,
    links: bool = True,
    extract: bool = True,
) -> ReadPage:
    """Decode and parse *body* once: the links it needs archived (with *links*) and the
    extracted page (with *extract*). A crawl needs both of every case page it has not seen;
    parsing twice was a tenth of its time.
    """
    decoded = decode_document(body, content_type)
    warnings = list(decoded.warnings)
    markup = _XML_DECLARATION.sub("", decoded.text, count=1)
    root = _parse(markup)
    if root is None:
        warnings.append("the document holds no HTML")
        page = _empty_page(decoded.encoding, warnings) if extract else None
        return ReadPage(_NO_LINKS, page, document=False)
    # Before extraction: the links are read from the page as served.
    found = links_of(root, url, rules.attachment_paths) if links else _NO_LINKS
    if not extract:
        return ReadPage(found, None)
    return ReadPage(found, _extracted(root, url, rules, decoded.encoding, warnings))


def _extracted(
    root: HtmlElement, url: str, rules: ExtractionRules, encoding: str, warnings: list[str]
) -> ExtractedPage:
    page_lines = render_lines(root)
    page_text = "\n".join(page_lines)
    title = find_title(root, rules.title_strip, page_lines)
    published, date_warnings = find_published(root, page_text, url)
    warnings.extend(date_warnings)
    source = find_source(root, page_text)

    selection = select_body(root, rules)
    chosen: BodyMatch | None = selection.accepted
    confidence = "high"
    if chosen is not None:
        lines = chosen.lines
        method = f"profile:{chosen.selector}"
    else:
        reason = "; ".join(selection.rejections) or "no body selector matched"
        confidence = "low"
        result = _fallback(root, url, rules, title)
        if selection.short is not None and (
            result is None or _contains(result.lines, selection.short.lines)
        ):
            # The page is simply short (an attachment and a caption): the fallback found the
            # same text and only added what surrounds the rule's container, which is chrome.
            chosen = selection.short
            lines = chosen.lines
            method = f"profile:{chosen.selector}"
            warnings.append(f"{reason}; the fallback found nothing else, kept the short body")
        elif result is not None and visible_chars(result.lines) >= rules.min_body_chars:
            lines = result.lines
            method = f"fallback:{result.variant}"
            warnings.append(f"{reason}; used fallback {result.variant}")
        else:
            lines = result.lines if result is not None else ()
            method = f"fallback:{result.variant}" if result is not None else "none"
            warnings.append(f"{reason}; fallback found {'little' if lines else 'no'} text")
        logger.info("low-confidence extraction of %s: %s", url, warnings[-1])

    attachments = find_attachments(
        root,
        url,
        rules.end_markers,
        anchor=chosen.anchor if chosen is not None else None,
        last=chosen.last if chosen is not None else None,
        scripts=rules.attachment_paths,
    )
    return ExtractedPage(
        text="\n".join(lines),
        title=title,
        published=published,
        source=source,
        attachments=attachments,
        method=method,
        confidence=confidence,
        encoding=encoding,
        warnings=tuple(warnings),
    )
