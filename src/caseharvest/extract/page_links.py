"""Links a page needs archived with it: page requisites and attachments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import lxml.html

from caseharvest.extract.metadata import is_attachment

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]+)\1""", re.IGNORECASE)


def _usable(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


@dataclass(frozen=True)
class PageLinks:
    """What a page needs archived with it, from one parse of the page."""

    requisites: tuple[str, ...]  # scripts, stylesheets, icons, images, in page order
    attachments: tuple[tuple[str, str], ...]  # (link text, absolute URL), deduplicated


# One XPath pass (in C) instead of visiting every element in Python: case pages are many.
_REQUISITE_REFS = (
    "//script/@src | //img/@src | //iframe/@src | //embed/@src | //source/@src"
    " | //input[translate(@type, 'IMAGE', 'image') = 'image']/@src"
    " | //link[contains(concat(' ', translate(@rel, 'STYLESHICON', 'styleshicon'), ' '),"
    " ' stylesheet ') or contains(translate(@rel, 'ICON', 'icon'), 'icon')]/@href"
    " | //*[@background]/@background"
)


def page_links(page: str, base_url: str, scripts: Sequence[str] = ()) -> PageLinks:
    """The requisites a browser loads to show *page*, and the attachments it links to.

    *scripts* are the site's download paths (``ExtractionRules.attachment_paths``).
    """
    return links_of(lxml.html.document_fromstring(page), base_url, scripts)


def links_of(doc: lxml.html.HtmlElement, base_url: str, scripts: Sequence[str] = ()) -> PageLinks:
    """:func:`page_links` of a page already parsed (left unchanged)."""
    bases = doc.xpath("//base/@href")
    base_url = urljoin(base_url, bases[0]) if bases else base_url
    refs: list[str] = [str(ref) for ref in doc.xpath(_REQUISITE_REFS)]
    for style in doc.xpath("//*/@style"):
        refs.extend(match[1] for match in _CSS_URL.findall(style))
    for sheet in doc.xpath("//style/text()"):
        refs.extend(css_references(sheet, base_url))
    found = [
        urljoin(base_url, ref.strip())
        for ref in refs
        if ref.strip() and not ref.strip().startswith(("data:", "javascript:", "#"))
    ]
    attachments: dict[str, str] = {}
    for anchor in doc.xpath("//a[@href]"):
        _attachment(anchor, base_url, attachments, scripts)
    return PageLinks(
        requisites=tuple(url for url in dict.fromkeys(found) if _usable(url)),
        attachments=tuple((name, url) for url, name in attachments.items()),
    )


def _attachment(
    anchor: lxml.html.HtmlElement, base_url: str, found: dict[str, str], scripts: Sequence[str]
) -> None:
    href = (anchor.get("href") or "").strip()
    if (
        not href
        or href.startswith(("javascript:", "#", "mailto:"))
        or not is_attachment(href, scripts)
    ):
        return
    url = urljoin(base_url, href)
    if _usable(url) and is_attachment(url, scripts) and url not in found:
        found[url] = anchor.text_content().strip() or anchor.get("title") or url


def css_references(css: str, base_url: str) -> list[str]:
    """Images, fonts and imported stylesheets a stylesheet refers to."""
    refs = [match[1] for match in _CSS_IMPORT.findall(css)]
    refs += [match[1] for match in _CSS_URL.findall(css)]
    urls = (
        urljoin(base_url, ref.strip()) for ref in refs if not ref.strip().startswith(("data:", "#"))
    )
    return [url for url in dict.fromkeys(urls) if _usable(url)]
