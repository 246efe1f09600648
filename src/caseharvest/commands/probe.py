"""`caseharvest probe` and `caseharvest extract`: look at one column or one page, archive nothing.

``probe`` fetches a column page, recognises its CMS family, reads the first listing page the
way the crawl would (through the family's listing source), extracts one sample case and
writes a profile to save. ``extract`` shows what the archive would store for one page. Both
fetch with a plain HTTP client (``http_proxy``/``https_proxy`` honoured), politely: a handful
of requests, the caseharvest User-Agent.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from caseharvest import __version__
from caseharvest.archive.case_files import METADATA_KEYS, sha256_text
from caseharvest.extract import ExtractedPage, ExtractionRules, extract_page
from caseharvest.extract.decoding import decode_document
from caseharvest.listings.base import ListingAnswer, ListingError, ListingPage, ListingRequest
from caseharvest.listings.families import Family, recognize
from caseharvest.listings.registry import listing_source
from caseharvest.model import ListingRecord
from caseharvest.sites import SiteProfile
from caseharvest.sites.profile import FAMILY_RULES, column_url_profile, profile_for_url

logger = logging.getLogger(__name__)

DEFAULT_CONTACT = "https://github.com/caseharvest/caseharvest"
# Listing steps that hold no records by design (a unit API behind the column page) before the
# first page with records: a probe stops asking after these.
MAX_STEPS = 4
TIMEOUT = 30


class ProbeError(Exception):
    """The column or page cannot be read; the message says why."""


@dataclass(frozen=True)
class Fetched:
    """One answer of the plain HTTP client."""

    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def text(self) -> str:
        return decode_document(self.body, self.content_type).text


def http_fetch(request: ListingRequest, contact: str = DEFAULT_CONTACT) -> Fetched:
    """One request with urllib (proxies from the environment); HTTP errors are answers too."""
    data = urlencode(list(request.form)).encode() if request.form is not None else None
    headers = {"User-Agent": f"caseharvest/{__version__} (+{contact})", **dict(request.headers)}
    prepared = urllib.request.Request(request.url, data=data, headers=headers)
    prepared.method = request.method if request.form is None else "POST"
    try:
        with urllib.request.urlopen(prepared, timeout=TIMEOUT) as response:
            return Fetched(
                response.geturl(),
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as exc:
        return Fetched(
            exc.geturl() or request.url,
            exc.code,
            {k.lower(): v for k, v in exc.headers.items()},
            exc.read(),
        )
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProbeError(f"{request.url}: {reason}") from exc


@dataclass
class ProbeReport:
    """What a probe found."""

    profile: SiteProfile
    family: Family
    requests: list[str] = field(default_factory=list)  # "METHOD URL -> status"
    records: tuple[ListingRecord, ...] = ()
    total: int | None = None
    has_next: bool = False
    sample: ExtractedPage | None = None
    sample_url: str | None = None

    def profile_toml(self) -> str:
        """A profile to save (``$CASEHARVEST_PROFILES/<name>.toml``) for this column."""
        profile, column = self.profile, self.profile.column
        name = profile.name
        lines = [
            f"# {self.family.name}, recognised by {self.family.evidence}.",
            "# Made by `caseharvest probe`: check the column name and title, then save it as",
            f"# $CASEHARVEST_PROFILES/{name}.toml and run `caseharvest fetch {name}`.",
            f"name = {_toml(name)}",
            f"title = {_toml(profile.title)}",
            f"origin = {_toml(_origin(column.url))}",
            f"allowed_hosts = [{', '.join(_toml(h) for h in profile.allowed_hosts)}]",
            f"listing_style = {_toml(self.family.style)}",
            f"evidence = {_toml('probe of ' + column.url + ': ' + self.family.evidence)}",
            "",
            "[[columns]]",
            f"id = {_toml(column.id)}",
            f"name = {_toml(column.name)}",
            f"url = {_toml(column.url)}",
        ]
        if column.case_pattern:
            lines.append(f"case_pattern = {_toml(column.case_pattern)}")
        rules = profile.extraction
        if rules.attachment_paths:
            lines += ["", "[extract]", f"attachment_paths = {_toml_list(rules.attachment_paths)}"]
        return "\n".join(lines) + "\n"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON-compatible


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_toml(v) for v in values) + "]"


def probe_column(
    url: str,
    *,
    case_pattern: str = "",
    site: SiteProfile | None = None,
    fetcher: Any = http_fetch,
) -> ProbeReport:
    """Recognise the column at *url*, read its first listing page and one sample case."""
    profile = column_url_profile(url, case_pattern=case_pattern, site=site)
    column = profile.column
    first = fetcher(ListingRequest(url))
    if first.status != 200:
        raise ProbeError(f"the column page {url} answered HTTP {first.status}")
    text = first.text()
    family = recognize(text, first.url)
    configured = column.listing_style or profile.listing_style
    style = family.style if configured == "auto" else configured
    if style != family.style:
        family = Family(
            style, family.name, f"the profile's listing_style (page: {family.evidence})"
        )
    source = listing_source(profile, column, style)
    report = ProbeReport(profile, family)
    request = source.start()[0]
    answer = ListingAnswer(request, first.url, first.status, text, first.headers)
    report.requests.append(f"GET {url} -> {first.status}")
    page = _read_first_page(source, answer, report, fetcher)
    report.records, report.total, report.has_next = page.records, page.total, bool(page.next)
    for record in page.records:
        if source.case_key(record.url) is None:
            continue
        fetched = fetcher(ListingRequest(record.url))
        report.requests.append(f"GET {record.url} -> {fetched.status}")
        if fetched.status == 200:
            report.sample_url = record.url
            report.sample = extract_page(
                fetched.body,
                fetched.url,
                rules=profile.extraction,
                content_type=fetched.content_type,
            )
            break
    return report


def _read_first_page(
    source: Any, answer: ListingAnswer, report: ProbeReport, fetcher: Any
) -> ListingPage:
    for _ in range(MAX_STEPS):
        try:
            page: ListingPage = source.parse(answer)
        except ListingError as exc:
            raise ProbeError(str(exc)) from exc
        if page.records or not page.transitional or not page.next:
            return page
        request = page.next[0]
        fetched = fetcher(request)
        report.requests.append(f"{request.method} {request.url} -> {fetched.status}")
        answer = ListingAnswer(
            request, fetched.url, fetched.status, fetched.text(), fetched.headers
        )
    raise ProbeError(f"no listing records after {MAX_STEPS} steps")


# --- one page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRules:
    """The extraction rules chosen for a page, and where they come from."""

    rules: ExtractionRules
    origin: str
    site: str | None = None


def rules_for_page(
    url: str | None, site: SiteProfile | None, page_text: str | None = None
) -> PageRules:
    """The profile's rules; else those of the URL's site; else the family rules."""
    if site is not None:
        return PageRules(site.extraction, f"profile {site.name} ({site.source_file})", site.name)
    if url is not None:
        found = profile_for_url(url)
        if found is not None:
            return PageRules(found.extraction, f"profile {found.name} (the URL's site)", found.name)
    if page_text is not None and url is not None:
        family = recognize(page_text, url)
        if family.style != "generic":
            return PageRules(FAMILY_RULES, f"rules for {family.name} (recognised by the page)")
    return PageRules(FAMILY_RULES, "site-neutral rules (no profile for this page)")


def read_page(
    page: str, url: str | None, fetcher: Any = http_fetch
) -> tuple[bytes, str, str | None]:
    """(body, URL, Content-Type) of a saved HTML file or a live http(s) URL."""
    if urlsplit(page).scheme in ("http", "https"):
        fetched = fetcher(ListingRequest(page))
        if fetched.status != 200:
            raise ProbeError(f"{page} answered HTTP {fetched.status}")
        return fetched.body, url or fetched.url, fetched.content_type
    path = Path(page)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ProbeError(f"cannot read {page}: {exc.strerror or exc}") from exc
    return body, url or path.resolve().as_uri(), None


def page_metadata(extracted: ExtractedPage, url: str, site: str | None) -> dict[str, Any]:
    """The keys of a case's ``.json`` for one page not (yet) in an archive, and ``text``."""
    values: dict[str, Any] = {
        "url": url,
        "site": site,
        "column": None,
        "article_id": None,
        "version": None,
        "title": extracted.title,
        "published": extracted.published,
        "source": extracted.source,
        "attachments": [{"name": a.name, "url": a.url} for a in extracted.attachments],
        "fetched_at": None,
        "warc_file": None,
        "warc_offset": None,
        "text_sha256": sha256_text(extracted.text),
        "extraction": {"method": extracted.method, "confidence": extracted.confidence},
    }
    return {**{key: values[key] for key in METADATA_KEYS}, "text": extracted.text}
