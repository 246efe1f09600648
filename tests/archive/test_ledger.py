"""The ledger owns case state: versions, dead links, withdrawals, and no case left open."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseharvest.archive.case_store import CaseFetched
from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.ledger import CaseLedger
from caseharvest.archive.run_summary import RunSummary
from caseharvest.extract import ExtractedPage
from caseharvest.model import Capture, CaseKey, CaseStatus, ListingRecord, WarcRecordRef

SITE = "shandong"


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[tuple[ArchiveLayout, Catalog]]:
    layout = ArchiveLayout(tmp_path)
    catalog = Catalog(layout.catalog)
    yield layout, catalog
    catalog.close()


def fetched(catalog: Catalog, key: CaseKey, serial: int, revisit: bool = False) -> CaseFetched:
    url = f"http://commerce.shandong.gov.cn/art/2024/1/{serial}/art_{key.column}_{key.case_id}.html"
    record = WarcRecordRef(
        warc_file="f.warc.gz",
        offset=serial * 100,
        length=100,
        record_id=f"<urn:uuid:{serial:08d}-0000-0000-0000-000000000000>",
        record_type="revisit" if revisit else "response",
        warc_date=f"2024-01-0{serial}T00:00:00.000000Z",
        payload_digest="sha1:X",
        request_record_id="",
    )
    capture_id = catalog.add_capture(
        run_id="r", url=url, method="GET", status=200, record=record, headers={}
    )
    return CaseFetched(
        key=key,
        url=url,
        listing=ListingRecord(url, "标题", "2024-01-01"),
        body=b"",
        content_type="text/html",
        capture=Capture(capture_id, record),
    )


def page(text: str, title: str = "标题") -> ExtractedPage:
    return ExtractedPage(
        text=text,
        title=title,
        published="2024-01-01",
        source="商务局",
        attachments=(),
        method="profile",
        confidence="high",
        encoding="utf-8",
        warnings=(),
    )


def store(ledger: CaseLedger, layout: ArchiveLayout, case: CaseFetched, text: str) -> None:
    plan = ledger.decide(case, page(text))
    if plan is not None:
        plan.write_files(layout)
        ledger.record_version(plan)


def test_the_same_id_in_two_columns_is_two_cases(
    archive: tuple[ArchiveLayout, Catalog],
) -> None:
    layout, catalog = archive
    ledger = CaseLedger(catalog, RunSummary(), SITE, "r")
    first, second = CaseKey(SITE, "21482", "777"), CaseKey(SITE, "21483", "777")
    store(ledger, layout, fetched(catalog, first, 1), "第一栏的案例。")
    store(ledger, layout, fetched(catalog, second, 2), "第二栏的案例。")
    assert ledger.summary.new == 2
    for key, text in ((first, "第一栏的案例。"), (second, "第二栏的案例。")):
        txt, meta = layout.text_paths(key, "2024-01-01")
        assert txt.read_text("utf-8") == text and meta.exists()
        assert catalog.latest_version(key).metadata["column"] == key.column  # type: ignore[union-attr]
    assert len(catalog.cases()) == 2


def test_a_changed_text_is_a_new_version_and_the_same_text_is_not(
    archive: tuple[ArchiveLayout, Catalog],
) -> None:
    layout, catalog = archive
    key = CaseKey(SITE, "21482", "5")
    ledger = CaseLedger(catalog, RunSummary(), SITE, "r")
    store(ledger, layout, fetched(catalog, key, 1), "原文。")
    store(ledger, layout, fetched(catalog, key, 2), "原文。")
    store(ledger, layout, fetched(catalog, key, 3), "改过的文字。")
    assert (ledger.summary.new, ledger.summary.unchanged, ledger.summary.revised) == (1, 1, 1)
    assert [v.version for v in catalog.versions(key)] == [1, 2]
    older, _ = layout.text_paths(key, "2024-01-01", version=1)
    assert older.read_text("utf-8") == "原文。"


def test_two_plans_from_the_same_latest_version_cannot_both_be_recorded(
    archive: tuple[ArchiveLayout, Catalog],
) -> None:
    # The ledger numbers a version from the latest it read; a second plan decided before the
    # first was recorded would take the same number: the catalog refuses it, loudly.
    _layout, catalog = archive
    key = CaseKey(SITE, "21482", "6")
    ledger = CaseLedger(catalog, RunSummary(), SITE, "r")
    first = ledger.decide(fetched(catalog, key, 1), page("一稿。"))
    second = ledger.decide(fetched(catalog, key, 2), page("二稿。"))
    assert first is not None and second is not None
    ledger.record_version(first)
    with pytest.raises(sqlite3.IntegrityError):
        ledger.record_version(second)
    assert [v.version for v in catalog.versions(key)] == [1]


def test_every_listed_case_ends_with_an_outcome(archive: tuple[ArchiveLayout, Catalog]) -> None:
    layout, catalog = archive
    ledger = CaseLedger(catalog, RunSummary(), SITE, "r")
    keys = [CaseKey(SITE, "21482", str(n)) for n in range(4)]
    for key in keys:
        assert ledger.listed(key, f"http://x/{key.case_id}", ListingRecord("u", "t", None))
    store(ledger, layout, fetched(catalog, keys[0], 1), "文字。")
    ledger.dead(keys[1], "http://x/1", 404, "2024-01-01T00:00:00Z", None)
    ledger.failed(keys[2], "http://x/2", "HTTP 500", None)
    ledger.close_open("no answer was recorded for it")
    summary = ledger.summary
    assert summary.new == 1 and summary.dead == {"http://x/1": "HTTP 404"}
    assert summary.failed == {
        "http://x/2": "HTTP 500",
        "http://x/3": "no answer was recorded for it",
    }
    assert catalog.case(keys[3]).status is CaseStatus.FAILED  # type: ignore[union-attr]
    assert summary.exit_code == 1


def test_a_known_case_answering_404_is_withdrawn_and_keeps_its_archive(
    archive: tuple[ArchiveLayout, Catalog],
) -> None:
    layout, catalog = archive
    key = CaseKey(SITE, "21482", "9")
    store(CaseLedger(catalog, RunSummary(), SITE, "r1"), layout, fetched(catalog, key, 1), "在。")
    ledger = CaseLedger(catalog, RunSummary(), SITE, "r2")
    ledger.dead(key, "http://x/9", 410, "2024-02-02T00:00:00Z", None)
    case = catalog.case(key)
    assert case is not None and case.status is CaseStatus.ARCHIVED
    assert case.withdrawn_at == "2024-02-02T00:00:00Z"
    assert ledger.summary.withdrawn == ["http://x/9"] and not ledger.summary.dead
    # Listed again later: the withdrawal is taken back, once.
    again = CaseLedger(catalog, RunSummary(), SITE, "r3")
    assert not again.listed(key, "http://x/9", ListingRecord("http://x/9", "t", None))
    assert catalog.case(key).withdrawn_at is None  # type: ignore[union-attr]
    assert any("listed again" in w for w in again.summary.warnings)
