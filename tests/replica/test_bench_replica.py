"""The benchmark's replica (bench/fast_replica.py) answers as the replica does.

It serves pages rendered once, from memory, so that the benchmark measures wget and
caseharvest, not the replica. Its figures mean something only if its answers are the
replica's: the same status, headers and bytes, and the same faults (the flaky case's first
503, the dead link), whatever it rendered in advance.
"""

from __future__ import annotations

import sys
from pathlib import Path

from caseharvest.replica import COLUMN_URL, SITE_ROOT, ReplicaConfig, ReplicaServer
from tests.replica.client import Answer, get

# bench/ is not a package: its scripts import each other as run.py does.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from fast_replica import FastReplica


def _comparable(answer: Answer) -> tuple[int, list[tuple[str, str]], bytes]:
    return (
        answer.status,
        [(name, value) for name, value in answer.headers if name.lower() != "date"],
        answer.body,
    )


def test_every_answer_is_the_replicas_byte_for_byte_faults_included() -> None:
    config = ReplicaConfig(cases=40)
    with FastReplica(config) as fast, ReplicaServer(config) as replica:
        cases = fast.site.listed()
        urls = [f"{SITE_ROOT}/robots.txt", COLUMN_URL, "http://elsewhere.example/"]
        urls += [case.url for case in cases]
        urls += [link for case in cases for pair in case.attachments for link in pair]
        urls = [url for url in urls if url.startswith("http")]
        assert any(case.flaky for case in cases) and any(case.status == 404 for case in cases)
        statuses = set()
        # Each URL twice per coding: a flaky page fails its first request only.
        for headers in ({}, {"Accept-Encoding": "gzip"}, {}, {"Accept-Encoding": "gzip"}):
            for url in urls:
                ours, theirs = get(fast, url, headers=headers), get(replica, url, headers=headers)
                assert _comparable(ours) == _comparable(theirs), (url, headers)
                statuses.add(ours.status)
        assert {200, 403, 404, 503} <= statuses
        assert len(fast.exchanges()) == 4 * len(urls)
        fast.clear_log()
        assert fast.exchanges() == []


def test_cached_pages_are_written_without_asking_the_site() -> None:
    with FastReplica(ReplicaConfig(cases=10)) as fast:
        case = next(case for case in fast.site.listed() if case.status == 200 and not case.flaky)
        rendered = fast.site.cases
        fast.site.cases = []  # a request reaching the site now would find no case: 404
        try:
            assert get(fast, case.url).status == 200
        finally:
            fast.site.cases = rendered
