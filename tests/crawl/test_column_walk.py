"""The listing policy every source shares, against a fake listing source: no server, no Scrapy."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from caseharvest.archive.catalog import Catalog
from caseharvest.archive.ledger import CaseLedger
from caseharvest.archive.run_summary import RunSummary
from caseharvest.crawl.column_walk import LISTING_AHEAD, ColumnWalk, WalkError, WalkStep
from caseharvest.listings.base import ListingAnswer, ListingPage, ListingRequest
from caseharvest.model import CaseKey, CaseStatus, ListingRecord

SITE = "fake"
COLUMN = "col1"


@dataclass(frozen=True)
class FakeSite:
    name: str = SITE
    allowed_hosts: tuple[str, ...] = ("fake.example",)

    def allows(self, url: str) -> bool:
        return url.startswith("http://fake.example/")


@dataclass(frozen=True)
class FakeColumn:
    id: str = COLUMN
    name: str = "典型案例"
    url: str = "http://fake.example/list/1"
    case_pattern: str = ""


def url_of(case_id: int) -> str:
    return f"http://fake.example/case/{case_id}.html"


@dataclass
class FakeSource:
    """A listing served as pages of ``page_size`` records; page N links to page N + 1.

    ``pages`` maps a page number to the case ids it lists; ``totals`` what each page says the
    column holds (None: the site gives no total); ``alternative`` pages answer the other form.
    """

    style: ClassVar[str] = "fake"
    pages: dict[int, list[int]]
    totals: dict[int, int | None] = field(default_factory=dict)
    size: int = 3
    alternative: dict[int, list[int]] | None = None
    site: FakeSite = field(default_factory=FakeSite)
    column: FakeColumn = field(default_factory=FakeColumn)
    stalls: int = 0

    def start(self) -> list[ListingRequest]:
        return [self._request(1)]

    def _request(self, number: int, form: str = "main") -> ListingRequest:
        return ListingRequest(
            f"http://fake.example/list/{number}?form={form}", state={"n": number, "form": form}
        )

    def parse(self, answer: ListingAnswer) -> ListingPage:
        number, form = answer.request.state["n"], answer.request.state["form"]
        source = self.alternative if form == "alt" and self.alternative else self.pages
        ids = source.get(number, [])
        records = tuple(ListingRecord(url_of(i), f"case {i}", "2024-01-01") for i in ids)
        following = (self._request(number + 1, form),) if number + 1 in source else ()
        return ListingPage(records, self.totals.get(number), following)

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        self.stalls += 1
        if self.alternative is None or answer.request.state["form"] == "alt":
            return []
        return [self._request(answer.request.state["n"], "alt")]

    def case_key(self, url: str) -> CaseKey | None:
        if "/case/" not in url:
            return None
        return CaseKey(SITE, COLUMN, url.rsplit("/", 1)[1].removesuffix(".html"))

    def page_size(self) -> int:
        return self.size


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    db = Catalog(tmp_path / "catalog.sqlite3")
    yield db
    db.close()


def ledger_with(catalog: Catalog, known: list[int] = (), limit: int = 0) -> CaseLedger:  # type: ignore[assignment]
    for case_id in known:
        catalog.note_case(
            CaseKey(SITE, COLUMN, str(case_id)),
            url=url_of(case_id),
            status=CaseStatus.ARCHIVED,
            run_id="earlier",
            at="2024-01-01T00:00:00Z",
        )
    catalog.commit()
    return CaseLedger(catalog, RunSummary(), SITE, "now", limit=limit)


def answer(request: ListingRequest) -> ListingAnswer:
    return ListingAnswer(request, request.url, 200, "")


def walk_all(walk: ColumnWalk) -> tuple[list[str], list[WalkStep]]:
    """Answer every listing request (cases answered at once); the case ids fetched, the steps."""
    fetched: list[str] = []
    steps: list[WalkStep] = []
    queue = walk.start()
    while queue:
        step = walk.on_answer(answer(queue.pop(0)))
        steps.append(step)
        queue.extend(step.requests)
        for key, _record in step.cases:
            fetched.append(key.case_id)
            queue.extend(walk.case_answered())
    queue.extend(walk.release_deferred())
    assert not queue
    return fetched, steps


def test_a_whole_listing_is_walked_and_every_case_fetched_once(catalog: Catalog) -> None:
    source = FakeSource({1: [9, 8, 7], 2: [7, 6, 5], 3: [4]}, totals={1: 7})
    walk = ColumnWalk(source, ledger_with(catalog), full=False)
    fetched, _ = walk_all(walk)
    assert fetched == ["9", "8", "7", "6", "5", "4"]  # 7 repeated across pages: once
    assert walk.complete and not walk.stopped
    assert walk.ledger.summary.listed == 6


def test_incremental_stop_at_a_page_of_known_cases_once_the_total_is_covered(
    catalog: Catalog,
) -> None:
    source = FakeSource({1: [10, 9, 8], 2: [7, 6, 5], 3: [4, 3, 2]}, totals={1: 9})
    walk = ColumnWalk(source, ledger_with(catalog, known=[2, 3, 4, 5, 6, 7, 8]), full=False)
    fetched, steps = walk_all(walk)
    assert fetched == ["10", "9"]
    assert walk.stopped and not walk.complete
    assert not steps[-1].requests and len(steps) == 2  # page 3 never asked for


def test_pinned_known_items_on_top_do_not_stop_the_walk(catalog: Catalog) -> None:
    # Page 1 starts with two pinned old cases the archive knows, then new ones.
    source = FakeSource({1: [1, 2, 30, 29], 2: [28, 27], 3: [1, 2]}, totals={1: 6})
    walk = ColumnWalk(source, ledger_with(catalog, known=[1, 2]), full=False)
    fetched, _ = walk_all(walk)
    assert fetched == ["30", "29", "28", "27"]


def test_the_count_must_cover_the_total_before_stopping(catalog: Catalog) -> None:
    # A whole page of known cases, but the archive knows fewer than the listing's total:
    # back-dated cases may hide further down, so the walk goes on.
    source = FakeSource({1: [5, 4], 2: [3, 2], 3: [1]}, totals={1: 5})
    walk = ColumnWalk(source, ledger_with(catalog, known=[5, 4]), full=False)
    fetched, _ = walk_all(walk)
    assert fetched == ["3", "2", "1"]


def test_a_full_walk_reads_everything(catalog: Catalog) -> None:
    source = FakeSource({1: [3, 2], 2: [1]}, totals={1: 3})
    walk = ColumnWalk(source, ledger_with(catalog, known=[1, 2, 3]), full=True)
    fetched, steps = walk_all(walk)
    assert fetched == [] and len(steps) == 2 and walk.complete


def test_a_first_page_without_records_is_an_error_not_nothing_new(catalog: Catalog) -> None:
    walk = ColumnWalk(FakeSource({1: []}, totals={1: 0}), ledger_with(catalog), full=False)
    with pytest.raises(WalkError, match="zero records"):
        walk.on_answer(answer(walk.start()[0]))


def test_a_total_far_below_what_the_archive_knows_is_refused(catalog: Catalog) -> None:
    source = FakeSource({1: [30, 29]}, totals={1: 4})
    walk = ColumnWalk(source, ledger_with(catalog, known=list(range(1, 13))), full=False)
    with pytest.raises(WalkError, match="looks broken"):
        walk.on_answer(answer(walk.start()[0]))


def test_a_listing_that_shrinks_during_the_walk_withdraws_nothing(catalog: Catalog) -> None:
    # The dataproxy answers an empty recordset with total 0 halfway through a full walk.
    source = FakeSource({1: [9, 8, 7], 2: []}, totals={1: 9, 2: 0})
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    first = walk.on_answer(answer(walk.start()[0]))
    with pytest.raises(WalkError, match="shrank from 9 to 0"):
        walk.on_answer(answer(first.requests[0]))
    assert not walk.complete


def test_an_empty_page_in_the_middle_is_an_error(catalog: Catalog) -> None:
    source = FakeSource({1: [9, 8], 2: [], 3: [5]})
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    first = walk.on_answer(answer(walk.start()[0]))
    with pytest.raises(WalkError, match="empty in the middle"):
        walk.on_answer(answer(first.requests[0]))


def test_a_step_that_repeats_old_records_ends_the_walk_instead_of_running_away(
    catalog: Catalog,
) -> None:
    # A huge total, and every further page repeats the last one.
    pages = {n: [2, 1] for n in range(2, 1000)}
    source = FakeSource({1: [4, 3], **pages}, totals={1: 1_000_000})
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    fetched, steps = walk_all(walk)
    assert fetched == ["4", "3", "2", "1"]
    assert len(steps) == 3  # page 1, page 2, then page 3 brings nothing new: the end
    assert walk.stopped and not walk.complete  # never a complete walk: nothing is withdrawn
    assert any("brought no record" in w for w in walk.ledger.summary.warnings)


def test_a_stalled_step_tries_the_other_request_form_once(catalog: Catalog) -> None:
    # The main form ignores paging (page 2 repeats page 1); the alternative form pages.
    source = FakeSource({1: [6, 5], 2: [6, 5]}, totals={1: 6}, alternative={2: [4, 3], 3: [2, 1]})
    walk = ColumnWalk(source, ledger_with(catalog), full=False)
    fetched, _ = walk_all(walk)
    assert fetched == ["6", "5", "4", "3", "2", "1"]
    assert source.stalls == 1 and walk.complete


def test_listing_is_read_ahead_of_the_case_pages_by_a_bounded_amount(catalog: Catalog) -> None:
    pages = {n: [100 - 2 * n, 99 - 2 * n] for n in range(1, 20)}
    source = FakeSource(pages, size=2)
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    queue = walk.start()
    pending = 0
    while queue:  # nobody answers a case: the listing must stop asking
        step = walk.on_answer(answer(queue.pop(0)))
        pending += len(step.cases)
        queue.extend(step.requests)
    assert pending <= (LISTING_AHEAD + 1) * source.size + source.size
    assert walk.deferred  # held back, released as cases are answered
    released = []
    for _ in range(pending):
        released.extend(walk.case_answered())
    assert released


def test_limit_stops_reading_the_listing(catalog: Catalog) -> None:
    source = FakeSource({1: [9, 8, 7], 2: [6, 5, 4], 3: [3]})
    walk = ColumnWalk(source, ledger_with(catalog, limit=2), full=True)
    fetched, _ = walk_all(walk)
    assert fetched == ["9", "8"]
    assert walk.ledger.summary.skipped_by_limit == 1 and walk.stopped


def test_links_the_source_does_not_recognise_fail_with_a_reason(catalog: Catalog) -> None:
    source = FakeSource({1: [3]})
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    page = ListingPage(
        (
            ListingRecord("http://fake.example/about.html", "about", None),
            ListingRecord("http://elsewhere.example/case/1.html", "off site", None),
        ),
        None,
    )
    source.parse = lambda _answer: page  # type: ignore[method-assign]
    step = walk.on_answer(answer(walk.start()[0]))
    assert step.cases == []
    summary = walk.ledger.summary
    assert "not a case page" in summary.failed["http://fake.example/about.html"]
    assert any("does not allow" in warning for warning in summary.warnings)


def test_a_case_named_again_by_another_url_is_not_fresh(catalog: Catalog) -> None:
    # Every further page names the first page's cases again, each time by another URL form
    # (a query the site adds per page, a fragment): the walk remembers cases, not strings.
    source = FakeSource({1: [4, 3], **{n: [4, 3] for n in range(2, 1000)}}, totals={1: 10**6})
    parse = source.parse

    def reworded(listing_answer: ListingAnswer) -> ListingPage:
        page = parse(listing_answer)
        number = listing_answer.request.state["n"]
        records = tuple(
            ListingRecord(
                f"{r.url}?from=list{number}#top" if number > 1 else r.url, r.title, r.date
            )
            for r in page.records
        )
        return ListingPage(records, page.total, page.next)

    source.parse = reworded  # type: ignore[method-assign]
    source.case_key = lambda url: CaseKey(  # type: ignore[method-assign]
        SITE, COLUMN, url.split("?")[0].rsplit("/", 1)[1].removesuffix(".html")
    )
    walk = ColumnWalk(source, ledger_with(catalog), full=True)
    fetched, steps = walk_all(walk)
    assert fetched == ["4", "3"]
    assert len(steps) == 2 and walk.stopped and not walk.complete
