"""Which CMS family serves a column page: fingerprints read from the page and its URL.

Each family is recognised by what its pages carry (see README "Sites"): the gkmlpt app's
``window._CONFIG`` tree, jpaas ``unitbuild.js`` units, Hanweb's ``jpage`` call and
``<datastore>``, the Guangdong gov cloud's ``NFCMS_SITE_ID`` and ``/content/post_`` links,
TRS's ``createPageHTML``/``countPage`` pager and ``tYYYYMMDD_ID`` links. ``TRS_Editor`` alone is
no fingerprint (Hanweb pages embed it too). A page of none of them is left to the generic list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from caseharvest.listings.case_shapes import (
    GKMLPT_ARTICLE,
    HANWEB_ARTICLE,
    NFCMS_ARTICLE,
    TRS_ARTICLE,
)


@dataclass(frozen=True)
class Family:
    """A recognised family: its listing style, a name for people, and what gave it away."""

    style: str
    name: str
    evidence: str


FAMILY_NAMES = {
    "trs-static": "TRS WCM static publishing",
    "hanweb-jpage": "Hanweb JCMS classic (jpage)",
    "hanweb-jpaas": "Hanweb jpaas page-building units",
    "gd-nfcms": "Guangdong gov cloud (NFCMS column)",
    "gd-gkmlpt": "Guangdong gov cloud (gkmlpt platform)",
    "generic": "no known family (generic list)",
}

_HREF = re.compile(r"""href\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def _links_like(text: str, shape: re.Pattern[str]) -> int:
    return sum(1 for href in _HREF.findall(text) if shape.search(href.split("?", 1)[0]))


def _family(style: str, evidence: str) -> Family:
    return Family(style, FAMILY_NAMES[style], evidence)


def recognize(text: str, url: str) -> Family:
    """The family of the column page *text* served at *url* (``generic`` when none fits)."""
    path = urlsplit(url).path
    if "window._CONFIG" in text and re.search(r"\bTREE\s*:", text):
        return _family("gd-gkmlpt", "window._CONFIG with a TREE of categories")
    if path.startswith("/gkmlpt/"):
        return _family("gd-gkmlpt", "a /gkmlpt/ URL")
    if "unitbuild.js" in text and re.search(r"querydata\s*=", text, re.IGNORECASE):
        return _family("hanweb-jpaas", "unitbuild.js units with queryData")
    if re.search(r"\bjpage\s*\(\s*\{", text) and "<datastore" in text.lower():
        return _family("hanweb-jpage", "a jpage({...}) call and an embedded <datastore>")
    if re.search(r"[?&]uid=\d+&(?:amp;)?pageNum=\d+", text) and _links_like(text, HANWEB_ARTICLE):
        return _family("hanweb-jpage", "?uid=&pageNum= pages listing /art/…/art_C_ID.html")
    if "NFCMS_SITE_ID" in text or _links_like(text, NFCMS_ARTICLE) >= 2:
        return _family("gd-nfcms", "NFCMS_SITE_ID or /content/post_ID.html links")
    if re.search(r"createPageHTML\s*\(\s*\d+", text):
        return _family("trs-static", "a createPageHTML(count, current, name, ext) pager")
    if re.search(r"var\s+countPage\s*=\s*\d+", text):
        return _family("trs-static", "a countPage pager script")
    if _links_like(text, TRS_ARTICLE) >= 2:
        return _family("trs-static", "./YYYYMM/tYYYYMMDD_ID links")
    if _links_like(text, GKMLPT_ARTICLE) >= 2:
        return _family("gd-gkmlpt", "gkmlpt post links")
    return _family("generic", "no family fingerprint on the page")
