"""Fixtures for the any-archive reader: the replica, its pages, and a WARC record builder."""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.capture_http import capture_http

from caseharvest.capture.http_capture import sha1_digest
from caseharvest.replica import COLUMN_URL, SITE_HOST, ReplicaConfig, ReplicaServer
from caseharvest.replica.routes import SiteRequest, SiteRouter

# Enough cases for the replica to hold gzip-served, chunked, 404 and gb18030 pages.
CONFIG = ReplicaConfig(cases=40)


@pytest.fixture(scope="package")
def replica() -> Iterator[ReplicaServer]:
    """One replica for the module's recordings (127.0.0.1, used as an HTTP proxy)."""
    with ReplicaServer(CONFIG) as server:
        yield server


def decoded_sent_body(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """What the replica's page is, from what it sent (it only ever compresses with gzip)."""
    codings = [value.lower() for name, value in headers if name.lower() == "content-encoding"]
    return gzip.decompress(body) if "gzip" in codings else body


@dataclass(frozen=True)
class Page:
    """A replica answer made without a socket: the page bytes and its headers."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # as the site would send it (gzip-compressed when the case is)

    @property
    def decoded(self) -> bytes:
        return decoded_sent_body(self.headers, self.body)


def replica_pages(count: int = 3, *, gzip_only: bool = False) -> list[Page]:
    """*count* case pages (200) as the replica answers them to a gzip-accepting client."""
    router = SiteRouter(ReplicaServer(CONFIG).site)
    pages = []
    for case in router.site.listed():
        if case.status != 200 or case.flaky or (gzip_only and not case.gzip):
            continue
        answer = router.answer(
            SiteRequest("GET", case.path, "", headers=(("Accept-Encoding", "gzip"),))
        )
        pages.append(Page(case.url, answer.status, list(answer.headers), answer.body))
        if len(pages) == count:
            break
    return pages


def new_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_record(
    kind: str,
    uri: str,
    block: bytes,
    *,
    date: str = "2024-01-02T03:04:05Z",
    version: str = "WARC/1.0",
    record_id: str | None = None,
    fields: dict[str, str] | None = None,
    content_type: str | None = None,
) -> bytes:
    """One WARC record, as tools write it (block digest included)."""
    head = [
        version,
        f"WARC-Type: {kind}",
        f"WARC-Record-ID: {record_id or new_id()}",
        f"WARC-Date: {date}",
        f"WARC-Target-URI: {uri}",
        f"WARC-Block-Digest: {sha1_digest(block)}",
    ]
    if content_type is None and kind in ("response", "revisit"):
        content_type = "application/http; msgtype=response"
    if content_type is None and kind == "request":
        content_type = "application/http; msgtype=request"
    if content_type:
        head.append(f"Content-Type: {content_type}")
    head += [f"{name}: {value}" for name, value in (fields or {}).items()]
    head.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def http_response(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """An HTTP/1.1 response message as bytes."""
    head = f"HTTP/1.1 {status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("latin-1") + b"\r\n" + body


def chunked(body: bytes, size: int = 1000) -> bytes:
    """*body* in chunked framing (as wget and Heritrix keep it)."""
    parts = [
        b"%x\r\n%s\r\n" % (len(body[at : at + size]), body[at : at + size])
        for at in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def gz_members(records: list[bytes]) -> bytes:
    """One gzip member per record, as the WARC standard recommends."""
    return b"".join(gzip.compress(record, mtime=0) for record in records)


# --- files recorded from the replica by real tools -------------------------------------------

FORM = b"col=1&appid=1&webid=36&path=%2F&columnid=21482&sourceContentType=1&unitid=293870&webname=x&permissiontype=0"
POST_PATH = "/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"


@dataclass
class Recording:
    """One tool's file and what the replica sent it, in order: (method, path, status, body)."""

    path: Path
    sent: list[tuple[str, str, int, bytes]]


def _sent(replica: ReplicaServer, start: int) -> list[tuple[str, str, int, bytes]]:
    return [
        (
            e.method,
            urlsplit(e.url).path + (f"?{urlsplit(e.url).query}" if urlsplit(e.url).query else ""),
            e.status,
            decoded_sent_body(e.response_headers, e.response_body),
        )
        for e in replica.exchanges()[start:]
    ]


def _wanted_urls(replica: ReplicaServer) -> list[str]:
    cases = replica.site.listed()
    gzipped = [case.url for case in cases if case.gzip][:3]
    chunked = [case.url for case in cases if case.chunked]
    dead = [case.url for case in cases if case.status == 404][:1]
    return [COLUMN_URL, *gzipped, *chunked, *dead]


def _wget(replica: ReplicaServer, folder: Path, name: str, *args: str) -> Recording:
    if shutil.which("wget") is None:
        pytest.skip("wget is not installed (Debian package wget)")
    start = len(replica.exchanges())
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
        f"--warc-file={folder / name}",
        "-O",
        os.devnull,
        *args,
    ]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    # wget exits 8 when a URL answers 404: that page is recorded all the same.
    assert result.returncode in (0, 8), result.stderr
    found = sorted(folder.glob(f"{name}.warc*"))
    assert len(found) == 1
    return Recording(found[0], _sent(replica, start))


@pytest.fixture(scope="package")
def wget_gz(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _wget(replica, tmp_path_factory.mktemp("wget"), "crawl", *_wanted_urls(replica))


@pytest.fixture(scope="package")
def wget_plain_post(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return _wget(
        replica,
        tmp_path_factory.mktemp("wget-post"),
        "post",
        "--no-warc-compression",
        f"--post-data={FORM.decode()}",
        f"http://{SITE_HOST}{POST_PATH}",
    )


@pytest.fixture(scope="package")
def warcio_capture(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    path = tmp_path_factory.mktemp("warcio") / "capture.warc.gz"
    start = len(replica.exchanges())
    requests = [("GET", urlsplit(url).path, b"") for url in _wanted_urls(replica)] + [
        ("POST", POST_PATH, FORM)
    ]
    with capture_http(str(path)):
        for method, target, body in requests:
            connection = http.client.HTTPConnection(replica.host, replica.port, timeout=10)
            headers = {"Host": SITE_HOST, "Accept-Encoding": "gzip"}
            if body:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, target, body=body or None, headers=headers)
            connection.getresponse().read()
            connection.close()
    return Recording(path, _sent(replica, start))
