"""`caseharvest schedule`'s decisions, with nodes that answer from memory (no daemon)."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from caseharvest.cli import cli
from caseharvest.commands.schedule import (
    NodeJob,
    ScheduleRequest,
    ScrapydError,
    ScrapydNode,
    job_id_for,
    node_for,
    schedule_sites,
    site_of_job,
)

NOW = datetime(2026, 3, 2, 3, 17, 0, tzinfo=UTC)
SITES = [f"province-{n}" for n in range(12)]


class MemoryNode(ScrapydNode):
    """A node whose jobs are a list; scheduling appends to it, or fails with *refuse*."""

    def __init__(self, url: str, jobs: Sequence[NodeJob] = (), refuse: str | None = None) -> None:
        super().__init__(url)
        self.listed = list(jobs)
        self.refuse = refuse
        self.scheduled: list[tuple[str, dict[str, str], dict[str, str]]] = []

    def jobs(self) -> list[NodeJob]:
        return list(self.listed)

    def schedule(
        self, job_id: str, arguments: Mapping[str, str], settings: Mapping[str, str]
    ) -> str:
        if self.refuse is not None:
            raise ScrapydError(f"{self.url}: schedule.json: {self.refuse}")
        self.scheduled.append((job_id, dict(arguments), dict(settings)))
        return job_id


class UnreachableNode(ScrapydNode):
    def jobs(self) -> list[NodeJob]:
        raise ScrapydError(f"{self.url}: cannot reach Scrapyd (connection refused)")


def test_job_ids_name_their_site() -> None:
    for site in ("shandong", "fujian-trs", "a.b"):
        job = job_id_for(site, NOW)
        assert job == f"{site}.20260302T031700Z"
        assert site_of_job(job) == site
    assert site_of_job("0c4192feecaa11f1970e02fc00000001") is None


def test_each_site_keeps_its_node_and_sites_spread_over_the_nodes() -> None:
    nodes = [MemoryNode(f"http://node{n}:6800") for n in range(3)]
    chosen = {site: node_for(site, nodes).url for site in SITES}
    assert len(set(chosen.values())) == 3, chosen
    # The same answer whatever the order of the nodes, with credentials or a trailing slash.
    same = [MemoryNode("http://u:secret@node2:6800/"), nodes[0], nodes[1]]
    assert {site: node_for(site, same).url for site in SITES} == chosen
    # A node that goes away takes only its own sites elsewhere: the others keep their archives.
    remaining = nodes[:2]
    for site, url in chosen.items():
        if url != nodes[2].url:
            assert node_for(site, remaining).url == url


def test_busy_sites_are_skipped_and_the_others_scheduled_on_their_nodes() -> None:
    running = NodeJob("http://node0:6800", job_id_for(SITES[0], NOW), "running", SITES[0])
    pending = NodeJob("http://node1:6800", "custom-id", "pending", SITES[1])
    nodes = [
        MemoryNode("http://node0:6800", [running]),
        MemoryNode("http://node1:6800", [pending]),
    ]
    request = ScheduleRequest(
        sites=[*SITES[:4], SITES[2]],
        archive_root="/srv/archives",
        arguments={"full": "true"},
        settings={"DOWNLOAD_DELAY": "2"},
    )
    decisions = schedule_sites(request, nodes, NOW)
    assert [d.site for d in decisions] == SITES[:4]
    assert decisions[0].skipped == f"job {running.job_id} is running on http://node0:6800"
    assert decisions[1].skipped == "job custom-id is pending on http://node1:6800"
    for decision in decisions[2:]:
        node = node_for(decision.site, nodes)
        assert isinstance(node, MemoryNode)
        assert decision.node == node.url and decision.job_id == job_id_for(decision.site, NOW)
        assert (
            decision.job_id,
            {"site": decision.site, "archive": f"/srv/archives/{decision.site}", "full": "true"},
            {"DOWNLOAD_DELAY": "2"},
        ) in node.scheduled
    assert sum(len(node.scheduled) for node in nodes) == 2


def test_a_node_refusing_a_job_fails_that_site_only() -> None:
    refusing = MemoryNode("http://node0:6800", refuse="spider 'column' not found")
    working = MemoryNode("http://node1:6800")
    nodes = [refusing, working]
    decisions = schedule_sites(ScheduleRequest(sites=SITES, archive_root="a"), nodes, NOW)
    failed = [d for d in decisions if d.failed]
    assert failed and all(node_for(d.site, nodes) is refusing for d in failed)
    assert all("spider 'column' not found" in str(d.failed) for d in failed)
    assert len(working.scheduled) == len(SITES) - len(failed) > 0


def test_nothing_is_scheduled_when_a_node_cannot_say_what_it_runs() -> None:
    working = MemoryNode("http://node0:6800")
    with pytest.raises(ScrapydError, match="cannot reach"):
        schedule_sites(
            ScheduleRequest(sites=SITES, archive_root="a"),
            [working, UnreachableNode("http://node1:6800")],
            NOW,
        )
    assert not working.scheduled


def test_node_urls_keep_credentials_out_of_messages() -> None:
    node = ScrapydNode("http://ops:s3cret@10.0.0.5:6800/")
    assert node.url == "http://10.0.0.5:6800" and "s3cret" not in repr(node)
    assert ScrapydNode("node7:6800").url == "http://node7:6800"
    with pytest.raises(ValueError, match="not a Scrapyd URL"):
        ScrapydNode("ftp://node7")


def test_schedule_command_reports_an_unreachable_node_and_schedules_nothing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens on it once the socket is closed
    result = CliRunner().invoke(
        cli, ["schedule", "--scrapyd", f"http://127.0.0.1:{port}", "shandong"]
    )
    assert result.exit_code == 1, result.output
    assert "cannot reach Scrapyd" in result.output and "nothing was scheduled" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scrapyd", "http://127.0.0.1:9", "nowhere"], "no site profile 'nowhere'"),
        (["--scrapyd", "ftp://127.0.0.1:9", "shandong"], "not a Scrapyd URL"),
        (["shandong"], "Missing option '--scrapyd'"),
    ],
)
def test_schedule_command_usage_errors(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASEHARVEST_SCRAPYD", raising=False)
    result = CliRunner().invoke(cli, ["schedule", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
