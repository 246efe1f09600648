"""Parse Hanweb JCMS "jpage" listings: the column page's embedded group and dataproxy.jsp answers.

Pure functions over text; the spider turns their results into requests. What the format looks
like is described in README ("Sites: Shandong").
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html

DEFAULT_PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
ARTICLE_URL = re.compile(r"/art_(?P<column>\d+)_(?P<article>\d+)\.html?$")
# A case page answering these is a dead link (first time) or withdrawn (known case).
DEAD_STATUSES = (404, 410)

_CSRF_STUB = re.compile(r"dataStore\s*=\s*\[\s*['\"]csrf['\"]\s*\]", re.IGNORECASE)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.DOTALL | re.IGNORECASE)
_NEXTGROUP = re.compile(
    r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.DOTALL | re.IGNORECASE
)
_TOTAL_RECORD = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.DOTALL | re.IGNORECASE)
# `$('#unitid').jpage({…})` on some sites, a bare `jpage({…})` on others.
_JPAGE_CALL = re.compile(r"\bjpage\s*\(\s*\{", re.IGNORECASE)
_PARAM_VAR = re.compile(r"var\s+(param_\w+)\s*=\s*\{(.*?)\}\s*;", re.DOTALL)
_JS_PAIR = re.compile(
    r"""(?P<key>[A-Za-z_$][\w$]*)\s*:\s*(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,}\s]+)"""
)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


class ListingError(Exception):
    """The listing cannot be read; the message names the cause for the user."""


class CsrfStubError(ListingError):
    """dataproxy.jsp answered its ``dataStore=['csrf']`` stub instead of records."""


@dataclass(frozen=True)
class ListingRecord:
    """One ``<li>`` of the listing."""

    url: str
    title: str
    date: str | None


@dataclass(frozen=True)
class Datastore:
    """Records of one group, and what the answer says of the whole listing."""

    records: tuple[ListingRecord, ...]
    total_record: int | None
    nextgroup_url: str | None


@dataclass(frozen=True)
class JpageColumn:
    """The paging parameters of a column page and its embedded first group."""

    unitid: str
    per_page: int
    group_size: int
    total_record: int
    proxy_url: str
    form: tuple[tuple[str, str], ...]
    first_group: Datastore

    @property
    def group_records(self) -> int:
        """Records per dataproxy request: one group of ``groupSize`` pages."""
        return self.per_page * self.group_size

    def post_request(self, start: int, end: int) -> tuple[str, dict[str, str]]:
        """URL and form body of the POST asking for records *start*..*end* (1-based)."""
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": self.per_page})
        return f"{self.proxy_url}?{query}", dict(self.form)

    def get_request(self, group: int) -> str | None:
        """URL of the GET form (``page=N``) for group *group* (1 = the embedded one)."""
        if self.first_group.nextgroup_url is None:
            return None
        parts = urlsplit(self.first_group.nextgroup_url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
        return urlunsplit(parts._replace(query=urlencode([("page", str(group)), *query])))


def article_ids(url: str) -> tuple[str, str] | None:
    """(column id, article id) of a Hanweb article URL ``…/art_<COL>_<ARTID>.html``."""
    match = ARTICLE_URL.search(urldefrag(url)[0])
    return (match["column"], match["article"]) if match else None


def _js_value(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _js_object(body: str) -> dict[str, str]:
    return {m["key"]: _js_value(m["value"]) for m in _JS_PAIR.finditer(body)}


def _balanced_object(text: str, open_brace: int) -> str:
    """The text of the ``{…}`` literal starting at *open_brace*, quotes respected."""
    depth = 0
    quote = ""
    index = open_brace
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[open_brace + 1 : index]
        index += 1
    raise ListingError("the jpage({...}) call on the column page is not closed")


def is_csrf_stub(text: str) -> bool:
    """True for the stub dataproxy.jsp sends when the request does not match the page."""
    return bool(_CSRF_STUB.search(text)) and not _RECORD.search(text)


def parse_records(fragment: str, base_url: str) -> tuple[ListingRecord, ...]:
    """The ``<li>`` records in a datastore text, hrefs made absolute against *base_url*."""
    records = []
    for raw in _RECORD.findall(fragment):
        root = lxml.html.fragment_fromstring(raw, create_parent="div")
        for anchor in root.iter("a"):
            href = (anchor.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "#")):
                continue
            title = (anchor.get("title") or anchor.text_content()).strip()
            spans = [span.text_content() for span in root.iter("span")]
            date_text = " ".join(spans) if spans else (anchor.tail or "")
            found = _DATE.search(date_text)
            date = f"{int(found[1]):04d}-{int(found[2]):02d}-{int(found[3]):02d}" if found else None
            records.append(ListingRecord(urljoin(base_url, href), title, date))
            break
    return tuple(records)


def parse_datastore(text: str, base_url: str) -> Datastore:
    """A ``<datastore>`` answer of dataproxy.jsp (or the embedded one).

    Raises :class:`CsrfStubError` for the csrf stub and :class:`ListingError` for anything
    that is not a datastore (an error page, an anti-bot page).
    """
    if is_csrf_stub(text):
        raise CsrfStubError(
            "dataproxy.jsp answered dataStore=['csrf'] instead of records: the paging "
            "parameters sent no longer match the column page (perpage or form changed)"
        )
    block = _DATASTORE.search(text)
    if block is None:
        raise ListingError(f"expected a <datastore> answer, got {text[:80].strip()!r}")
    body = block.group(0)
    total = _TOTAL_RECORD.search(body)
    nextgroup = _NEXTGROUP.search(body)
    next_url = None
    if nextgroup:
        hrefs = re.findall(r"href\s*=\s*['\"]([^'\"]+)['\"]", nextgroup.group(1))
        if hrefs:
            next_url = urljoin(base_url, html.unescape(hrefs[0]))
    return Datastore(
        records=parse_records(body, base_url),
        total_record=int(total.group(1)) if total else None,
        nextgroup_url=next_url,
    )


def parse_column_page(page: str, page_url: str) -> JpageColumn:
    """Paging parameters and first group of a Hanweb column page.

    Every value (webid, unitid, perPage, groupSize, totalRecord) comes from the page itself.
    """
    call = _JPAGE_CALL.search(page)
    if call is None:
        raise ListingError("no jpage({...}) call on the column page: not a Hanweb jpage listing")
    options = _js_object(_balanced_object(page, call.end() - 1))
    try:
        per_page = int(options["perPage"])
        group_size = int(options.get("groupSize", "1"))
        total_record = int(options["totalRecord"])
    except (KeyError, ValueError) as exc:
        raise ListingError(f"jpage call lacks a number for {exc}") from exc
    param_name = options.get("ajaxParam", "")
    params = {name: body for name, body in _PARAM_VAR.findall(page)}
    if param_name not in params:
        if len(params) != 1:
            raise ListingError(f"no `var {param_name} = {{…}}` paging parameters on the page")
        param_name = next(iter(params))
    form = _js_object(params[param_name])
    unitid = form.get("unitid") or param_name.removeprefix("param_")
    proxy_url = urljoin(page_url, options.get("proxyUrl", DEFAULT_PROXY_PATH))

    doc = lxml.html.document_fromstring(page)
    scripts = doc.xpath('//*[@id=$unitid]//script[@type="text/xml"]', unitid=unitid) or doc.xpath(
        '//script[@type="text/xml"]'
    )
    embedded = "".join(script.text or "" for script in scripts)
    first_group = (
        parse_datastore(embedded, page_url) if embedded.strip() else Datastore((), None, None)
    )
    return JpageColumn(
        unitid=unitid,
        per_page=per_page,
        group_size=group_size,
        total_record=total_record,
        proxy_url=proxy_url,
        form=tuple(form.items()),
        first_group=first_group,
    )
