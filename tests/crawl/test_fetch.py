"""`caseharvest fetch` end to end over the replica, crawled through the site's real URLs."""

from __future__ import annotations

import json
import subprocess
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from caseharvest.archive.catalog import Catalog
from caseharvest.capture.conformance import check_warc_file
from caseharvest.cli import cli
from caseharvest.replica import Exchange, ReplicaConfig, ReplicaServer
from tests.conftest import Crawl, fetch

SEED_URL = "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
# Headers that describe the connection; the HTTP client consumes them (see README).
CONNECTION_HEADERS = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}


def squeeze(text: str) -> str:
    """NFKC and no whitespace: how texts are compared with the NFKC-folded seed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def export_rows(archive: Path, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive), *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def cases_by_status(archive: Path) -> dict[str, set[str]]:
    catalog = Catalog.for_archive(archive)
    try:
        found: dict[str, set[str]] = defaultdict(set)
        for case in catalog.cases("shandong"):
            found[case.status].add(case.url)
        return found
    finally:
        catalog.close()


def assert_every_case_archived(crawl: Crawl) -> None:
    assert crawl.result.returncode == 0, crawl.result.stderr
    listed = crawl.replica.site.listed()
    statuses = cases_by_status(crawl.archive)
    assert statuses["archived"] == {c.url for c in listed if c.status == 200}
    assert statuses["dead"] == {c.url for c in listed if c.status != 200}
    assert not statuses["failed"]
    exchanges = crawl.replica.exchanges()
    assert exchanges and all(e.on_site for e in exchanges), "nothing but the site's host"


def test_fetch_archives_every_case_of_the_column(default_crawl: Crawl) -> None:
    assert_every_case_archived(default_crawl)
    listed = default_crawl.replica.site.listed()
    assert len(listed) >= 60
    report = default_crawl.report
    assert report["exit_code"] == 0
    assert report["listed"] == len(listed)
    assert list(report["dead"]) == [c.url for c in listed if c.status != 200]
    assert "new" in default_crawl.result.stdout and "WARC files" in default_crawl.result.stdout


def test_export_has_right_metadata_and_text(default_crawl: Crawl) -> None:
    rows = {row["url"]: row for row in export_rows(default_crawl.archive)}
    expected = [c for c in default_crawl.replica.site.listed() if c.status == 200]
    assert set(rows) == {c.url for c in expected}
    for case in expected:
        row = rows[case.url]
        assert (row["title"], row["published"], row["source"]) == (
            case.title,
            case.published,
            case.source,
        ), case.url
        assert squeeze(str(row["text"])) == squeeze(case.text), case.url
        assert [a["url"] for a in row["attachments"]] == [u for _, u in case.attachments]
        assert row["extraction"]["confidence"] == "high", (case.url, row["extraction"])
        assert row["version"] == 1
    published = [str(row["published"]) for row in rows.values()]
    exported = export_rows(default_crawl.archive)
    assert [row["published"] for row in exported] == sorted(published, reverse=True)


def test_seed_article_matches_the_seed_document(default_crawl: Crawl) -> None:
    seed = (
        resources.files("caseharvest.replica")
        .joinpath("data/seed_art_21482_4415480.txt")
        .read_text("utf-8")
    )
    body = seed[seed.index("淄博市大力推动") : seed.index("山东商务网版权与免责声明")]
    row = next(r for r in export_rows(default_crawl.archive) if r["url"] == SEED_URL)
    assert squeeze(str(row["text"])) == squeeze(body)
    assert row["title"] == "淄博市五举措精准发力深化开发区体制机制创新工作"
    assert row["published"] == "2019-01-07"
    assert row["source"] == "淄博市商务局"
    assert row["article_id"] == "4415480" and row["column"] == "21482"
    txt = default_crawl.archive / "text/shandong/21482/2019/4415480.txt"
    meta = json.loads((default_crawl.archive / "text/shandong/21482/2019/4415480.json").read_text())
    assert txt.read_text("utf-8") == row["text"]
    assert meta["warc_file"].endswith(".warc.gz") and meta["warc_offset"] > 0
    assert "，" in txt.read_text("utf-8"), "punctuation as served (full width), not NFKC-folded"


def test_csv_export_opens_in_spreadsheets(default_crawl: Crawl, tmp_path: Path) -> None:
    out = tmp_path / "cases.csv"
    result = CliRunner().invoke(
        cli, ["export", "--archive", str(default_crawl.archive), "--format", "csv", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    assert "淄博市五举措" in data.decode("utf-8-sig")
    assert data.decode("utf-8-sig").splitlines()[0].startswith("url,site,column,article_id")


def _warc_pairs(archive: Path) -> dict[tuple[str, str, bytes], list[tuple[Any, ...]]]:
    """(method, url, request body) -> [(status, headers, body, request line)] in file order."""
    pairs: dict[tuple[str, str, bytes], list[tuple[Any, ...]]] = defaultdict(list)
    for path in sorted((archive / "warc/shandong").glob("*.warc.gz")):
        with path.open("rb") as stream:
            pending = None
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    pending = (
                        int(record.http_headers.get_statuscode()),
                        list(record.http_headers.headers),
                        record.raw_stream.read(),
                    )
                elif record.rec_type == "request":
                    assert pending is not None
                    method = record.http_headers.protocol
                    target = record.http_headers.statusline.split(" ")[0]
                    body = record.raw_stream.read()
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    pairs[(method, url, body)].append((*pending, target))
                    pending = None
    return pairs


def _headers_by_name(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for name, value in headers:
        if name.lower() not in CONNECTION_HEADERS:
            grouped[name.lower()].append(value)
    return dict(grouped)


def test_warc_records_are_what_the_replica_sent(default_crawl: Crawl) -> None:
    files = sorted((default_crawl.archive / "warc/shandong").glob("*.warc.gz"))
    assert files and not list((default_crawl.archive / "warc/shandong").glob("*.open"))
    for path in files:
        assert check_warc_file(path) == []
        check = subprocess.run(
            [str(Path(__file__).parents[2] / ".venv/bin/warcio"), "check", str(path)],
            capture_output=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout
    pairs = _warc_pairs(default_crawl.archive)
    sent: dict[tuple[str, str, bytes], list[Exchange]] = defaultdict(list)
    for exchange in default_crawl.replica.exchanges():
        sent[(exchange.method, exchange.url, exchange.request_body)].append(exchange)
    assert sent.keys() == pairs.keys(), "one WARC response per request the replica answered"
    posts = [key for key in sent if key[0] == "POST"]
    assert posts and all(b"webid=" in key[2] for key in posts), "POST bodies kept"
    for key, exchanges in sent.items():
        archived = pairs[key]
        assert [e.status for e in exchanges] == [a[0] for a in archived], key
        for exchange, (_, headers, body, target) in zip(exchanges, archived, strict=True):
            assert body == exchange.response_body, f"body bytes as sent: {key[1]}"
            assert _headers_by_name(headers) == _headers_by_name(exchange.response_headers), key
            parts = urlsplit(exchange.target)
            assert target == parts.path + (f"?{parts.query}" if parts.query else "")
    statuses = {e.status for e in default_crawl.replica.exchanges()}
    assert {200, 404, 503} <= statuses, "dead link and retried 5xx archived too"
    gzipped = [
        e
        for e in default_crawl.replica.exchanges()
        if e.response_header("Content-Encoding") == "gzip"
    ]
    assert gzipped, "the replica compressed some answers; the WARC keeps them compressed"
    cookies = [
        e
        for e in default_crawl.replica.exchanges()
        if len(e.response_header_values("Set-Cookie")) >= 2
    ]
    assert cookies, "repeated Set-Cookie headers all kept"


def test_growing_listing_with_other_paging(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    replica = start_replica(ReplicaConfig(cases=61, per_page=10, group_size=2, grow_by=3))
    crawl = fetch(tmp_path / "archive", replica)
    assert_every_case_archived(crawl)
    assert len(replica.site.listed()) == 64
    posts = [e for e in replica.exchanges() if e.method == "POST"]
    assert all("perpage=10" in e.target for e in posts), "perPage read from the page"
    assert "startrecord=21&endrecord=40" in posts[0].target, "groupSize read from the page"


def test_get_paging_when_post_is_refused(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    replica = start_replica(ReplicaConfig(post_refused=True))
    crawl = fetch(tmp_path / "archive", replica)
    assert_every_case_archived(crawl)
    assert any(
        e.method == "GET" and "dataproxy.jsp?page=2" in e.target for e in replica.exchanges()
    )


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("csrf", "dataStore=['csrf']"),
        ("antibot-412", "$_ts"),
        ("antibot-521", "__jsluid"),
        ("empty-column", "zero records"),
    ],
)
def test_failure_modes_end_the_run_loudly(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path, fault: str, message: str
) -> None:
    replica = start_replica(ReplicaConfig(fault=fault))
    crawl = fetch(tmp_path / "archive", replica)
    assert crawl.result.returncode == 1, crawl.result.stderr
    assert message in crawl.result.stderr
    assert crawl.report["exit_code"] == 1
    for path in (tmp_path / "archive/warc/shandong").glob("*"):
        assert path.name.endswith(".warc.gz"), "WARC files closed even on failure"
        assert check_warc_file(path) == []
    if fault.startswith("antibot"):
        challenged = [e for e in replica.exchanges() if e.status in (412, 521)]
        assert len(challenged) == 1, "stops at the first challenge instead of hammering"


def test_limit_caps_new_cases(start_replica: Callable[..., ReplicaServer], tmp_path: Path) -> None:
    replica = start_replica()
    crawl = fetch(tmp_path / "archive", replica, "--limit", "5")
    assert crawl.result.returncode == 0, crawl.result.stderr
    statuses = cases_by_status(tmp_path / "archive")
    assert len(statuses["archived"] | statuses["dead"]) == 5, "dead links count as fetched"
    assert not any(e.method == "POST" for e in replica.exchanges()), "no listing beyond need"


def test_http_cache_is_refused(tmp_path: Path) -> None:
    from tests.conftest import run_caseharvest

    result = run_caseharvest("fetch", "--archive", str(tmp_path), "-s", "HTTPCACHE_ENABLED=True")
    assert result.returncode == 2
    assert "cache hits" in result.stderr


def test_sites_lists_the_shandong_profile() -> None:
    result = CliRunner().invoke(cli, ["sites"])
    assert result.exit_code == 0
    assert "shandong" in result.output and "21482" in result.output
    assert "hanweb-jpage" in result.output


def test_several_sites_crawl_one_after_the_other(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    replica = start_replica()
    crawl = fetch(tmp_path / "archive", replica, "shandong", "shandong")
    assert crawl.result.returncode == 0, crawl.result.stderr
    reports = [json.loads(p.read_text("utf-8")) for p in (tmp_path / "archive/runs").iterdir()]
    assert len(reports) == 2, "one run per site, each in a process of its own"
    assert sorted(report["new"] for report in reports) == [0, 63], "the second run found all known"


def test_listing_is_read_only_a_little_ahead_of_the_case_pages(
    start_replica: Callable[..., ReplicaServer], tmp_path: Path
) -> None:
    """Memory must not grow with the column: at most two groups of cases wait in the queue."""
    # Groups of 10 records; 4 requests at a time: unchecked, the listing (served first, by
    # priority) outruns the case pages and the queue grows with the column.
    replica = start_replica(ReplicaConfig(cases=400, per_page=10, group_size=1))
    crawl = fetch(
        tmp_path / "archive",
        replica,
        *("-s", "CONCURRENT_REQUESTS=4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"),
        *("-s", "CASEHARVEST_REQUISITES=False"),
    )
    assert_every_case_archived(crawl)
    answered = 0
    posts = 0
    for exchange in replica.exchanges():
        if "/art/" in exchange.url:
            answered += 1
        elif exchange.method == "POST":
            posts += 1
            start = int(exchange.target.split("startrecord=")[1].split("&")[0])
            # records before this group were listed; at most 2 groups (20) of them unanswered
            # (and the few requests in flight)
            assert answered >= start - 1 - 20 - 4, (start, answered)
    assert posts >= 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fetch", "nowhere"], "no site profile 'nowhere'"),
        (["fetch", "-s", "DOWNLOAD_DELAY"], "-s takes NAME=VALUE"),
        (["fetch", "--at", "2019"], "--at picks captures for --from-warc"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [*args, "--archive", str(tmp_path / "archive")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "archive").exists(), "nothing written for a usage error"


def test_commands_on_a_folder_without_archive_say_so(tmp_path: Path) -> None:
    for command in ("export", "verify", "status"):
        result = CliRunner().invoke(cli, [command, "--archive", str(tmp_path)])
        assert result.exit_code == 1
        assert "holds no caseharvest archive" in result.output
