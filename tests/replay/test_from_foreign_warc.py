"""`fetch --from-warc` over files other tools wrote: what they hold is served, the rest missed."""

from __future__ import annotations

from pathlib import Path

from caseharvest.replica import ReplicaServer
from tests.conftest import FAST, run_caseharvest

from .conftest import (
    Recording,
    answers,
    column_answer,
    export,
    good_cases,
    run_cli,
    squeeze,
    webarchive_wacz,
)


def test_a_wget_mirror_answers_what_it_holds_and_lists_the_listing_posts_as_misses(
    wget_warc: Recording, replica: ReplicaServer, tmp_path: Path
) -> None:
    before = len(replica.exchanges())  # the proxy the run would use if it went to the network
    archive = tmp_path / "again"
    result = run_caseharvest(
        "fetch",
        "--from-warc",
        str(wget_warc.path),
        "--archive",
        str(archive),
        *FAST,
        replica=replica,
    )
    assert len(replica.exchanges()) == before, "zero network requests"
    assert "Traceback" not in result.stderr
    # wget fetched no robots.txt, no page requisite and not the flaky case: misses (exit 1),
    # never made-up answers.
    assert result.returncode == 1
    assert "not in the archive: GET http://commerce.shandong.gov.cn/robots.txt" in result.stderr
    flaky = next(case for case in replica.site.listed() if case.flaky)
    assert f"not in the archive: GET {flaky.url}" in result.stderr
    rows = {row["url"]: row for row in export(archive)}
    by_url = {case.url: case for case in wget_warc.cases}
    # The column page's first group of cases came from the wget file, decoded right.
    assert set(rows) == set(by_url)
    assert any(case.chunked for case in wget_warc.cases), "wget kept chunked framing"
    for url, row in rows.items():
        assert squeeze(str(row["text"])) == squeeze(by_url[url].text), url


def test_a_wacz_is_served_from_its_warc_entries(replica: ReplicaServer, tmp_path: Path) -> None:
    cases = good_cases(replica)
    source = tmp_path / "browsertrix.wacz"
    webarchive_wacz(source, [column_answer(replica.site), *answers(cases)], "2024-05-06T07:08:09Z")
    before = len(replica.exchanges())
    archive = tmp_path / "again"
    result = run_caseharvest(
        "fetch", "--from-warc", str(source), "--archive", str(archive), *FAST, replica=replica
    )
    assert len(replica.exchanges()) == before, "zero network requests"
    assert "Traceback" not in result.stderr
    rows = {row["url"]: row for row in export(archive)}
    assert set(rows) == {case.url for case in cases}
    for case in cases:
        assert squeeze(str(rows[case.url]["text"])) == squeeze(case.text), case.url
    assert (archive / "warc" / "shandong" / "browsertrix-data.warc.gz").exists()
    checked = run_cli("verify", "--archive", str(archive))
    assert checked.exit_code == 0, checked.output
