"""Each CMS family end to end: first crawl, a rerun after new cases and a revision, replay.

One replica per bundled profile of a family, each with its family's quirks: TRS pinned items
and relative links (GBK with the charset only in a <meta> for Hubei), Hanweb twin units and a
dataproxy honouring only ``page=`` over https, the jpaas unit API and its rate-limited download
gateway, Guangdong NFCMS and gkmlpt over https (one host, two columns), and an Anhui-like list
of no known family. All sites are crawled by one `fetch SITE…` (a child process per site), to
keep the test quick.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from caseharvest.capture.warc_reader import TornTail, iter_records
from caseharvest.cli import cli
from caseharvest.replica import (
    FamilyCase,
    FamilySite,
    GenericConfig,
    GenericSite,
    GkmlptConfig,
    GkmlptSite,
    HanwebVariantConfig,
    HanwebVariantSite,
    JpaasConfig,
    JpaasSite,
    NfcmsConfig,
    NfcmsSite,
    ReplicaServer,
    TrsSite,
)
from caseharvest.replica.registry import FUJIAN_TRS, HUBEI_TRS
from tests.families.conftest import Run, assert_gold, export, fetch

CASES = 12

# test id → (profile name, replica site)
SITES: dict[str, tuple[str, FamilySite]] = {
    "trs-fujian": ("fujian", TrsSite(dataclasses.replace(FUJIAN_TRS, cases=CASES, per_page=4))),
    "trs-hubei-gbk": ("hubei", TrsSite(dataclasses.replace(HUBEI_TRS, cases=CASES, per_page=4))),
    "hanweb-jiangsu-https": (
        "jiangsu",
        HanwebVariantSite(HanwebVariantConfig(cases=CASES, per_page=2, group_size=2)),
    ),
    "jpaas-zhejiang": ("zhejiang", JpaasSite(JpaasConfig(cases=CASES))),
    "nfcms-guangdong-https": ("guangdong", NfcmsSite(NfcmsConfig(cases=CASES, per_page=4))),
    "gkmlpt-guangdong-https": ("guangdong", GkmlptSite(GkmlptConfig(cases=CASES))),
    "generic-anhui": ("anhui", GenericSite(GenericConfig(cases=CASES, per_page=4))),
}
PROFILES = sorted({name for name, _ in SITES.values()})


@dataclasses.dataclass
class Crawls:
    """Both runs over every family's replica, and what was changed between them."""

    archive: Path
    first: Run
    rerun: Run
    added: dict[str, list[FamilyCase]]
    revised: dict[str, FamilyCase]
    first_requests: Counter[str]  # GET URL → how often the first crawl asked for it


def _revisable(site: FamilySite) -> str:
    """A case with a page (and attachments, when one has): its revision refetches them."""
    live = [c for c in site.listed() if c.status == 200 and not c.flaky and not c.pinned]
    with_files = [c for c in live if c.attachments]
    return (with_files or live)[-1].article_id


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawls]:
    archive = tmp_path_factory.mktemp("families") / "archive"
    with ReplicaServer(sites=[site for _, site in SITES.values()]) as replica:
        first = fetch(archive, replica, *PROFILES)
        first_requests = Counter(e.url for e in replica.exchanges() if e.method == "GET")
        added = {test: site.add_cases(2) for test, (_, site) in SITES.items()}
        revised = {test: site.revise(_revisable(site)) for test, (_, site) in SITES.items()}
        rerun = fetch(archive, replica, *PROFILES, "--revalidate")
        yield Crawls(archive, first, rerun, added, revised, first_requests)


def _report(run: Run, site_name: str) -> dict[str, Any]:
    reports = [r for r in run.reports if r["site"] == site_name]
    assert len(reports) == 1, run.output
    return reports[0]


def test_every_site_ran_cleanly(crawls: Crawls) -> None:
    assert crawls.first.result.returncode == 0, crawls.first.output
    assert crawls.rerun.result.returncode == 0, crawls.rerun.output


@pytest.mark.parametrize("test", list(SITES))
def test_first_crawl_rerun_and_replay(crawls: Crawls, test: str, tmp_path: Path) -> None:
    site_name, site = SITES[test]
    first = _report(crawls.first, site_name)
    assert first["full_walk"] is True and first["failed"] == {}, first
    dead = {case.url for case in site.listed() if case.status == 404}
    assert dead <= set(first["dead"])
    # Each case page asked for once, pinned items listed on every page and twin units too
    # (the ledger keeps case requests unique: Scrapy's duplicate filter does not see them).
    later = {case.url for case in crawls.added[test]}
    asked = {
        c.url: crawls.first_requests[c.url]
        for c in site.listed()
        if not c.flaky and c.url not in later
    }
    assert set(asked.values()) == {1}, {url: n for url, n in asked.items() if n != 1}
    rerun = _report(crawls.rerun, site_name)
    # (That a rerun stops at a page of known cases, pinned items above the new ones, is shown
    # in test_column_url_and_anti_bot: a walk also reads on while the archive knows fewer
    # cases than the listing's total, which new cases still being fetched can make so.)
    assert rerun["failed"] == {}, rerun
    # New cases of this replica, plus those of the site's other column (Guangdong has two).
    columns = sum(1 for name, _ in SITES.values() if name == site_name)
    assert (rerun["new"], rerun["revised"]) == (2 * columns, columns), rerun
    assert_gold(crawls.archive, site_name, site)
    versions = {
        (row["url"], row["version"]) for row in export(crawls.archive, site_name, "--all-versions")
    }
    assert {(case.url, 1) for case in crawls.added[test]} <= versions
    assert (crawls.revised[test].url, 2) in versions

    # Every record keeps the scheme it was fetched with (https through CONNECT included).
    targets = {
        record.target_uri
        for path in sorted((crawls.archive / "warc" / site_name).glob("*.warc.gz"))
        for record in iter_records(path)
        if not isinstance(record, TornTail) and record.record_type == "response"
    }
    assert crawls.revised[test].url in targets and site.column_url in targets

    replayed = tmp_path / "replayed"
    result = CliRunner().invoke(
        cli,
        ["replay", str(crawls.archive / "warc" / site_name), "--archive", str(replayed)],
    )
    assert result.exit_code == 0, result.output
    everything = ("--all-versions",)
    assert export(replayed, site_name, *everything) == export(
        crawls.archive, site_name, *everything
    )
