"""Fixtures for replaying other tools' archives: real recordings of the replica, hand-made files.

wget (Debian) and ``warcio.capture_http`` record the Shandong replica for real; Heritrix-style
WARC/1.0, ARC and WACZ files are built by hand from the replica's own answers (the record
builders are shared with tests/capture).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from warcio.capture_http import capture_http

from caseharvest.cli import cli
from caseharvest.replica import COLUMN_URL, ReplicaConfig, ReplicaServer
from caseharvest.replica.cases import ReplicaCase
from caseharvest.replica.routes import SiteRequest, SiteRouter
from tests.capture.conftest import (
    chunked,
    gz_members,
    http_response,
    new_id,
    warc_record,
)
from tests.capture.conftest import sha1_digest as payload_digest

# Small enough to be quick, big enough for gzip-served, chunked, 404 and GB18030 pages.
CONFIG = ReplicaConfig(cases=24)


def squeeze(text: str) -> str:
    """NFKC and no whitespace: how texts are compared with the replica's gold."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def run_cli(*args: str) -> Any:
    """``caseharvest ARGS`` in this process (tracebacks would show in ``output``)."""
    return CliRunner().invoke(cli, list(args))


def export(archive: Path, *args: str) -> list[dict[str, Any]]:
    result = run_cli("export", "--archive", str(archive), *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def assert_gold(archive: Path, cases: list[ReplicaCase]) -> None:
    """The archive holds exactly *cases* (latest versions), with the replica's gold text."""
    rows = {row["url"]: row for row in export(archive)}
    assert set(rows) == {case.url for case in cases}
    for case in cases:
        row = rows[case.url]
        assert (row["title"], row["published"]) == (case.title, case.published), case.url
        assert squeeze(str(row["text"])) == squeeze(case.text), case.url


def good_cases(server: ReplicaServer | None = None) -> list[ReplicaCase]:
    """The replica's cases that answer 200 at the first try."""
    site = (server or ReplicaServer(CONFIG)).site
    return [case for case in site.listed() if case.status == 200 and not case.flaky]


def dead_case(server: ReplicaServer) -> ReplicaCase:
    return next(case for case in server.site.listed() if case.status == 404)


@dataclass(frozen=True)
class Answer:
    """A replica answer made without a socket, as the site sends it to a gzip-accepting client."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def answers(cases: list[ReplicaCase], site: Any = None) -> list[Answer]:
    """What *site* (default: a fresh replica of CONFIG) answers for *cases* now."""
    router = SiteRouter(site or ReplicaServer(CONFIG).site)
    found = []
    for case in cases:
        answer = router.answer(
            SiteRequest("GET", case.path, "", headers=(("Accept-Encoding", "gzip"),))
        )
        found.append(Answer(case.url, answer.status, list(answer.headers), answer.body))
    return found


def column_answer(site: Any) -> Answer:
    """The column page as *site* answers it (its first group of records embedded)."""
    answer = SiteRouter(site).answer(
        SiteRequest("GET", urlsplit(COLUMN_URL).path, "", headers=(("Accept-Encoding", "gzip"),))
    )
    return Answer(COLUMN_URL, answer.status, list(answer.headers), answer.body)


@pytest.fixture(scope="package")
def replica() -> Iterator[ReplicaServer]:
    """One replica for the package's recordings (127.0.0.1, used as an HTTP proxy)."""
    with ReplicaServer(CONFIG) as server:
        yield server


# --- real tools ------------------------------------------------------------------------------


def wget_record(replica: ReplicaServer, target: Path, urls: list[str]) -> Path:
    """``wget --warc-file`` of *urls* through the replica; returns the file (gzip, wget's own)."""
    if shutil.which("wget") is None:
        pytest.skip("wget is not installed (Debian package wget)")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy")}
    env["http_proxy"] = replica.proxy_url
    command = [
        "wget",
        "-q",
        "-e",
        "robots=off",
        "--tries=1",
        "--compression=none",
        "--header=Accept-Encoding: gzip",
        f"--warc-file={target}",
        "-O",
        os.devnull,
        *urls,
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode in (0, 8), (
        result.stderr
    )  # 8: a URL answered 404, recorded all the same
    return target.with_name(target.name + ".warc.gz")


@dataclass(frozen=True)
class Recording:
    """A tool's file and the replica cases it holds (the dead ones apart)."""

    path: Path
    cases: list[ReplicaCase]
    dead: list[ReplicaCase]


@pytest.fixture(scope="package")
def wget_warc(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """wget's WARC of the column page, every good case page and one 404, named as a user would."""
    cases, dead = good_cases(replica), [dead_case(replica)]
    folder = tmp_path_factory.mktemp("wget")
    made = wget_record(
        replica, folder / "w", [COLUMN_URL, *(c.url for c in cases), *(c.url for c in dead)]
    )
    return Recording(made, cases, dead)


@pytest.fixture(scope="package")
def warcio_warc(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """A script using ``warcio.capture_http`` fetching a few case pages (plain, not gzip)."""
    cases = good_cases(replica)[:6]
    path = tmp_path_factory.mktemp("warcio") / "my-recording.warc"
    with capture_http(str(path), gzip=False):
        for case in cases:
            connection = http.client.HTTPConnection(replica.host, replica.port, timeout=10)
            parts = urlsplit(case.url)
            connection.request(
                "GET", case.url, headers={"Host": parts.netloc, "Accept-Encoding": "gzip"}
            )
            connection.getresponse().read()
            connection.close()
    return Recording(path, cases, [])


# --- hand-made files of other producers ------------------------------------------------------


def heritrix_file(
    items: list[Answer],
    date: str,
    *,
    revisits: list[Answer] | None = None,
    revisit_digest: str | None = None,
    name: str = "IAH",
) -> bytes:
    """A Heritrix 3 style WARC/1.0 file: warcinfo, ``dns:``, then per page a response (raw
    chunked gzip, Transfer-Encoding kept), its request and a ``metadata`` record; *revisits*
    as digest-only revisits (no WARC-Refers-To)."""
    records = [
        warc_record(
            "warcinfo",
            "",
            f"software: Heritrix/3.4.0\r\nformat: WARC File Format 1.0\r\nisPartOf: {name}\r\n".encode(),
            date=date,
            content_type="application/warc-fields",
        ),
        warc_record(
            "response",
            "dns:commerce.shandong.gov.cn",
            b"20240101000000\ncommerce.shandong.gov.cn.\t300\tIN\tA\t10.0.0.1\n",
            date=date,
            content_type="text/dns",
        ),
    ]
    revisits = revisits or []
    for item in [*items, *revisits]:
        raw_body = chunked(item.body, size=700)
        headers = [*item.headers, ("Transfer-Encoding", "chunked")]
        response_id = new_id()
        if item in revisits:
            records.append(
                warc_record(
                    "revisit",
                    item.url,
                    http_response(200, headers, b""),
                    date=date,
                    record_id=response_id,
                    fields={
                        "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
                        "WARC-Payload-Digest": revisit_digest or payload_digest(raw_body),
                        "WARC-Truncated": "length",
                    },
                )
            )
        else:
            records.append(
                warc_record(
                    "response",
                    item.url,
                    http_response(item.status, headers, raw_body),
                    date=date,
                    record_id=response_id,
                    fields={
                        "WARC-Payload-Digest": payload_digest(raw_body),
                        "WARC-IP-Address": "10.0.0.1",
                    },
                )
            )
        path = urlsplit(item.url).path
        records.append(
            warc_record(
                "request",
                item.url,
                f"GET {path} HTTP/1.1\r\nHost: commerce.shandong.gov.cn\r\n\r\n".encode(),
                date=date,
                fields={"WARC-Concurrent-To": response_id},
            )
        )
        records.append(
            warc_record(
                "metadata",
                item.url,
                b"via: http://commerce.shandong.gov.cn/col/col21482/index.html\r\nhopsFromSeed: L\r\n",
                date=date,
                content_type="application/warc-fields",
                fields={"WARC-Concurrent-To": response_id},
            )
        )
    return gz_members(records)


def arc_file(items: list[Answer], stamp: str = "20080102030406") -> bytes:
    """An ARC v1 file as the Internet Archive wrote before 2008 (gzip member per record)."""

    def record(url: str, date: str, payload: bytes, mime: str, ip: str = "10.0.0.1") -> bytes:
        return f"{url} {ip} {date} {mime} {len(payload)}\n".encode() + payload + b"\n"

    version_block = (
        b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n\n"
    )
    records = [record("filedesc://IA-2008.arc", stamp, version_block, "text/plain", "0.0.0.0")]
    records.append(record("dns:commerce.shandong.gov.cn", stamp, b"10.0.0.1\n", "text/dns"))
    for item in items:
        records.append(
            record(item.url, stamp, http_response(200, item.headers, item.body), "text/html")
        )
    return gz_members(records)


def webarchive_wacz(path: Path, items: list[Answer], date: str) -> None:
    """A scrapy-webarchive style WACZ: WARC/1.1 built from decoded bodies whose headers still
    say ``Content-Encoding: gzip``, in ``archive/`` with an index, pages and datapackage."""
    records = []
    for item in items:
        decoded = _decoded(item)
        response_id = new_id()
        records.append(
            warc_record(
                "response",
                item.url,
                http_response(200, item.headers, decoded),
                date=date,
                version="WARC/1.1",
                record_id=response_id,
                fields={"WARC-Payload-Digest": payload_digest(decoded)},
            )
        )
        records.append(
            warc_record(
                "request",
                item.url,
                f"GET {urlsplit(item.url).path} HTTP/1.1\r\n\r\n".encode(),
                date=date,
                version="WARC/1.1",
                fields={"WARC-Concurrent-To": response_id},
            )
        )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "archive/data.warc.gz", gz_members(records), compress_type=zipfile.ZIP_DEFLATED
        )
        archive.writestr("indexes/index.cdxj", "", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "pages/pages.jsonl",
            json.dumps({"format": "json-pages-1.0", "id": "pages"}) + "\n",
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "datapackage.json",
            json.dumps({"profile": "data-package", "wacz_version": "1.1.1"}),
            compress_type=zipfile.ZIP_DEFLATED,
        )


def _decoded(item: Answer) -> bytes:
    import gzip

    coded = any(
        name.lower() == "content-encoding" and "gzip" in value.lower()
        for name, value in item.headers
    )
    return gzip.decompress(item.body) if coded else item.body
