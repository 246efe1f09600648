"""The replica's content: which cases the column lists, what each one says, and how it changes.

Content is a pure function of :class:`ReplicaConfig` (its ``seed`` drives every random choice);
:class:`ReplicaSite` then lets tests edit the site between or during crawls.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from caseharvest.replica import prose

logger = logging.getLogger(__name__)

SITE_HOST = "commerce.shandong.gov.cn"
SITE_ROOT = f"http://{SITE_HOST}"
COLUMN_ID = "21482"
COLUMN_NAME = "开发区典型案例"
# A sibling column whose articles the case column also lists (site-notes: cross-column records).
OTHER_COLUMN_ID = "21483"
OTHER_COLUMN_NAME = "开发区工作动态"
FAULTS = ("csrf", "antibot-412", "antibot-521", "empty-column")

TEMPLATES = (
    # div layout, ArticleTitle/PubDate/ContentSource meta, compact date, <p><strong> headings
    "modern-meta",
    "modern-plain",  # same layout without meta tags, split date, headings in their own <p>
    # nested layout tables, 年月日 date, print bar and disclaimer inside the td#zoom body container
    "legacy-table",
    "modern-br",  # body is one <p> of <br>-separated lines
    "modern-datatable",  # body holds a real data table
    "modern-attachment",  # two lines of body plus an attachment link
)
_ROTATING_TEMPLATES = (
    "modern-meta",
    "modern-plain",
    "legacy-table",
    "modern-br",
    "modern-datatable",
)

_FIRST_DATE = dt.date(2019, 1, 8)  # the day after the seed article, the oldest case
_LAST_DATE = dt.date(2026, 2, 9)
_SEED_DATE = dt.date(2019, 1, 7)
_SEED_ID = int(prose.SEED_ARTICLE_ID)
# Hanweb ids grow with time: ~6000 a day puts 2019 at 7 digits and 2025–2026 at 8.
_IDS_PER_DAY = 6_000

# Which special roles link attachments, and of what kinds (every Hanweb download kind appears).
_ROLE_ATTACHMENTS = {"attach": ("pdf", "docx"), "attach-table": ("xlsx", "doc", "xls")}
_ATTACHMENT_TITLES = (
    "{year}年{zone}重点项目清单",
    "{zone}体制机制改革实施方案",
    "{zone}招商引资优惠政策汇编",
    "{year}年开发区综合发展水平考核评价指标",
    "{zone}“标准地”出让工作指引",
)


@dataclass(frozen=True)
class ReplicaConfig:
    """Shape and behaviour of one replica site; equal configs give byte-identical content."""

    cases: int = 64
    per_page: int = 15
    group_size: int = 3
    grow_by: int = 0
    fault: str | None = None
    post_refused: bool = False
    webid: int = 36
    unitid: int = 293870
    seed: int = 21482

    def __post_init__(self) -> None:
        if self.cases < 1:
            raise ValueError("cases must be at least 1 (the seed article)")
        if self.per_page < 1 or self.group_size < 1:
            raise ValueError("per_page and group_size must be positive")
        if self.grow_by < 0:
            raise ValueError("grow_by cannot be negative")
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; choose one of {', '.join(FAULTS)}")

    @property
    def group_records(self) -> int:
        """Records in one jpage group (the embedded first group and each dataproxy answer)."""
        return self.per_page * self.group_size


DEFAULT_CONFIG = ReplicaConfig()


@dataclass
class ReplicaCase:
    """One article as the replica serves it, with the gold text a perfect extractor returns."""

    article_id: str
    column_id: str
    url: str
    title: str
    published: str
    source: str
    paragraphs: list[str]
    attachments: list[tuple[str, str]]
    template: str
    encoding: str
    status: int = 200
    flaky: bool = False
    revision: int = 1
    gzip: bool = False  # served gzip-compressed when the request accepts it
    chunked: bool = False  # served with Transfer-Encoding: chunked

    @property
    def text(self) -> str:
        """The gold clean text: one line per paragraph, heading, <br> line or table row."""
        return "\n".join(self.paragraphs)

    @property
    def path(self) -> str:
        """Site-relative URL path of the article page."""
        return self.url[len(SITE_ROOT) :]


def article_url(column_id: str, article_id: str, published: dt.date) -> str:
    """Absolute Hanweb article URL; the date parts carry no zero padding."""
    return (
        f"{SITE_ROOT}/art/{published.year}/{published.month}/{published.day}/"
        f"art_{column_id}_{article_id}.html"
    )


def attachment_url(filename: str) -> str:
    """Absolute URL of a Hanweb download for a stored file name (32 hex digits + extension)."""
    return f"{SITE_ROOT}/module/download/downfile.jsp?classid=0&filename={filename}"


def _attachment(
    rng: random.Random, number: int, zone: str, year: int, kind: str
) -> tuple[str, str]:
    title = rng.choice(_ATTACHMENT_TITLES).format(zone=zone, year=year)
    digest = hashlib.md5(f"{title}-{number}-{rng.random()}".encode(), usedforsecurity=False)
    return f"附件{number}：{title}.{kind}", attachment_url(f"{digest.hexdigest()}.{kind}")


class _Served(Protocol):
    """What the helpers below read of a case (this replica's or a family's)."""

    @property
    def article_id(self) -> str: ...
    @property
    def published(self) -> str: ...
    @property
    def flaky(self) -> bool: ...


_Case = TypeVar("_Case", bound=_Served)


def find_case(cases: Iterable[_Case], article_id: str) -> _Case:
    """The case with this article id (KeyError when there is none)."""
    for case in cases:
        if case.article_id == article_id:
            return case
    raise KeyError(article_id)


def claim_flaky(served: set[str], case: _Served) -> bool:
    """True exactly once per flaky case (noting it in ``served``): the request that gets a 503."""
    if not case.flaky or case.article_id in served:
        return False
    served.add(case.article_id)
    return True


def newer_articles(
    rng: random.Random,
    cases: list[_Case],
    count: int,
    next_id: Callable[[random.Random, int, dt.date], int],
) -> Iterator[tuple[int, int, dt.date]]:
    """(index, id, date) of ``count`` articles newer than all ``cases``, a day or two apart.

    Drawn from ``rng`` one article at a time as the caller asks, so the caller's own draws for
    each article come in between (as they did when every site wrote this loop itself).
    """
    published = max(dt.date.fromisoformat(case.published) for case in cases)
    previous = max(int(case.article_id) for case in cases)
    for index in range(count):
        published += dt.timedelta(days=rng.randint(1, 2))
        previous = next_id(rng, previous, published)
        yield index, previous, published


def story_lines(story: prose.CaseStory) -> list[str]:
    """A story's headings and paragraphs, in page order."""
    lines: list[str] = []
    for heading, paragraphs in story.sections:
        if heading:
            lines.append(heading)
        lines.extend(paragraphs)
    return lines


def _seed_case() -> ReplicaCase:
    return ReplicaCase(
        article_id=prose.SEED_ARTICLE_ID,
        column_id=COLUMN_ID,
        url=article_url(COLUMN_ID, prose.SEED_ARTICLE_ID, _SEED_DATE),
        title=prose.SEED_TITLE,
        published=prose.SEED_PUBLISHED,
        source=prose.SEED_SOURCE,
        paragraphs=prose.seed_paragraphs(),
        attachments=[],
        template="modern-plain",
        encoding="utf-8",
    )


def _generated_case(
    rng: random.Random,
    *,
    article_id: int,
    published: dt.date,
    template: str,
    taken_titles: set[str],
    column_id: str = COLUMN_ID,
    attachment_kinds: tuple[str, ...] = (),
) -> ReplicaCase:
    story = prose.story(rng, published.year, taken_titles)
    paragraphs = story_lines(story)
    if template == "modern-datatable":
        # Table rows are gold lines too (cells joined by a tab); pages.py renders them as a table.
        rows = prose.data_table_rows(rng, story.zone, story.city)
        at = min(2, len(paragraphs))
        paragraphs[at:at] = ["\t".join(row) for row in rows]
    elif template == "modern-attachment":
        second = f"现将有关材料予以公布，详见附件。（来源：{story.source}）"
        paragraphs = [story.sections[0][1][0], second]
        attachment_kinds = attachment_kinds or ("pdf",)
    attachments = [
        _attachment(rng, number, story.zone, published.year, kind)
        for number, kind in enumerate(attachment_kinds, 1)
    ]
    # Attachment links are visible body text, so their names end the gold lines.
    paragraphs.extend(name for name, _ in attachments)
    return ReplicaCase(
        article_id=str(article_id),
        column_id=column_id,
        url=article_url(column_id, str(article_id), published),
        title=story.title,
        published=published.isoformat(),
        source=story.source,
        paragraphs=paragraphs,
        attachments=attachments,
        template=template,
        encoding="utf-8",
    )


def _make_gb18030(case: ReplicaCase) -> None:
    """Put GBK-only characters and an em dash into a case served as GB18030 labelled gb2312."""
    extra = (
        "项目由山东喆达新材料有限公司与日照镕盛精密制造有限公司联合投资建设，"
        "计划2021—2023年分两期实施。"
    )
    case.paragraphs.insert(1, extra)
    case.encoding = "gb18030"
    case.template = "legacy-table"


def _dates(rng: random.Random, count: int) -> list[dt.date]:
    span = (_LAST_DATE - _FIRST_DATE).days
    return sorted(_FIRST_DATE + dt.timedelta(days=rng.randint(0, span)) for _ in range(count))


def _next_id(rng: random.Random, previous: int, published: dt.date) -> int:
    by_date = _SEED_ID + (published - _SEED_DATE).days * _IDS_PER_DAY + rng.randint(0, 2_999)
    return max(previous + rng.randint(1, 400), by_date)


def build_cases(config: ReplicaConfig) -> list[ReplicaCase]:
    """Generate the column's cases, newest first, the seed article last (the oldest)."""
    rng = random.Random(config.seed)
    taken_titles = {prose.SEED_TITLE}
    others = config.cases - 1
    # Oldest first while generating so ids grow with dates.
    ids: list[int] = []
    previous = _SEED_ID
    dates = _dates(rng, others)
    for published in dates:
        previous = _next_id(rng, previous, published)
        ids.append(previous)
    templates = [_ROTATING_TEMPLATES[i % len(_ROTATING_TEMPLATES)] for i in range(others)]
    rng.shuffle(templates)
    # Special roles, in priority order, land on distinct random positions (small sites get fewer).
    roles = ["dead", "flaky", "chunked", "gb18030", "attachment-only", "cross", "cross", "attach"]
    roles += ["attach-table", "cross"] if others >= 30 else []
    positions = rng.sample(range(others), min(len(roles), others))
    role_at = dict(zip(positions, roles, strict=False))
    cases: list[ReplicaCase] = [_seed_case()]
    for index, (article_id, published) in enumerate(zip(ids, dates, strict=True)):
        role = role_at.get(index)
        template = templates[index]
        if role == "attachment-only":
            template = "modern-attachment"
        elif role == "attach-table":
            template = "modern-datatable"
        elif role in ("chunked", "cross") and template == "legacy-table":
            template = "modern-meta"
        column_id = OTHER_COLUMN_ID if role == "cross" else COLUMN_ID
        case = _generated_case(
            rng,
            article_id=article_id,
            published=published,
            template=template,
            taken_titles=taken_titles,
            column_id=column_id,
            attachment_kinds=_ROLE_ATTACHMENTS.get(role or "", ()),
        )
        if role == "dead":
            case.status = 404
            case.paragraphs = []
        elif role == "flaky":
            case.flaky = True
        elif role == "chunked":
            case.chunked = True
        elif role == "gb18030":
            _make_gb18030(case)
        # Compression on a share of ordinary pages; special pages keep one quirk each.
        case.gzip = role is None and rng.random() < 0.3
        cases.append(case)
    cases.reverse()
    return cases


class ReplicaSite:
    """The replica's content, safe to read from server threads while a test edits it."""

    def __init__(self, config: ReplicaConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self._lock = threading.RLock()
        # Replaced, never mutated in place, so a reader holding the old list sees a consistent one.
        self.cases: list[ReplicaCase] = build_cases(self.config)
        self.chrome_version = 0
        self._titles = {case.title for case in self.cases}
        self._added_batches = 0
        self._served_flaky: set[str] = set()
        self._dataproxy_requests = 0
        self._by_path: dict[str, ReplicaCase] = {}
        self._paths_of: list[ReplicaCase] | None = None
        self._paths_count = 0

    @property
    def column_url(self) -> str:
        """The column page a crawler starts from (as family sites name theirs)."""
        return f"{SITE_ROOT}/col/col{COLUMN_ID}/index.html"

    def listed(self) -> list[ReplicaCase]:
        """What the column listing currently shows, newest first."""
        with self._lock:
            if self.config.fault == "empty-column":
                return []
            return list(self.cases)

    def case(self, article_id: str) -> ReplicaCase:
        """The case with this article id (KeyError when there is none)."""
        with self._lock:
            return find_case(self.cases, article_id)

    def case_at(self, path: str) -> ReplicaCase | None:
        """The case whose page lives at this site-relative path, if any."""
        with self._lock:
            # An index by path, rebuilt when cases come or go: a scan per request made large
            # (benchmark) replicas answer in time proportional to their size.
            if self._paths_of is not self.cases or self._paths_count != len(self.cases):
                self._by_path = {case.path: case for case in self.cases}
                self._paths_of, self._paths_count = self.cases, len(self.cases)
            return self._by_path.get(path)

    def attachment(self, filename: str) -> tuple[ReplicaCase, str] | None:
        """The case linking a download file name, and the link text, if any case links it."""
        url = attachment_url(filename)
        with self._lock:
            for case in self.cases:
                for name, link in case.attachments:
                    if link == url:
                        return case, name
        return None

    def add_cases(self, n: int) -> list[ReplicaCase]:
        """Publish ``n`` new cases at the top of the listing, newer than every existing one."""
        with self._lock:
            self._added_batches += 1
            rng = random.Random(f"{self.config.seed}-added-{self._added_batches}")
            added: list[ReplicaCase] = []
            for index, article_id, published in newer_articles(rng, self.cases, n, _next_id):
                template = _ROTATING_TEMPLATES[(self._added_batches + index) % 2]
                case = _generated_case(
                    rng,
                    article_id=article_id,
                    published=published,
                    template=template,
                    taken_titles=self._titles,
                )
                added.append(case)
            added.reverse()
            self.cases = added + self.cases
            logger.info("replica: published %d new cases", n)
            return added

    def revise(self, article_id: str) -> ReplicaCase:
        """Edit a case's body text; its revision, ETag and Last-Modified change with it."""
        with self._lock:
            old = self.case(article_id)
            rng = random.Random(f"{self.config.seed}-revise-{article_id}-{old.revision}")
            paragraphs = list(old.paragraphs)
            # The new paragraph goes before the attachment lines, which stay last in the body.
            at = len(paragraphs) - len(old.attachments)
            paragraphs.insert(at, prose.revision_paragraph(rng))
            new = dataclasses.replace(old, paragraphs=paragraphs, revision=old.revision + 1)
            self.cases = [new if case.article_id == article_id else case for case in self.cases]
            logger.info("replica: revised case %s to revision %d", article_id, new.revision)
            return new

    def change_chrome(self) -> None:
        """Change a sidebar link on every case page, leaving every body untouched."""
        with self._lock:
            self.chrome_version += 1

    def first_request_of_flaky(self, case: ReplicaCase) -> bool:
        """True exactly once per flaky case: the request that must fail with 503."""
        with self._lock:
            return claim_flaky(self._served_flaky, case)

    def note_dataproxy_request(self) -> None:
        """Count a dataproxy request; the first one publishes ``grow_by`` cases mid-crawl."""
        with self._lock:
            self._dataproxy_requests += 1
            if self._dataproxy_requests == 1 and self.config.grow_by:
                self.add_cases(self.config.grow_by)
