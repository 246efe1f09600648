"""`caseharvest replay`: the same cases, text and versions from the WARC files alone."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from caseharvest.cli import cli
from tests.conftest import Crawl


def export(archive: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive), "--all-versions"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every IP connection attempt (loopback and the replica included) is recorded and refused.

    Worker processes are forked, so they inherit the guard.
    """
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise ConnectionRefusedError(f"network is off in this test: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)
    yield attempts


def test_replay_rebuilds_the_same_archive_offline(
    revised_archive: Crawl, tmp_path: Path, no_network: list[object]
) -> None:
    fetched = revised_archive.archive
    replayed = tmp_path / "replayed"
    result = CliRunner().invoke(
        cli, ["replay", str(fetched / "warc"), "--archive", str(replayed), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert no_network == [], "replay touched the network"
    before, after = export(fetched), export(replayed)
    assert len(before) == 64 and max(row["version"] for row in before) == 2
    assert after == before, "same cases, text, metadata and versions"
    assert CliRunner().invoke(cli, ["verify", "--archive", str(replayed)]).exit_code == 0


def test_replay_output_does_not_depend_on_workers(default_crawl: Crawl, tmp_path: Path) -> None:
    outputs = []
    for workers in ("1", "2"):
        target = tmp_path / f"replay-{workers}"
        result = CliRunner().invoke(
            cli,
            [
                "replay",
                str(default_crawl.archive / "warc"),
                "--archive",
                str(target),
                "--workers",
                workers,
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(export(target))
    assert outputs[0] == outputs[1] == export(default_crawl.archive)


def test_replay_refuses_a_target_holding_its_sources(default_crawl_copy: Path) -> None:
    result = CliRunner().invoke(
        cli, ["replay", str(default_crawl_copy / "warc"), "--archive", str(default_crawl_copy)]
    )
    assert result.exit_code == 2
    assert "holds the source" in result.output
