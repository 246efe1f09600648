"""Files recorded from the replica by real tools: wget --warc-file and warcio.capture_http."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from caseharvest.capture.archive_walk import iter_captures
from caseharvest.capture.http_capture import Capture, iter_file_captures, read_capture
from caseharvest.capture.record_framing import Damage, iter_raw_records

from .conftest import FORM, Recording


def _captures(path: Path) -> list[Capture]:
    items = list(iter_file_captures(path))
    assert not [item for item in items if isinstance(item, Damage)]
    return [item for item in items if isinstance(item, Capture)]


def _seen(captures: list[Capture]) -> list[tuple[str, str, int, bytes]]:
    seen = []
    for capture in captures:
        parts = urlsplit(capture.target_uri)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        assert capture.status is not None and capture.body is not None
        seen.append((capture.method, target, capture.status, capture.body))
    return seen


@pytest.mark.parametrize("producer", ["wget_gz", "warcio_capture"])
def test_every_exchange_comes_back_decoded_as_the_server_sent_it(
    producer: str, request: pytest.FixtureRequest
) -> None:
    recording: Recording = request.getfixturevalue(producer)
    captures = _captures(recording.path)
    assert _seen(captures) == recording.sent
    # The recording really exercised the codings: gzip bodies, and wget kept the chunking.
    applied = {coding for capture in captures for coding in capture.codings}
    assert "gzip" in applied
    if producer == "wget_gz":
        assert "chunked" in applied
    assert all(capture.warnings == [] for capture in captures)


def test_wget_files_hold_other_records_which_are_skipped(wget_gz: Recording) -> None:
    kinds = [
        r.fields["warc-type"] for r in iter_raw_records(wget_gz.path) if not isinstance(r, Damage)
    ]
    assert {"warcinfo", "request", "response", "metadata", "resource"} <= set(kinds)
    assert {capture.record_type for capture in _captures(wget_gz.path)} == {"response"}


@pytest.mark.parametrize("producer", ["wget_plain_post", "warcio_capture"])
def test_post_requests_are_paired_with_their_responses(
    producer: str, request: pytest.FixtureRequest
) -> None:
    recording: Recording = request.getfixturevalue(producer)
    posts = [c for c in _captures(recording.path) if c.method == "POST"]
    assert len(posts) == 1
    assert posts[0].request_body == FORM
    assert b"<datastore>" in (posts[0].body or b"")
    assert posts[0].request_location is not None


@pytest.mark.parametrize("producer", ["wget_gz", "wget_plain_post", "warcio_capture"])
def test_each_capture_can_be_read_again_by_its_location(
    producer: str, request: pytest.FixtureRequest
) -> None:
    recording: Recording = request.getfixturevalue(producer)
    for capture in _captures(recording.path):
        again = read_capture(capture.location)
        assert (again.record_id, again.status, again.body) == (
            capture.record_id,
            capture.status,
            capture.body,
        )


def test_a_folder_of_several_tools_files_is_walked_whole(
    wget_gz: Recording, wget_plain_post: Recording, warcio_capture: Recording, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed" / "deeper"
    folder.mkdir(parents=True)
    for index, recording in enumerate((wget_gz, wget_plain_post, warcio_capture)):
        shutil.copy(recording.path, folder / f"{index}-{recording.path.name}")
    items = list(iter_captures([tmp_path / "mixed"]))
    total = sum(len(r.sent) for r in (wget_gz, wget_plain_post, warcio_capture))
    assert len(items) == total
    assert all(isinstance(item, Capture) and item.body is not None for item in items)
