"""What the case (article) URLs of each CMS family look like, and the case key each gives.

A key is made from the URL alone (the site's name aside), never from the column that listed
it: a crawl and a later ``replay`` of its WARC files, which has no listing, must give a case
the same key. Where a family's URLs name their column, the key takes that column; where they
do not (gkmlpt), a fixed name stands for the platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urldefrag, urlsplit

from caseharvest.model import CaseKey

# TRS WCM: ``…/<column>/YYYYMM/tYYYYMMDD_<docid>.htm|html|shtml``. Page 2+ of a long article
# (``_1``) and the elder-mode twin (``_zzb``) are views of the same case, not cases.
TRS_ARTICLE = re.compile(
    r"/(?P<column>[^/]+)/\d{6}/t\d{8}_(?P<article>\d+)\.s?html?$", re.IGNORECASE
)
# Hanweb JCMS classic (and old jpaas articles): ``/art/YYYY/M/D/art_<column>_<id>.html``.
HANWEB_ARTICLE = re.compile(r"/art_(?P<column>\d+)_(?P<article>\d+)\.html?$")
# Hanweb jpaas: ``/col/col<column>/art/YYYY/art_<32 hex>.html``.
JPAAS_ARTICLE = re.compile(
    r"/col/col(?P<column>\d+)/art/\d{4}/art_(?P<article>[0-9a-f]{32})\.html$", re.IGNORECASE
)
# Guangdong gov-cloud NFCMS: ``/<section>/<column>/content/post_<id>.html``.
NFCMS_ARTICLE = re.compile(r"/(?P<column>[^/]+)/content/(?:m{0,2})post_(?P<article>\d+)\.html$")
# Guangdong gkmlpt: ``/gkmlpt/content/<id//1e6>/<id//1e3>/post_<id>.html`` (also m/mm views).
GKMLPT_ARTICLE = re.compile(r"/gkmlpt/content/\d+/\d+/(?:m{0,2})post_(?P<article>\d+)\.html$")
GKMLPT_COLUMN = "gkmlpt"  # gkmlpt post URLs name no category: one key column for the platform

_SAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _path(url: str) -> str:
    return urlsplit(urldefrag(url)[0]).path


def safe_id(text: str) -> str:
    """*text* as a key part: letters, digits, ``_`` and ``.`` only (it names files)."""
    return _SAFE.sub("_", text).strip("_.") or "_"


def trs_case(site: str, url: str) -> CaseKey | None:
    """A TRS WCM article."""
    match = TRS_ARTICLE.search(_path(url))
    return CaseKey(site, safe_id(match["column"]), match["article"]) if match else None


def hanweb_case(site: str, url: str) -> CaseKey | None:
    """A Hanweb classic article (the column its URL names)."""
    match = HANWEB_ARTICLE.search(_path(url))
    return CaseKey(site, match["column"], match["article"]) if match else None


def jpaas_case(site: str, url: str) -> CaseKey | None:
    """A jpaas article, new shape or the old Hanweb one."""
    match = JPAAS_ARTICLE.search(_path(url))
    if match:
        return CaseKey(site, match["column"], match["article"].lower())
    return hanweb_case(site, url)


def nfcms_case(site: str, url: str) -> CaseKey | None:
    """A Guangdong NFCMS post."""
    path = _path(url)
    if path.startswith("/gkmlpt/"):
        return None
    match = NFCMS_ARTICLE.search(path)
    return CaseKey(site, safe_id(match["column"]), match["article"]) if match else None


def gkmlpt_case(site: str, url: str) -> CaseKey | None:
    """A Guangdong gkmlpt post."""
    match = GKMLPT_ARTICLE.search(_path(url))
    return CaseKey(site, GKMLPT_COLUMN, match["article"]) if match else None


# Every family's shape, tried in this order (the shapes do not overlap).
KNOWN_SHAPES: tuple[Callable[[str, str], CaseKey | None], ...] = (
    jpaas_case,  # includes the Hanweb classic shape
    trs_case,
    gkmlpt_case,
    nfcms_case,
)


def any_family_case(site: str, url: str) -> CaseKey | None:
    """The key of *url* when it has the article shape of any known family."""
    for shape in KNOWN_SHAPES:
        key = shape(site, url)
        if key is not None:
            return key
    return None
