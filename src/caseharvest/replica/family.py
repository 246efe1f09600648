"""What every CMS-family replica shares: cases with gold values, edits, and real sites' HTTP habits.

A family module subclasses :class:`FamilySite`: its config says which host it serves, it shapes
each drawn story into a case (URL, template, attachments: :class:`Draft`), renders pages and
answers its own listing paths. This base class generates the column deterministically from a
seed, lets tests edit it (:meth:`add_cases`, :meth:`revise`), and answers articles, attachments,
robots.txt, 404s, a 503-then-200 case, conditional requests, gzip and chunked bodies the same way
for every family.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Protocol, TypeVar
from urllib.parse import quote, urlsplit

from caseharvest.replica import downloads, prose
from caseharvest.replica.cases import claim_flaky, find_case, newer_articles, story_lines
from caseharvest.replica.routes import (
    SiteRequest,
    SiteResponse,
    maybe_gzip,
    not_allowed,
    not_found,
    page_response,
    session_cookies,
    unavailable,
)

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

HTML_UTF8 = "text/html; charset=utf-8"
JSON_UTF8 = "application/json;charset=UTF-8"
BASE_ROLES = ("dead", "flaky", "chunked")
_GZIP_SHARE = 0.3
_PUBLISHED_HOUR_UTC = 2  # 10:00 in China, when editors publish
_ID_EPOCH = dt.date(2019, 1, 1)  # the day dated ids (``FamilySite.ids_per_day``) count from
_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_HEADING_MAX_CHARS = 30
_INDENTS = ("　　", "　　", "&nbsp;&nbsp;&nbsp;&nbsp;", "")
_ATTACHMENT_TITLES = (
    "{year}年{zone}重点项目清单",
    "{zone}体制机制改革实施方案",
    "{zone}招商引资优惠政策汇编",
    "{year}年开发区综合发展水平考核评价指标",
    "{zone}“标准地”出让工作指引",
)


@dataclass
class FamilyCase:
    """One article as a family replica serves it, with what an ideal extractor returns (gold)."""

    article_id: str
    url: str  # absolute, in the scheme the site links it with
    title: str
    published: str  # YYYY-MM-DD
    source: str | None
    paragraphs: list[str]  # gold text lines: no chrome, no metadata table
    attachments: list[tuple[str, str]]  # (link text, absolute URL)
    template: str
    encoding: str = "utf-8"
    status: int = 200
    flaky: bool = False
    revision: int = 1
    gzip: bool = False
    chunked: bool = False
    pinned: bool = False  # listed above the newest cases (置顶)
    # True when the attachment links sit inside the body, so their names are gold lines too.
    inline_attachments: bool = True
    extra: dict[str, str] = field(default_factory=dict)  # family details (ids, shapes, tables)

    @property
    def text(self) -> str:
        """The gold clean text, one line per paragraph, heading or table row."""
        return "\n".join(self.paragraphs)

    @property
    def path(self) -> str:
        """Site-relative path of the article page."""
        return urlsplit(self.url).path


@dataclass
class Draft:
    """A case being drawn: its place in the column and its story, before the family shapes it."""

    rng: random.Random
    article_id: int
    published: dt.date
    template: str
    role: str | None
    story: prose.CaseStory
    site_name: str
    lines: list[str]  # gold lines so far: the story's headings and paragraphs

    def attachment_name(self) -> str:
        """The name of a document the article offers (without number or extension)."""
        return attachment_title(self.rng, self.story.zone, self.published.year)

    def insert_table(self, at: int = 1) -> None:
        """Put the rows of a data table (tab-separated gold lines) into the lines at ``at``."""
        rows = prose.data_table_rows(self.rng, self.story.zone, self.story.city)
        self.lines[at:at] = ["\t".join(row) for row in rows]

    def case(
        self,
        url: str,
        attachments: list[tuple[str, str]],
        *,
        extra: dict[str, str] | None = None,
        encoding: str = "utf-8",
        inline_attachments: bool = True,
    ) -> FamilyCase:
        """The finished case at ``url``: the story's title and source, the lines drawn so far."""
        return FamilyCase(
            article_id=str(self.article_id),
            url=url,
            title=self.story.title,
            published=self.published.isoformat(),
            source=local_source(self.story.source, self.site_name),
            paragraphs=self.lines,
            attachments=attachments,
            template=self.template,
            encoding=encoding,
            inline_attachments=inline_attachments,
            extra=extra if extra is not None else {},
        )


class SiteConfig(Protocol):
    """The fields every family's (frozen) config has."""

    @property
    def host(self) -> str: ...
    @property
    def site_name(self) -> str: ...
    @property
    def cases(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def schemes(self) -> tuple[str, ...]: ...


def site_relative(url: str) -> str:
    """Path and query of an absolute URL, as a root-relative href."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def local_source(source: str, site_name: str) -> str:
    """A story's source, with the Shandong department prose draws replaced by the site's own."""
    return site_name if source.startswith("山东省商务厅") else source


def attachment_title(rng: random.Random, zone: str, year: int) -> str:
    """The name of a document an article offers for download (without number or extension)."""
    return rng.choice(_ATTACHMENT_TITLES).format(zone=zone, year=year)


def draw_dates(rng: random.Random, count: int, first: dt.date, last: dt.date) -> list[dt.date]:
    """``count`` publication dates between ``first`` and ``last``, oldest first."""
    span = (last - first).days
    return sorted(first + dt.timedelta(days=rng.randint(0, span)) for _ in range(count))


def is_heading(line: str) -> bool:
    """Whether a gold line is a numbered section heading (一、…)."""
    return bool(_HEADING.match(line)) and len(line) <= _HEADING_MAX_CHARS


def table_html(rows: list[str], css_class: str = "MsoNormalTable") -> str:
    """A data table from tab-separated gold rows (header row first)."""
    body = []
    for number, row in enumerate(row.split("\t") for row in rows):
        tag = "th" if number == 0 else "td"
        body.append("<tr>" + "".join(f"<{tag}>{escape(cell)}</{tag}>" for cell in row) + "</tr>")
    return (
        f'<table class="{css_class}" border="1" cellspacing="0" cellpadding="4" '
        f'style="border-collapse:collapse;width:100%"><tbody>{"".join(body)}</tbody></table>\n'
    )


def body_html(
    lines: list[str],
    links: dict[str, str],
    rng: random.Random,
    *,
    heading: str = "strong",
    paragraph: str = '<p style="text-indent:2em;">',
) -> str:
    """Body markup for gold lines: paragraphs, headings, tables and attachment links.

    ``links`` maps an attachment's link text to the href written on the page. ``heading`` is
    "strong", "plain" or "h3". Indents vary with ``rng`` the way editors leave them.
    """
    out: list[str] = []
    table: list[str] = []
    for line in lines:
        if "\t" in line:
            table.append(line)
            continue
        if table:
            out.append(table_html(table))
            table = []
        text = escape(line, quote=False)
        if line in links:
            out.append(
                f'{paragraph}<a href="{escape(links[line])}" target="_blank">{text}</a></p>\n'
            )
        elif is_heading(line) and heading == "h3":
            out.append(f"<h3>{text}</h3>\n")
        elif is_heading(line) and heading == "strong":
            out.append(f"{paragraph}<strong>{text}</strong></p>\n")
        else:
            out.append(f"{paragraph}{rng.choice(_INDENTS)}{text}</p>\n")
    if table:
        out.append(table_html(table))
    return "".join(out)


def minute_of(article_id: str) -> str:
    """A stable publication time of day (HH:MM) for an article."""
    digest = int(hashlib.sha1(article_id.encode()).hexdigest()[:6], 16)
    return f"{8 + digest % 10:02d}:{digest % 60:02d}"


def text_response(status: int, body: str, content_type: str = "text/plain") -> SiteResponse:
    """A small uncompressed answer."""
    return SiteResponse(status, [("Content-Type", content_type)], body.encode("utf-8"))


def json_body(data: object) -> bytes:
    """JSON as Java gateways write it: compact, non-ASCII kept."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def page_total(count: int, per_page: int) -> int:
    """How many listing pages ``count`` records fill (an empty listing still has one)."""
    return max(1, math.ceil(count / per_page))


def page_of(records: list[_T], number: int, per_page: int) -> list[_T]:
    """The records on page ``number`` (1-based) of ``per_page`` each."""
    return records[(number - 1) * per_page : number * per_page]


def page_param(query: dict[str, list[str]], name: str) -> int:
    """A 1-based page number from a query parameter: 1 when absent, garbled or below 1."""
    try:
        return max(1, int(query.get(name, ["1"])[0]))
    except ValueError:
        return 1


class FamilySite(abc.ABC):
    """One replicated site of a CMS family; safe to read from server threads while tests edit it."""

    family: str = ""
    #: Publication dates of generated cases fall in this range.
    first_date = dt.date(2019, 3, 1)
    last_date = dt.date(2026, 6, 30)

    #: The id before the oldest generated article.
    first_article_id = 1_000_000
    #: When set, ids grow with publication dates (one id space for the whole CMS):
    #: ``first_article_id`` on 2019-01-01 and this many more a day, at least one and at most
    #: ``id_gap`` past the previous article's id.
    ids_per_day: int | None = None
    id_gap = 300
    #: The site's robots.txt.
    robots = "User-agent: *\nDisallow: /search/\n"

    def __init__(self, config: SiteConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        if config.cases < 1:
            raise ValueError("cases must be at least 1")
        if not config.schemes or set(config.schemes) - {"http", "https"}:
            raise ValueError("schemes must be http and/or https")
        self.seed = config.seed
        self.hosts = (config.host.lower(),)
        self.schemes = config.schemes
        self.site_name = config.site_name
        self.clock = clock
        self._host = config.host
        self._lock = threading.RLock()
        self._sessions = itertools.count(1)
        self._served_flaky: set[str] = set()
        self._added_batches = 0
        self._by_path: dict[str, FamilyCase] = {}
        self._index_of: list[FamilyCase] | None = None
        rng = random.Random(f"{self.family}-{config.seed}")
        # Replaced, never mutated in place, so a reader holding the old list sees a consistent one.
        self.cases: list[FamilyCase] = self._build(rng, config.cases)
        self._titles = {case.title for case in self.cases}

    @property
    def root(self) -> str:
        """scheme://host the site writes into its own links."""
        return f"{self.schemes[0]}://{self._host}"

    # ------------------------------------------------------------ what a family provides

    @property
    @abc.abstractmethod
    def column_url(self) -> str:
        """The URL a crawler starts from."""

    @abc.abstractmethod
    def templates(self) -> tuple[str, ...]:
        """Article templates, rotated over the generated cases."""

    @abc.abstractmethod
    def make_case(self, draft: Draft) -> FamilyCase:
        """Shape one drawn story into a case (its URL, attachments and gold lines)."""

    @abc.abstractmethod
    def render(self, case: FamilyCase, request: SiteRequest) -> tuple[bytes, str]:
        """The article page bytes and their Content-Type."""

    @abc.abstractmethod
    def route(self, request: SiteRequest) -> SiteResponse | None:
        """Answer the family's own paths (listings, APIs); None lets the base class go on."""

    def extra_roles(self, count: int) -> list[str]:
        """Family-specific special roles, placed on distinct random cases after the base ones."""
        return []

    def next_id(self, rng: random.Random, previous: int, published: dt.date) -> int:
        """The id of the next article: ids grow with time (and with dates, see ``ids_per_day``)."""
        if self.ids_per_day is None:
            return previous + rng.randint(3, 900)
        by_date = self.first_article_id + (published - _ID_EPOCH).days * self.ids_per_day
        return max(previous + rng.randint(1, self.id_gap), by_date + rng.randint(0, 999))

    def first_id(self) -> int:
        """The id before the oldest generated article."""
        return self.first_article_id

    def gate(self, request: SiteRequest) -> SiteResponse | None:
        """An answer that pre-empts everything (anti-bot modes); None to serve normally."""
        return None

    def claims(self, request: SiteRequest) -> bool:
        """Whether this site answers the request when several sites share a host."""
        return True

    def robots_txt(self) -> str:
        """The site's robots.txt."""
        return self.robots

    def extra_headers(self, request: SiteRequest) -> list[tuple[str, str]]:
        """Headers added to every normal answer (load-balancer or anti-bot cookies)."""
        return []

    # ------------------------------------------------------------ content

    def _build(self, rng: random.Random, count: int) -> list[FamilyCase]:
        dates = draw_dates(rng, count, self.first_date, self.last_date)
        ids: list[int] = []
        previous = self.first_id()
        for published in dates:
            previous = self.next_id(rng, previous, published)
            ids.append(previous)
        templates = [self.templates()[i % len(self.templates())] for i in range(count)]
        rng.shuffle(templates)
        roles = [*BASE_ROLES, *self.extra_roles(count)]
        positions = rng.sample(range(count), min(len(roles), count))
        role_at = dict(zip(positions, roles, strict=False))
        cases: list[FamilyCase] = []
        titles: set[str] = set()
        for index, (article_id, published) in enumerate(zip(ids, dates, strict=True)):
            role = role_at.get(index)
            case = self._draw(rng, article_id, published, templates[index], role, titles)
            if role == "dead":
                case.status = 404
            elif role == "flaky":
                case.flaky = True
            elif role == "chunked":
                case.chunked = True
            case.gzip = role is None and rng.random() < _GZIP_SHARE
            cases.append(case)
        cases.reverse()
        return cases

    def _draw(
        self,
        rng: random.Random,
        article_id: int,
        published: dt.date,
        template: str,
        role: str | None,
        titles: set[str],
    ) -> FamilyCase:
        story = prose.story(rng, published.year, titles)
        lines = story_lines(story)
        draft = Draft(rng, article_id, published, template, role, story, self.site_name, lines)
        return self.make_case(draft)

    def listed(self) -> list[FamilyCase]:
        """What the column lists, in listing order (newest first unless a family pins some)."""
        with self._lock:
            pinned = [case for case in self.cases if case.pinned]
            return pinned + [case for case in self.cases if not case.pinned]

    def case(self, article_id: str) -> FamilyCase:
        """The case with this article id (KeyError when there is none)."""
        with self._lock:
            return find_case(self.cases, article_id)

    def case_at(self, path: str) -> FamilyCase | None:
        """The case whose page lives at this site-relative path, if any."""
        with self._lock:
            # An index rebuilt when the case list is replaced: large (benchmark) replicas
            # would otherwise scan every case for every request.
            if self._index_of is not self.cases:
                self._by_path = {case.path: case for case in self.cases}
                self._index_of = self.cases
            return self._by_path.get(path)

    def attachment_at(self, target: str) -> tuple[FamilyCase, str] | None:
        """The case linking this site-relative path (and query), and the link text."""
        with self._lock:
            for case in self.cases:
                for name, url in case.attachments:
                    if site_relative(url) == target and case.status != 404:
                        return case, name
        return None

    def add_cases(self, n: int) -> list[FamilyCase]:
        """Publish ``n`` new cases at the top of the listing, newer than every existing one."""
        with self._lock:
            self._added_batches += 1
            rng = random.Random(f"{self.family}-{self.seed}-added-{self._added_batches}")
            added: list[FamilyCase] = []
            for index, article_id, published in newer_articles(rng, self.cases, n, self.next_id):
                template = self.templates()[(self._added_batches + index) % len(self.templates())]
                added.append(self._draw(rng, article_id, published, template, None, self._titles))
            added.reverse()
            self.cases = added + self.cases
            logger.info("replica %s: published %d new cases", self.family, n)
            return added

    def revise(self, article_id: str) -> FamilyCase:
        """Edit a case's body text; its revision, ETag and Last-Modified change with it."""
        with self._lock:
            old = self.case(article_id)
            rng = random.Random(f"{self.seed}-revise-{article_id}-{old.revision}")
            paragraphs = list(old.paragraphs)
            # The new paragraph goes before attachment lines, which stay last in the body.
            at = len(paragraphs) - (len(old.attachments) if old.inline_attachments else 0)
            paragraphs.insert(at, prose.revision_paragraph(rng))
            new = dataclasses.replace(old, paragraphs=paragraphs, revision=old.revision + 1)
            self.cases = [new if case.article_id == article_id else case for case in self.cases]
            return new

    def first_request_of_flaky(self, case: FamilyCase) -> bool:
        """True exactly once per flaky case: the request that must fail with 503."""
        with self._lock:
            return claim_flaky(self._served_flaky, case)

    # ------------------------------------------------------------ answering

    def serves(self, host: str, port: int | None, scheme: str) -> bool:
        """Whether a request for ``scheme://host:port`` reaches this site."""
        default = 443 if scheme == "https" else 80
        return host in self.hosts and scheme in self.schemes and port in (None, default)

    def answer(self, request: SiteRequest) -> SiteResponse:
        """The response to one request for this site."""
        response = self._answer(request)
        response.headers.extend(self.extra_headers(request))
        return response

    def _answer(self, request: SiteRequest) -> SiteResponse:
        gate = self.gate(request)
        if gate is not None:
            return gate
        if request.path == "/robots.txt":
            return text_response(200, self.robots_txt())
        if request.method not in ("GET", "HEAD", "POST"):
            return not_allowed("GET, HEAD, POST")
        routed = self.route(request)
        if routed is not None:
            return routed
        if request.method == "POST":
            return not_allowed("GET, HEAD")
        case = self.case_at(request.path)
        if case is not None:
            return not_found(HTML_UTF8) if case.status == 404 else self.case_response(request, case)
        found = self.attachment_at(request.target)
        if found is not None:
            return self.download_response(*found)
        return not_found(HTML_UTF8)

    def session_cookies(self) -> list[tuple[str, str]]:
        """Two Set-Cookie headers, as the load balancer and the app server each send one."""
        with self._lock:
            number = next(self._sessions)
        return session_cookies(self.seed, number)

    def listing_response(
        self, request: SiteRequest, body: bytes | str, content_type: str = HTML_UTF8
    ) -> SiteResponse:
        """A listing page (text is sent as UTF-8): session cookies, gzip when accepted."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        headers = [("Content-Type", content_type), *self.session_cookies()]
        return maybe_gzip(request, SiteResponse(200, headers, data))

    def last_modified(self, case: FamilyCase) -> dt.datetime:
        """When the CMS last wrote the page: each revision a day after the last."""
        day = dt.date.fromisoformat(case.published)
        base = dt.datetime(day.year, day.month, day.day, _PUBLISHED_HOUR_UTC, tzinfo=dt.UTC)
        return base + dt.timedelta(days=case.revision - 1)

    def case_response(self, request: SiteRequest, case: FamilyCase) -> SiteResponse:
        """An article: 503 once for a flaky case, validators, 304, gzip, chunked."""
        if self.first_request_of_flaky(case):
            return unavailable()
        body, content_type = self.render(case, request)
        modified = self.last_modified(case)
        return page_response(
            request, body, content_type, modified, compressible=case.gzip, chunked=case.chunked
        )

    def download_response(self, case: FamilyCase, name: str) -> SiteResponse:
        """An attachment file of the kind its name says, named in Content-Disposition."""
        kind = name.rsplit(".", 1)[-1].lower()
        if kind not in downloads.CONTENT_TYPES:
            kind = "pdf"
        disposition = f"attachment; filename*=UTF-8''{quote(name)}"
        headers = [
            ("Content-Type", downloads.CONTENT_TYPES[kind]),
            ("Content-Disposition", disposition),
        ]
        return SiteResponse(200, headers, downloads.attachment_bytes(kind, name))


def pick(rng: random.Random, choice: str | None, options: Iterable[str]) -> str:
    """``choice`` when a config fixed it, else one of ``options`` drawn from the seed."""
    return choice if choice is not None else rng.choice(list(options))
