"""Find the article body with the site's rules: select, prune, render, cut, validate."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from lxml.html import HtmlElement

from caseharvest.extract.rules import ExtractionRules, compile_css, parse_marker_range
from caseharvest.extract.structure import is_data_table, render_lines, visible_chars

logger = logging.getLogger(__name__)

# An end marker ends the body when it opens its line ("【打印本页】", "山东商务网版权与免责声明：…")
# or sits in a short line; deep inside a long paragraph it is ordinary prose ("…详见相关链接").
_END_MARKER_MAX_OFFSET = 12
_END_MARKER_SHORT_LINE = 40
# Breadcrumbs ("首页 > 政务公开 > …", "当前位置：…", or split by an extractor into "首页" and ">"
# lines) and the font-size switch of the metadata bar.
_CHROME_LINE = re.compile(
    r"^(?:首页|网站首页|当前位置|您的位置|您当前的位置)\s*(?:[>＞»:：]|$)"
    r"|^[>＞»|｜/\s]+$"
    r"|字体\s*[:：]?\s*【?\s*大"
)


@dataclass(frozen=True)
class BodyMatch:
    """Body text chosen by one selector, with where it sits in the page."""

    selector: str
    lines: tuple[str, ...]
    # First element of the article in document order, where the attachment scan starts.
    anchor: HtmlElement
    # Last element of the article in document order ("just after it" is counted from here).
    last: HtmlElement


@dataclass(frozen=True)
class BodySelection:
    """Outcome of trying every body selector in order."""

    accepted: BodyMatch | None
    # Leak-free but shorter than min_body_chars: the page may really be that short.
    short: BodyMatch | None
    # Why selectors were passed over, for the warning of a fallback.
    rejections: tuple[str, ...]


def holds_end_marker(line: str, end_markers: Sequence[str]) -> bool:
    """True when ``line`` is where the article ends (print bar, disclaimer, prev/next links…)."""
    for marker in end_markers:
        position = line.find(marker)
        if position >= 0 and (
            position <= _END_MARKER_MAX_OFFSET or len(line) <= _END_MARKER_SHORT_LINE
        ):
            return True
    return False


def cut_at_end_markers(lines: Sequence[str], end_markers: Sequence[str]) -> list[str]:
    """Drop the first line that holds an end marker and everything after it."""
    for index, line in enumerate(lines):
        if holds_end_marker(line, end_markers):
            return list(lines[:index])
    return list(lines)


def find_leaks(lines: Sequence[str], leak_markers: Sequence[str]) -> tuple[str, ...]:
    """The leak markers (page chrome words) present in ``lines``, in rule order."""
    text = "\n".join(lines)
    return tuple(marker for marker in leak_markers if marker in text)


def strip_chrome_lines(
    lines: Sequence[str], leak_markers: Sequence[str], title: str | None
) -> tuple[list[str], int]:
    """Drop metadata-bar, breadcrumb and repeated-title lines; return (kept, number dropped)."""
    squashed_title = "".join(title.split()) if title else None
    kept = [
        line
        for line in lines
        if not (
            any(marker in line for marker in leak_markers)
            or _CHROME_LINE.search(line)
            or (squashed_title and "".join(line.split()) == squashed_title)
        )
    ]
    return kept, len(lines) - len(kept)


@functools.lru_cache(maxsize=32)
def _metadata_label(leak_markers: tuple[str, ...]) -> re.Pattern[str]:
    labels = "|".join(re.escape("".join(marker.split())) for marker in leak_markers)
    return re.compile(f"^(?:{labels})[:：]")


def metadata_tables(container: HtmlElement, leak_markers: tuple[str, ...]) -> list[HtmlElement]:
    """Label/value grids of page metadata (索引号：…, 发布机构：…, 成文日期：…) in the container.

    Government-disclosure templates put this grid at the top of the body container; a data
    table holding a cell labelled with a leak marker and a colon is that grid, not content.
    """
    label = _metadata_label(leak_markers)
    return [
        table
        for table in container.iter("table")
        if is_data_table(table)
        and any(
            label.match("".join(cell.text_content().split())) for cell in table.iter("td", "th")
        )
    ]


def _pruned(container: HtmlElement, rules: ExtractionRules) -> set[HtmlElement]:
    pruned: set[HtmlElement] = set(metadata_tables(container, rules.leak_markers))
    for selector in rules.prune_selectors:
        pruned.update(compile_css(selector)(container))
    return pruned


def _common_ancestor(first: HtmlElement, second: HtmlElement) -> HtmlElement:
    ancestors = set(first.iterancestors())
    for ancestor in second.iterancestors():
        if ancestor in ancestors:
            return ancestor
    return first.getroottree().getroot()


def _last_descendant(element: HtmlElement) -> HtmlElement:
    while len(element):
        element = element[-1]
    return element


@dataclass(frozen=True)
class _Region:
    container: HtmlElement
    start: HtmlElement | None
    end: HtmlElement | None


def _regions(root: HtmlElement, selector: str) -> Iterator[_Region]:
    marker_range = parse_marker_range(selector)
    if marker_range is None:
        for element in compile_css(selector)(root):
            yield _Region(element, None, None)
        return
    start_name, end_name = marker_range.start.lower(), marker_range.end.lower()
    start: HtmlElement | None = None
    for meta in root.iter("meta"):
        name = (meta.get("name") or "").strip().lower()
        if start is None and name == start_name:
            start = meta
        elif start is not None and name == end_name:
            yield _Region(_common_ancestor(start, meta), start, meta)
            return


def select_body(root: HtmlElement, rules: ExtractionRules) -> BodySelection:
    """Try the body selectors in order; the first region with enough leak-free text wins.

    A region is pruned, rendered to lines and cut at the end markers before it is measured. A
    region that leaks page chrome disqualifies its selector and the next selector is tried.
    """
    rejections: list[str] = []
    short: BodyMatch | None = None
    for selector in rules.body_selectors:
        matched = False
        for region in _regions(root, selector):
            matched = True
            lines = render_lines(
                region.container,
                skip=_pruned(region.container, rules),
                start=region.start,
                end=region.end,
            )
            lines = cut_at_end_markers(lines, rules.end_markers)
            match = BodyMatch(
                selector=selector,
                lines=tuple(lines),
                anchor=region.start if region.start is not None else region.container,
                last=region.end if region.end is not None else _last_descendant(region.container),
            )
            leaks = find_leaks(lines, rules.leak_markers)
            if leaks:
                rejections.append(f"{selector} holds page chrome ({', '.join(leaks)})")
                break
            if visible_chars(lines) >= rules.min_body_chars:
                logger.debug("body selected by %s: %d lines", selector, len(lines))
                return BodySelection(match, short, tuple(rejections))
            if short is None or visible_chars(lines) > visible_chars(short.lines):
                short = match
        else:
            if matched:
                rejections.append(f"{selector} holds under {rules.min_body_chars} characters")
    return BodySelection(None, short, tuple(rejections))
