"""Every listed case ends archived, dead, unchanged or failed with a reason, whatever the site does.

Each test serves the replica with a fault on chosen case pages and checks the ledger's
promise over the whole run (``assert_accounted``): nothing listed goes missing, the exit code
says when something failed, and no Python traceback reaches the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from caseharvest.archive.upgrade import open_catalog
from caseharvest.model import CaseStatus
from caseharvest.replica import ReplicaServer
from caseharvest.replica.routes import SiteResponse
from tests.conftest import Crawl, fetch
from tests.faults.fault_server import (
    PNG,
    SITE,
    Fault,
    body,
    coded,
    faulty_replica,
    redirect_to,
)


@pytest.fixture
def crawl_with(tmp_path: Path) -> Iterator[object]:
    servers: list[ReplicaServer] = []

    def run(faults: dict[str, Fault], *extra: str) -> tuple[Crawl, ReplicaServer]:
        replica = faulty_replica(faults, log_path=tmp_path / "replica.jsonl").start()
        servers.append(replica)
        return fetch(tmp_path / "archive", replica, *extra), replica

    yield run
    for server in servers:
        server.stop()


def assert_accounted(crawl: Crawl, replica: ReplicaServer) -> dict[str, tuple[str, str | None]]:
    """Every listed case has its catalog row: archived, dead or failed with a reason."""
    result = crawl.result
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    catalog = open_catalog(crawl.archive, read_only=True)
    try:
        rows = {case.url: (str(case.status), case.reason) for case in catalog.iter_cases()}
    finally:
        catalog.close()
    listed = [f"{SITE}{case.path}" for case in replica.site.listed()]
    missing = [url for url in listed if url not in rows]
    assert not missing, f"listed cases with no outcome: {missing}"
    for url in listed:
        status, reason = rows[url]
        assert status in (CaseStatus.ARCHIVED, CaseStatus.DEAD, CaseStatus.FAILED)
        if status == CaseStatus.FAILED:
            assert reason, url
    failed = [url for url in listed if rows[url][0] == CaseStatus.FAILED]
    assert (result.returncode == 1) == bool(failed), (result.returncode, failed)
    for url in failed:
        assert url in result.stderr, f"{url} failed but stderr does not say so"
    report = crawl.report
    assert report["exit_code"] == result.returncode
    return rows


def case_path(replica_index: int) -> str:
    from caseharvest.replica import ReplicaConfig, ReplicaSite

    site = ReplicaSite(ReplicaConfig(cases=20, per_page=5, group_size=2))
    return site.listed()[replica_index].path


def test_case_page_redirects_each_end_with_a_reason(crawl_with) -> None:  # type: ignore[no-untyped-def]
    to_other_case, loop_a, loop_b = case_path(1), case_path(3), "/loop/elsewhere.html"
    moved, off_site = case_path(5), case_path(6)
    faults = {
        to_other_case: redirect_to(f"{SITE}{case_path(0)}"),
        loop_a: redirect_to(f"{SITE}{loop_b}"),
        loop_b: redirect_to(f"{SITE}{loop_a}", 301),
        moved: redirect_to(f"{SITE}/art/2099/1/1/moved_page.html", 301),
        off_site: redirect_to("http://www.example.com/elsewhere.html"),
        "/art/2099/1/1/moved_page.html": lambda request, normal: page_of_case(6),
    }
    crawl, replica = crawl_with(faults)
    rows = assert_accounted(crawl, replica)
    assert rows[f"{SITE}{to_other_case}"] == (
        "failed",
        f"redirects to another case of the listing, {SITE}{case_path(0)}",
    )
    assert rows[f"{SITE}{loop_a}"][1].startswith("redirect loop: ")  # type: ignore[union-attr]
    assert rows[f"{SITE}{loop_a}"][1] == (
        f"redirect loop: {SITE}{loop_a} -> {SITE}{loop_b} -> {SITE}{loop_a}"
    )
    assert rows[f"{SITE}{off_site}"] == (
        "failed",
        "redirects off the site, to http://www.example.com/elsewhere.html",
    )
    # A case that moved within the site is archived under the URL the listing gave.
    assert rows[f"{SITE}{moved}"] == ("archived", None)
    hosts = {json.loads(line)["host"] for line in (crawl.archive.parent / "replica.jsonl").open()}
    assert "www.example.com" not in hosts  # never fetched off the site


def page_of_case(index: int) -> SiteResponse:
    """The normal page of case *index*, served at another path."""
    from caseharvest.replica import ReplicaConfig, ReplicaSite
    from caseharvest.replica.routes import SiteRequest, SiteRouter

    site = ReplicaSite(ReplicaConfig(cases=20, per_page=5, group_size=2))
    return SiteRouter(site).answer(SiteRequest("GET", site.listed()[index].path, ""))


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (body(b""), "the page is empty (HTTP 200 with no content)"),
        (body(b"  \r\n\t  \n"), "the page is empty (HTTP 200 with no content)"),
        (body(PNG, "image/png"), "not an HTML page (Content-Type image/png)"),
        (
            body(b"\x00garbage\xff", coding="x-unheard-of"),
            "the page came with Content-Encoding x-unheard-of, which cannot be decoded",
        ),
        # Not empty, yet no document at all: the case fails alone.
        (body(b"<!-- -->"), "the page holds no HTML document"),
    ],
    ids=["empty", "whitespace", "png", "unknown-coding", "parser-error"],
)
def test_a_page_that_cannot_be_a_case_fails_it_with_the_reason(
    crawl_with,  # type: ignore[no-untyped-def]
    fault: Fault,
    reason: str,
) -> None:
    target = case_path(2)
    crawl, replica = crawl_with({target: fault})
    rows = assert_accounted(crawl, replica)
    assert rows[f"{SITE}{target}"] == ("failed", reason)
    assert crawl.result.returncode == 1
    assert f"{SITE}{target}: {reason}" in crawl.result.stderr


@pytest.mark.parametrize("coding", ["br", "zstd", "compress"])
def test_every_content_coding_is_decoded_for_the_text(crawl_with, coding: str) -> None:  # type: ignore[no-untyped-def]
    target = case_path(2)
    crawl, replica = crawl_with({target: coded(coding)})
    rows = assert_accounted(crawl, replica)
    assert rows[f"{SITE}{target}"] == ("archived", None)
    catalog = open_catalog(crawl.archive, read_only=True)
    try:
        case = catalog.case_by_url(f"{SITE}{target}")
        assert case is not None and case.metadata is not None
        gold = replica.site.listed()[2]
        assert case.metadata["title"] == gold.title
    finally:
        catalog.close()
    text = next(crawl.archive.glob(f"text/shandong/*/*/{gold.article_id}.txt")).read_text("utf-8")
    assert text.replace("\n", "") == "".join(gold.text.split("\n"))
