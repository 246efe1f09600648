"""What commerce.shandong.gov.cn answers to one request: status, headers and body.

No sockets here: :class:`SiteRouter` maps a parsed request to a :class:`SiteResponse`; the server
adds the framing headers (Date, Server, Content-Length, Connection) and writes the bytes.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import gzip
import hashlib
import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from urllib.parse import parse_qs, quote

from caseharvest.replica import downloads, pages
from caseharvest.replica.cases import COLUMN_ID, ReplicaCase, ReplicaSite

logger = logging.getLogger(__name__)

COLUMN_PATHS = (f"/col/col{COLUMN_ID}/index.html", f"/col/col{COLUMN_ID}/")
DOWNLOAD_PATH = "/module/download/downfile.jsp"
_HTML_UTF8 = "text/html;charset=UTF-8"
_STATIC = {
    "/module/web/jpage/jpage.js": ("jpage.js", "application/javascript"),
    "/module/web/jpage/jquery.min.js": ("jquery.min.js", "application/javascript"),
    "/images/style.css": ("style.css", "text/css"),
    "/images/logo.png": ("logo.png", "image/png"),
    "/images/nav_bg.png": ("nav_bg.png", "image/png"),
}
_STATIC_MODIFIED = dt.datetime(2019, 1, 7, 1, 0, tzinfo=dt.UTC)
_PUBLISHED_HOUR_UTC = 2  # 10:00 in Jinan, when the editors publish


@dataclass(frozen=True)
class SiteRequest:
    """The parts of an HTTP request the site looks at."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    scheme: str = "http"  # "https" inside a CONNECT tunnel or on the https origin port

    @property
    def target(self) -> str:
        """Path and query as the request line had them."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def header(self, name: str) -> str | None:
        """First value of a request header, matched case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass
class SiteResponse:
    """A site answer before framing; ``headers`` keep their order and repeats."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    close: bool = False
    # Keep the connection but drop the next request sent on it unanswered, as a server whose
    # keep-alive timeout fires just as the client reuses the connection (or an HTTP/1.0
    # server closing without `Connection: close`): the client's pooled connection is stale.
    hang_up: bool = False


def http_date(moment: dt.datetime) -> str:
    """An IMF-fixdate, as in Date and Last-Modified headers."""
    return email.utils.format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding value allows a gzip-coded answer."""
    if not accept_encoding:
        return False
    qualities: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        qualities[coding.strip().lower()] = quality
    for coding in ("gzip", "x-gzip"):
        if coding in qualities:
            return qualities[coding] > 0
    return qualities.get("*", 0.0) > 0


def _opaque_tag(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(request: SiteRequest, etag: str, last_modified: dt.datetime) -> bool:
    """RFC 9110 conditional GET: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if_none_match = request.header("If-None-Match")
    if if_none_match is not None:
        tags = [tag for tag in if_none_match.split(",") if tag.strip()]
        if any(tag.strip() == "*" for tag in tags):
            return True
        return any(_opaque_tag(tag) == _opaque_tag(etag) for tag in tags)
    if_modified_since = request.header("If-Modified-Since")
    if if_modified_since:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return last_modified <= since
    return False


def nginx_etag(last_modified: dt.datetime, length: int) -> str:
    """nginx's strong ETag: hex mtime and hex size."""
    return f'"{int(last_modified.timestamp()):x}-{length:x}"'


def case_last_modified(case: ReplicaCase, chrome_version: int) -> dt.datetime:
    """When the CMS last wrote the page: each revision a day later, each chrome change an hour."""
    published = dt.date.fromisoformat(case.published)
    base = dt.datetime(
        published.year, published.month, published.day, _PUBLISHED_HOUR_UTC, tzinfo=dt.UTC
    )
    return base + dt.timedelta(days=case.revision - 1, hours=chrome_version)


def case_content_type(case: ReplicaCase) -> str:
    """Content-Type as nginx sends it: the gb page says gb2312, some pages carry no charset."""
    if case.encoding == "gb18030":
        return "text/html; charset=gb2312"
    return "text/html" if int(case.article_id) % 2 else "text/html; charset=utf-8"


@functools.cache
def _static_bytes(filename: str) -> bytes:
    return resources.files("caseharvest.replica").joinpath("data").joinpath(filename).read_bytes()


class SiteRouter:
    """Answers requests for commerce.shandong.gov.cn from a :class:`ReplicaSite`."""

    def __init__(self, site: ReplicaSite) -> None:
        self.site = site
        self._sessions = itertools.count(1)
        self._session_lock = threading.Lock()

    def answer(self, request: SiteRequest) -> SiteResponse:
        """The response for one on-site request (GET, HEAD or POST)."""
        fault = self.site.config.fault
        if request.path != "/robots.txt":
            if fault == "antibot-412":
                return self._ruishu()
            if fault == "antibot-521":
                return self._jiasule()
        if request.method not in ("GET", "HEAD", "POST"):
            return not_allowed("GET, HEAD, POST")
        if request.path == pages.DATAPROXY_PATH:
            return self._dataproxy(request)
        if request.method == "POST":
            # nginx refuses POST to static files.
            return not_allowed("GET, HEAD")
        if request.path == "/robots.txt":
            return SiteResponse(200, [("Content-Type", "text/plain")], pages.robots_txt().encode())
        if request.path in COLUMN_PATHS:
            return self._column(request)
        if request.path in _STATIC:
            return self._static(request)
        if request.path == DOWNLOAD_PATH:
            return self._download(request)
        case = self.site.case_at(request.path)
        if case is None or case.status == 404:
            return not_found()
        return self._case(request, case)

    def _session_cookies(self) -> list[tuple[str, str]]:
        with self._session_lock:
            number = next(self._sessions)
        return session_cookies(self.site.config.seed, number)

    def _column(self, request: SiteRequest) -> SiteResponse:
        config = self.site.config
        records = self.site.listed()
        html = pages.column_page(config, records[: config.group_records], len(records))
        headers = [("Content-Type", _HTML_UTF8), *self._session_cookies()]
        return maybe_gzip(request, SiteResponse(200, headers, html.encode("utf-8")))

    def _dataproxy(self, request: SiteRequest) -> SiteResponse:
        config = self.site.config
        self.site.note_dataproxy_request()
        query = parse_qs(request.query)
        if request.method == "POST":
            if config.post_refused:
                return not_allowed("GET, HEAD")
            form = parse_qs(request.body.decode("utf-8", "replace"))
            start = int_param(query, "startrecord")
            end = int_param(query, "endrecord")
            per_page = int_param(query, "perpage")
            if start is None or end is None or per_page != config.per_page:
                return _csrf_stub()
            params = form
        else:
            page = int_param(query, "page")
            if page is None or page < 1:
                return _csrf_stub()
            start = (page - 1) * config.group_records + 1
            end = page * config.group_records
            params = query
        if config.fault == "csrf":
            return _csrf_stub()
        wanted = {
            "webid": str(config.webid),
            "columnid": COLUMN_ID,
            "unitid": str(config.unitid),
        }
        known = all(params.get(key, [""])[0] == value for key, value in wanted.items())
        # Hanweb answers an unknown column with an empty store, not an error.
        records = self.site.listed() if known else []
        total = len(records)
        first, last = max(start, 1), min(end, total)
        chosen = records[first - 1 : last] if first <= last else []
        if chosen and first > 1:
            # Hanweb's quirk: a later group repeats the last record of the group before.
            chosen = [records[first - 2], *chosen]
        group = (max(start, 1) - 1) // config.group_records + 1
        xml = pages.datastore(
            [pages.record(case) for case in chosen],
            next_link=pages.next_group_link(config, group + 1),
            total_records=total,
            total_pages=math.ceil(total / config.per_page),
        )
        headers = [("Content-Type", "text/xml;charset=UTF-8"), ("Cache-Control", "no-cache")]
        return SiteResponse(200, headers, xml.encode("utf-8"))

    def _case(self, request: SiteRequest, case: ReplicaCase) -> SiteResponse:
        if self.site.first_request_of_flaky(case):
            logger.info("replica: 503 for the first request of %s", case.url)
            return unavailable()
        chrome_version = self.site.chrome_version
        body = pages.case_page(case, chrome_version).encode(case.encoding)
        modified = case_last_modified(case, chrome_version)
        return page_response(
            request,
            body,
            case_content_type(case),
            modified,
            compressible=case.gzip,
            chunked=case.chunked,
        )

    def _static(self, request: SiteRequest) -> SiteResponse:
        filename, content_type = _STATIC[request.path]
        body = _static_bytes(filename)
        etag = nginx_etag(_STATIC_MODIFIED, len(body))
        validators = [("Last-Modified", http_date(_STATIC_MODIFIED)), ("ETag", etag)]
        if not_modified(request, etag, _STATIC_MODIFIED):
            return SiteResponse(304, validators)
        return SiteResponse(200, [("Content-Type", content_type), *validators], body)

    def _download(self, request: SiteRequest) -> SiteResponse:
        filename = parse_qs(request.query).get("filename", [""])[0]
        found = self.site.attachment(filename) if filename else None
        if found is None:
            return not_found()
        _, name = found
        kind = filename.rsplit(".", 1)[-1]
        disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(name)}"
        headers = [
            ("Content-Type", downloads.CONTENT_TYPES[kind]),
            ("Content-Disposition", disposition),
        ]
        return SiteResponse(200, headers, downloads.attachment_bytes(kind, name))

    def _ruishu(self) -> SiteResponse:
        token = hashlib.sha256(f"{self.site.config.seed}-ts".encode()).hexdigest()
        cookie = (
            f"NfBCSins2OywO={token[:40]}; Path=/; expires=Fri, 01 Jan 2038 00:00:00 GMT; HttpOnly"
        )
        headers = [("Content-Type", "text/html"), ("Set-Cookie", cookie)]
        return SiteResponse(412, headers, pages.ruishu_challenge(token).encode("utf-8"))

    def _jiasule(self) -> SiteResponse:
        token = hashlib.sha256(f"{self.site.config.seed}-jsl".encode()).hexdigest()
        cookie = f"__jsluid_h={token[:32]}; max-age=31536000; path=/; HttpOnly"
        headers = [("Content-Type", "text/html"), ("Set-Cookie", cookie)]
        return SiteResponse(521, headers, pages.jiasule_challenge(token).encode("utf-8"))


def unavailable() -> SiteResponse:
    """The 503 a flaky page answers its first request with."""
    return SiteResponse(
        503,
        [("Content-Type", "text/html"), ("Retry-After", "1")],
        pages.unavailable_page().encode("ascii"),
    )


def page_response(
    request: SiteRequest,
    body: bytes,
    content_type: str,
    modified: dt.datetime,
    *,
    compressible: bool,
    chunked: bool,
) -> SiteResponse:
    """A page as nginx serves a file: validators, 304, gzip on the fly when ``compressible``."""
    etag = nginx_etag(modified, len(body))
    compress = compressible and accepts_gzip(request.header("Accept-Encoding"))
    if compress:
        # nginx weakens the ETag of a body it compresses on the fly.
        etag = f"W/{etag}"
    validators = [("Last-Modified", http_date(modified)), ("ETag", etag)]
    vary = [("Vary", "Accept-Encoding")] if compressible else []
    if not_modified(request, etag, modified):
        return SiteResponse(304, [*validators, *vary])
    headers = [("Content-Type", content_type), *validators, *vary]
    if compress:
        headers.append(("Content-Encoding", "gzip"))
        body = gzip.compress(body, mtime=0)
    else:
        headers.append(("Accept-Ranges", "bytes"))
    return SiteResponse(200, headers, body, chunked=chunked)


def session_cookies(seed: int, number: int) -> list[tuple[str, str]]:
    """Session ``number``'s Set-Cookie headers, one from the load balancer, one from the app."""
    session = hashlib.sha1(f"{seed}-session-{number}".encode()).hexdigest()[:32].upper()
    backend = hashlib.md5(f"{seed}-backend".encode(), usedforsecurity=False).hexdigest()
    now = int(time.time())
    return [
        ("Set-Cookie", f"JSESSIONID={session}; Path=/; HttpOnly"),
        ("Set-Cookie", f"SERVERID={backend}|{now}|{now};Path=/"),
    ]


def int_param(params: dict[str, list[str]], name: str) -> int | None:
    """A parameter's first value as an int; None when it is absent or not a number."""
    try:
        return int(params[name][0])
    except (KeyError, ValueError):
        return None


def _csrf_stub() -> SiteResponse:
    return SiteResponse(200, [("Content-Type", _HTML_UTF8)], pages.CSRF_STUB.encode("ascii"))


def not_found(content_type: str = _HTML_UTF8) -> SiteResponse:
    """The plain 404 page."""
    return SiteResponse(404, [("Content-Type", content_type)], pages.not_found_page().encode())


def not_allowed(allow: str) -> SiteResponse:
    """nginx's 405 page."""
    body = pages.not_allowed_page().encode("ascii")
    return SiteResponse(405, [("Content-Type", "text/html"), ("Allow", allow)], body)


def maybe_gzip(request: SiteRequest, response: SiteResponse) -> SiteResponse:
    """Compress a dynamic answer when the client accepts gzip (and say it varies)."""
    response.headers.append(("Vary", "Accept-Encoding"))
    if accepts_gzip(request.header("Accept-Encoding")):
        response.headers.append(("Content-Encoding", "gzip"))
        response.body = gzip.compress(response.body, mtime=0)
    return response
