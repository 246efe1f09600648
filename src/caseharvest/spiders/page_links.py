"""Links a page needs archived with it: page requisites and attachments."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

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
# Hanweb serves uploaded files through this JSP, the real name in its `filename` parameter.
ATTACHMENT_PATHS = ("/module/download/downfile.jsp",)

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]+)\1""", re.IGNORECASE)


def is_attachment(url: str) -> bool:
    """True for a link to a downloadable document rather than a page."""
    parts = urlsplit(url)
    path = parts.path.lower()
    return path.endswith(ATTACHMENT_SUFFIXES) or path in ATTACHMENT_PATHS


def _usable(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def page_requisites(page: str, base_url: str) -> list[str]:
    """Scripts, stylesheets, icons and images a browser loads to show *page*, in page order."""
    doc = lxml.html.document_fromstring(page)
    base = doc.find(".//base[@href]")
    base_url = urljoin(base_url, base.get("href")) if base is not None else base_url
    found: list[str] = []
    for element in doc.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        refs: list[str] = []
        if tag in ("script", "img", "iframe", "embed", "source") or (
            tag == "input" and (element.get("type") or "").lower() == "image"
        ):
            refs.append(element.get("src") or "")
        elif tag == "link":
            rel = (element.get("rel") or "").lower().split()
            if {"stylesheet", "icon", "shortcut", "apple-touch-icon"} & set(rel):
                refs.append(element.get("href") or "")
        if element.get("background"):
            refs.append(element.get("background") or "")
        if element.get("style"):
            refs.extend(match[1] for match in _CSS_URL.findall(element.get("style") or ""))
        if tag == "style":
            refs.extend(css_references(element.text or "", base_url))
        for ref in refs:
            ref = ref.strip()
            if ref and not ref.startswith(("data:", "javascript:", "#")):
                found.append(urljoin(base_url, ref))
    return [url for url in dict.fromkeys(found) if _usable(url)]


def css_references(css: str, base_url: str) -> list[str]:
    """Images, fonts and imported stylesheets a stylesheet refers to."""
    refs = [match[1] for match in _CSS_IMPORT.findall(css)]
    refs += [match[1] for match in _CSS_URL.findall(css)]
    urls = (
        urljoin(base_url, ref.strip()) for ref in refs if not ref.strip().startswith(("data:", "#"))
    )
    return [url for url in dict.fromkeys(urls) if _usable(url)]


def attachment_links(page: str, base_url: str) -> list[tuple[str, str]]:
    """(link text, absolute URL) of every attachment linked from *page*, deduplicated."""
    doc = lxml.html.document_fromstring(page)
    links: dict[str, str] = {}
    for anchor in doc.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if _usable(url) and is_attachment(url) and url not in links:
            links[url] = anchor.text_content().strip() or anchor.get("title") or url
    return [(name, url) for url, name in links.items()]
