"""Listing records from the items of an HTML list: the link, its full title and its date.

Shared by the listing sources of families whose lists are plain HTML (TRS, NFCMS, the jpaas
unit HTML, Hanweb's server-rendered pages, the generic list).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import lxml.html
from lxml.html import HtmlElement

from caseharvest.model import ListingRecord

# 2026-08-28, 2026/08/28, 2026.8.28, 2026年8月28日, [2026-08-28]
DATE = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
# Anchor texts cut short by the CMS end in one of these; the full title is in ``title=``.
_TRUNCATION = ("...", "…", "..")
_ITEM_TAGS = ("li", "tr", "dd", "dt", "p")


def iso_date(text: str) -> str | None:
    """The first date in *text* as YYYY-MM-DD, or None."""
    for found in DATE.finditer(text):
        year, month, day = int(found[1]), int(found[2]), int(found[3])
        if 1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def parse_html(text: str) -> HtmlElement:
    """A document (or fragment) as an lxml tree; an empty text gives an empty ``<div>``."""
    if not text.strip():
        return lxml.html.fragment_fromstring("<div></div>")
    return lxml.html.document_fromstring(text)


def item_of(anchor: HtmlElement) -> HtmlElement:
    """The list item an anchor sits in (its ``li``/``tr``…), else its parent."""
    node: HtmlElement | None = anchor
    while node is not None:
        if node.tag in _ITEM_TAGS:
            return node
        node = node.getparent()
    parent = anchor.getparent()
    return parent if parent is not None else anchor


def anchor_title(anchor: HtmlElement) -> str:
    """The full title of an item: ``title=`` when the text is cut short or absent."""
    title = " ".join((anchor.get("title") or "").split())
    # The anchor may hold the date too (Fujian puts a date span inside the <a>).
    shown = " ".join(
        (anchor.text or "").split()
        + [part for child in anchor for part in (child.tail or "").split()]
    )
    if not shown:
        shown = " ".join(anchor.text_content().split())
    if title and (not shown or shown.endswith(_TRUNCATION) or len(title) >= len(shown)):
        return html.unescape(title)
    return shown.rstrip(".…") if shown.endswith(_TRUNCATION) else shown


def anchor_date(anchor: HtmlElement) -> str | None:
    """The date shown with an item: in its list item, else in the anchor's own text."""
    return iso_date(item_of(anchor).text_content()) or iso_date(anchor.text_content())


def records_from_links(
    root: HtmlElement, base_url: str, accept: Callable[[str], bool]
) -> tuple[ListingRecord, ...]:
    """One record per distinct accepted link, in page order (hrefs made absolute)."""
    root.make_links_absolute(base_url, resolve_base_href=True, handle_failures="discard")
    records: list[ListingRecord] = []
    seen: set[str] = set()
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:")):
            continue
        url = href.split("#", 1)[0]
        if url in seen or not accept(url):
            continue
        seen.add(url)
        records.append(ListingRecord(url, anchor_title(anchor), anchor_date(anchor)))
    return tuple(records)
