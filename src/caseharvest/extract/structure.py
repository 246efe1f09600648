"""Render an HTML subtree as text lines the way a reader sees it: one block, one line."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from lxml.html import HtmlElement

# Elements that start and end a line. Table parts are here too: a layout table is read as blocks.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# Never shown to a reader, whatever the rules prune.
SILENT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "object"})
# Inside a cell these tags mean paragraphs: several of them make the cell "block content".
_PARAGRAPH_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre"}
)
# A data-table cell holds short text: a label, a number, a name, a sentence or two.
_MAX_DATA_CELL_CHARS = 300
_MAX_DATA_CELL_PARAGRAPHS = 3

_INLINE_SPACE = re.compile(r"[ \t\r\n\f\v]+")
# Indents and trailing padding: any Unicode space (U+3000, U+00A0 …), zero-width marks, and the
# literal "&nbsp;" that double-escaped pages show as text.
_EDGE_PADDING = re.compile(
    r"^(?:[\s\u200b\u200c\u200d\ufeff]|&nbsp;?)+|(?:[\s\u200b\u200c\u200d\ufeff]|&nbsp;?)+$"
)


def clean_line(raw: str) -> str:
    """Collapse source whitespace inside a line and strip padding from both ends."""
    return _EDGE_PADDING.sub("", _INLINE_SPACE.sub(" ", raw))


def visible_chars(lines: Iterable[str]) -> int:
    """Number of non-whitespace characters, the measure of how much text a body holds."""
    return sum(len("".join(line.split())) for line in lines)


class _LineSink:
    """Collects inline text and turns it into finished lines at block boundaries."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._parts: list[str] = []

    def add_text(self, text: str) -> None:
        self._parts.append(text)

    def add_line(self, line: str) -> None:
        self.break_line()
        self.lines.append(line)

    def break_line(self) -> None:
        if self._parts:
            line = clean_line("".join(self._parts))
            self._parts.clear()
            if line:
                self.lines.append(line)


class _Renderer:
    """One walk over a subtree; ``start``/``end`` bound a marker range (exclusive) when given."""

    def __init__(
        self, skip: Collection[HtmlElement], start: HtmlElement | None, end: HtmlElement | None
    ) -> None:
        self._skip = skip
        self._start = start
        self._end = end
        self._active = start is None
        self._preformatted = 0
        self.stopped = False

    def _add_text(self, text: str, sink: _LineSink) -> None:
        if not self._active:
            return
        if not self._preformatted:
            sink.add_text(text)
            return
        # Inside <pre> a source newline is a line break the reader sees.
        first, *rest = text.split("\n")
        sink.add_text(first)
        for line in rest:
            sink.break_line()
            sink.add_text(line)

    def render(self, element: HtmlElement, sink: _LineSink) -> None:
        tag = element.tag
        if not isinstance(tag, str):  # comments and processing instructions: only their tail counts
            return
        if element is self._end:
            self.stopped = True
            return
        if element is self._start:
            self._active = True
            return
        if element in self._skip or tag in SILENT_TAGS:
            return
        if tag == "br":
            sink.break_line()
            return
        if tag == "table" and is_data_table(element):
            self._render_data_table(element, sink)
            return
        block = tag in BLOCK_TAGS
        if block:
            sink.break_line()
        preformatted = tag == "pre"
        self._preformatted += preformatted
        if element.text:
            self._add_text(element.text, sink)
        for child in element:
            self.render(child, sink)
            if self.stopped:
                return
            if child.tail:
                self._add_text(child.tail, sink)
        self._preformatted -= preformatted
        if block:
            sink.break_line()

    def _render_data_table(self, table: HtmlElement, sink: _LineSink) -> None:
        sink.break_line()
        for caption in table.iterchildren("caption"):
            self.render(caption, sink)
        for row in table_rows(table):
            cells = []
            for cell in row.iterchildren("td", "th"):
                cell_sink = _LineSink()
                self.render(cell, cell_sink)
                cell_sink.break_line()
                cells.append(" ".join(cell_sink.lines))
                if self.stopped:
                    break
            if any(cells):
                sink.add_line("\t".join(cells))
            if self.stopped:
                return
        sink.break_line()


def table_rows(table: HtmlElement) -> list[HtmlElement]:
    """The rows of ``table`` itself (directly or in tbody/thead/tfoot), not of nested tables."""
    rows: list[HtmlElement] = table.xpath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
    return rows


def is_data_table(table: HtmlElement) -> bool:
    """True for a grid of short cells; False for a layout table whose cells hold page blocks."""
    if table.find(".//table") is not None:
        return False
    widest = 0
    for row in table_rows(table):
        cells = list(row.iterchildren("td", "th"))
        widest = max(widest, len(cells))
        for cell in cells:
            if len("".join(cell.text_content().split())) > _MAX_DATA_CELL_CHARS:
                return False
            paragraphs = sum(
                1
                for node in cell.iterdescendants()
                if node.tag in _PARAGRAPH_TAGS and node.text_content().strip()
            )
            if paragraphs > _MAX_DATA_CELL_PARAGRAPHS:
                return False
    # A one-column table is a frame around blocks, not a grid.
    return widest >= 2


def render_lines(
    root: HtmlElement,
    *,
    skip: Collection[HtmlElement] = frozenset(),
    start: HtmlElement | None = None,
    end: HtmlElement | None = None,
) -> list[str]:
    """Lines of text under ``root``: paragraphs, headings and ``<br>`` segments each on a line,
    data-table rows as tab-joined cells. ``skip`` elements are left out with their content;
    ``start``/``end`` (descendants of ``root``) limit the text to what lies between them."""
    sink = _LineSink()
    _Renderer(skip, start, end).render(root, sink)
    sink.break_line()
    return sink.lines
