"""Hanweb JCMS "jpage" listings: the column page's embedded group and dataproxy.jsp answers.

Pure parsing functions over text, and :class:`HanwebJpageSource`, the listing source that pages
through dataproxy.jsp (POST form, with the GET ``page=N`` form as the fallback). What the format
looks like is described in README ("Sites: Shandong").
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, urldefrag, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html

from caseharvest.listings.base import (
    ColumnScope,
    ListingAnswer,
    ListingError,
    ListingPage,
    ListingRequest,
    SiteScope,
)
from caseharvest.listings.html_items import parse_html, records_from_links
from caseharvest.listings.js_literals import balanced_literal
from caseharvest.model import CaseKey, ListingRecord

DEFAULT_PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
ARTICLE_URL = re.compile(r"/art_(?P<column>\d+)_(?P<article>\d+)\.html?$")

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


_UID_PAGE = re.compile(r"[?&]uid=(\d+)&(?:amp;)?pageNum=(\d+)")
_UID_TOTAL = re.compile(r"共\s*(\d+)\s*条")


def is_uid_page(text: str, url: str) -> bool:
    """Whether a column answer is a server-rendered ``?uid=&pageNum=`` page (no jpage unit)."""
    return not _JPAGE_CALL.search(text) and bool(_UID_PAGE.search(url) or _UID_PAGE.search(text))


def next_uid_page(text: str, url: str) -> str | None:
    """The ``?uid=…&pageNum=N+1`` page after the one at *url*, when this page links to it."""
    current = _UID_PAGE.search(url)
    number = int(current[2]) if current else 1
    for match in re.finditer(r"""href\s*=\s*["']([^"']*pageNum=\d+[^"']*)["']""", text):
        link = urljoin(url, html.unescape(match[1]))
        found = _UID_PAGE.search(link)
        if found and int(found[2]) == number + 1:
            return link
    return None


class CsrfStubError(ListingError):
    """dataproxy.jsp answered its ``dataStore=['csrf']`` stub instead of records."""


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
    options = _js_object(
        balanced_literal(page, call.end() - 1, "the jpage({...}) call on the column page")[1:-1]
    )
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


# dataproxy.jsp refused the POST form with one of these: its GET form is tried instead.
POST_REFUSED_STATUSES = (400, 403, 404, 405, 415, 501)
# Top-of-listing re-reads when the total grows during a walk: bounded, so a column edited
# without pause cannot keep a walk going.
MAX_TOP_RECHECKS = 3


class HanwebJpageSource:
    """A Hanweb jpage column: the embedded first group, then dataproxy.jsp groups.

    Groups are asked for by record range with the POST form; the GET ``page=N`` form of the
    ``<nextgroup>`` link is the fallback when the POST form is refused or brings nothing new
    (some dataproxy versions ignore ``startrecord``/``endrecord`` and honour only ``page``).
    When ``totalrecord`` grows while the listing is read, the new records are at the top, which
    was read first: the top is read again at the end.
    """

    style: ClassVar[str] = "hanweb-jpage"

    def __init__(self, site: SiteScope, column: ColumnScope) -> None:
        self.site = site
        self.column = column
        self.jpage: JpageColumn | None = None
        self.total = 0
        self.covered = 0  # records 1..covered have been asked for
        self.use_get = False
        self.top_read_at_total = 0
        self.top_rechecks = 0
        self.groups_requested = 0

    def start(self) -> list[ListingRequest]:
        return [ListingRequest(self.column.url, state={"kind": "column"})]

    def page_size(self) -> int:
        return self.jpage.group_records if self.jpage is not None else 45

    def case_key(self, url: str) -> CaseKey | None:
        ids = article_ids(url)
        if ids is None or not self.site.allows(url):
            return None
        return CaseKey(self.site.name, ids[0], ids[1])

    def parse(self, answer: ListingAnswer) -> ListingPage:
        kind = answer.request.state.get("kind")
        if kind == "column":
            return self._parse_column(answer)
        if kind == "uid":
            return self._parse_uid_page(answer)
        return self._parse_group(answer)

    def _parse_column(self, answer: ListingAnswer) -> ListingPage:
        if answer.status != 200:
            raise ListingError(f"column page {answer.url} answered HTTP {answer.status}")
        if is_uid_page(answer.text, answer.url):
            return self._parse_uid_page(answer)
        try:
            jpage = parse_column_page(answer.text, answer.url)
        except ListingError as exc:
            raise ListingError(f"column page {answer.url}: {exc}") from exc
        self.jpage = jpage
        self.total = self.top_read_at_total = jpage.total_record
        self.covered = jpage.group_records
        return ListingPage(jpage.first_group.records, jpage.total_record, self._next())

    def _parse_group(self, answer: ListingAnswer) -> ListingPage:
        state = answer.request.state
        start, end = int(state["start"]), int(state["end"])
        if answer.request.method == "POST" and answer.status in POST_REFUSED_STATUSES:
            self.use_get = True
            return ListingPage(
                (),
                None,
                (self._group_request(start, end),),
                note=f"dataproxy.jsp refused POST (HTTP {answer.status}); listing read with GET",
                transitional=True,
            )
        if answer.status != 200:
            raise ListingError(f"listing request {answer.url} answered HTTP {answer.status}")
        try:
            group = parse_datastore(answer.text, answer.url)
        except CsrfStubError as exc:
            raise ListingError(f"{answer.url}: {exc}") from exc
        except ListingError as exc:
            raise ListingError(f"listing request {answer.url}: {exc}") from exc
        if group.total_record is not None and group.total_record != self.total:
            if group.total_record < self.total and not state.get("recheck"):
                # Records moved up: step back so none falls between two groups.
                self.covered -= self.total - group.total_record
            self.total = group.total_record
        if not group.records and end < self.total:
            raise ListingError(
                f"listing group {start}-{end} came back empty although totalrecord is {self.total}"
            )
        return ListingPage(group.records, group.total_record, self._next())

    def _parse_uid_page(self, answer: ListingAnswer) -> ListingPage:
        """A page the server renders for ``?uid=<unit>&pageNum=N``: a plain list and a pager."""
        if answer.status != 200:
            raise ListingError(f"listing page {answer.url} answered HTTP {answer.status}")
        root = parse_html(answer.text)
        records = records_from_links(root, answer.url, lambda url: article_ids(url) is not None)
        total = _UID_TOTAL.search(root.text_content())
        following = next_uid_page(answer.text, answer.url) if records else None
        requests = (ListingRequest(following, state={"kind": "uid"}),) if following else ()
        return ListingPage(records, int(total[1]) if total else None, requests)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        state = answer.request.state
        if self.use_get or state.get("kind") != "group" or self.jpage is None:
            return []
        if self.jpage.first_group.nextgroup_url is None:
            return []
        # The POST form brought only records already read: this dataproxy ignores the range.
        # Parsing that answer moved on past a group that was never read: step back to it.
        self.use_get = True
        self.covered = int(state["end"])
        self.groups_requested = max(0, self.groups_requested - 1)
        return [self._group_request(int(state["start"]), int(state["end"]))]

    def _next(self) -> tuple[ListingRequest, ...]:
        jpage = self.jpage
        assert jpage is not None
        if self.covered >= self.total:
            return self._recheck_top()
        self.groups_requested += 1
        if self.groups_requested > -(-self.total // jpage.group_records) + 3:
            raise ListingError(
                "the listing keeps growing while it is read; stopping after "
                f"{self.groups_requested - 1} groups (totalrecord {self.total})"
            )
        start, end = self.covered + 1, self.covered + jpage.group_records
        self.covered = end
        return (self._group_request(start, end),)

    def _recheck_top(self) -> tuple[ListingRequest, ...]:
        jpage = self.jpage
        assert jpage is not None
        if self.total <= self.top_read_at_total or self.top_rechecks >= MAX_TOP_RECHECKS:
            return ()
        self.top_rechecks += 1
        self.top_read_at_total = self.total
        return (self._group_request(1, jpage.group_records, recheck=True),)

    def _group_request(self, start: int, end: int, recheck: bool = False) -> ListingRequest:
        jpage = self.jpage
        assert jpage is not None
        state = {"kind": "group", "start": start, "end": end, "recheck": recheck}
        if self.use_get:
            url = jpage.get_request((start - 1) // jpage.group_records + 1)
            if url is None:
                raise ListingError(
                    "dataproxy.jsp refused the POST form and the column page offers no "
                    "<nextgroup> link for the GET form"
                )
            return ListingRequest(url, state={**state, "get": True})
        url, form = jpage.post_request(start, end)
        return ListingRequest(url, "POST", tuple(form.items()), state=state)
