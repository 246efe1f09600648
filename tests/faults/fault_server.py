"""A hostile commerce.shandong.gov.cn: the replica with faults injected on chosen paths.

``FaultySite`` is a hosted site for :class:`~caseharvest.replica.ReplicaServer`: it answers
as the Shandong replica does, except where a fault says otherwise (a redirect, an empty or
binary page, a body in a content coding, a lying listing, a hang-up after every answer).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from typing import Any

import brotli
import zstandard

from caseharvest.replica import ReplicaConfig, ReplicaServer, ReplicaSite
from caseharvest.replica.routes import SiteRequest, SiteResponse
from caseharvest.replica.server import ShandongHost

Fault = Callable[[SiteRequest, SiteResponse], SiteResponse]
SITE = "http://commerce.shandong.gov.cn"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))


class FaultySite:
    """The Shandong replica, with ``faults[path](request, normal answer)`` where given."""

    def __init__(
        self, site: ReplicaSite, faults: dict[str, Fault] | None = None, hang_up: bool = False
    ) -> None:
        self.inner = ShandongHost(site)
        self.site = site
        self.hosts = self.inner.hosts
        self.schemes = self.inner.schemes
        self.faults = dict(faults or {})
        self.hang_up = hang_up

    def __getattr__(self, name: str) -> Any:
        return getattr(self.site, name)  # listed(), case(), revise() … of the replica site

    def serves(self, host: str, port: int | None, scheme: str) -> bool:
        return self.inner.serves(host, port, scheme)

    def claims(self, request: SiteRequest) -> bool:
        return True

    def answer(self, request: SiteRequest) -> SiteResponse:
        response = self.inner.answer(request)
        fault = self.faults.get(request.path)
        if fault is not None:
            response = fault(request, response)
        if self.hang_up:
            response.hang_up = True
        return response


def faulty_replica(
    faults: dict[str, Fault] | None = None,
    *,
    config: ReplicaConfig | None = None,
    hang_up: bool = False,
    log_path: Any = None,
) -> ReplicaServer:
    site = ReplicaSite(config or ReplicaConfig(cases=20, per_page=5, group_size=2))
    return ReplicaServer(sites=[FaultySite(site, faults, hang_up)], log_path=log_path)


# -- faults --------------------------------------------------------------------------------------


def redirect_to(location: str, status: int = 302) -> Fault:
    def fault(_request: SiteRequest, _normal: SiteResponse) -> SiteResponse:
        return SiteResponse(status, [("Location", location), ("Content-Type", "text/html")])

    return fault


def body(data: bytes, content_type: str = "text/html; charset=UTF-8", coding: str = "") -> Fault:
    def fault(_request: SiteRequest, _normal: SiteResponse) -> SiteResponse:
        headers = [("Content-Type", content_type)]
        if coding:
            headers.append(("Content-Encoding", coding))
        return SiteResponse(200, headers, data)

    return fault


def coded(coding: str) -> Fault:
    """The normal page, in *coding* (the normal answer may already be gzip: undone first)."""

    def fault(_request: SiteRequest, normal: SiteResponse) -> SiteResponse:
        plain = normal.body
        headers = [
            (n, v) for n, v in normal.headers if n.lower() not in ("content-encoding", "etag")
        ]
        if any(n.lower() == "content-encoding" for n, _ in normal.headers):
            plain = gzip.decompress(plain)
        data = {
            "br": brotli.compress,
            "zstd": lambda raw: zstandard.ZstdCompressor().compress(raw),
            "compress": lzw_compress,
        }[coding](plain)
        return SiteResponse(200, [*headers, ("Content-Encoding", coding)], data)

    return fault


def lzw_compress(data: bytes) -> bytes:
    """`compress` (.Z) output; servers may still send it, and no library writes it."""
    from tests.capture.lzw_encoder import lzw_compress as encode

    return encode(data)


def listing_total(total: int) -> Fault:
    """The column page claims *total* records (its jpage call)."""

    def fault(_request: SiteRequest, normal: SiteResponse) -> SiteResponse:
        raw = normal.body
        gzipped = any(n.lower() == "content-encoding" for n, _ in normal.headers)
        text = (gzip.decompress(raw) if gzipped else raw).decode("utf-8")
        text = re.sub(r"totalRecord\s*:\s*\d+", f"totalRecord:{total}", text)
        headers = [
            (n, v) for n, v in normal.headers if n.lower() not in ("content-encoding", "etag")
        ]
        return SiteResponse(normal.status, headers, text.encode("utf-8"))

    return fault


def empty_recordset_from_call(call: int) -> Fault:
    """From the *call*-th dataproxy request on: no records, totalrecord 0."""
    calls = [0]

    def fault(_request: SiteRequest, normal: SiteResponse) -> SiteResponse:
        calls[0] += 1
        if calls[0] < call:
            return normal
        empty = (
            '<?xml version="1.0" encoding="UTF-8"?><datastore><nextgroup><![CDATA[]]></nextgroup>'
            "<recordset></recordset><totalrecord>0</totalrecord><totalpage>0</totalpage>"
            "</datastore>"
        )
        return SiteResponse(200, [("Content-Type", "text/xml;charset=UTF-8")], empty.encode())

    return fault


def repeat_last_group(last_good: list[bytes]) -> Fault:
    """Out-of-range groups repeat the last real group (and claim a huge total)."""

    def fault(request: SiteRequest, normal: SiteResponse) -> SiteResponse:
        raw = normal.body
        gzipped = any(n.lower() == "content-encoding" for n, _ in normal.headers)
        text = (gzip.decompress(raw) if gzipped else raw).decode("utf-8")
        headers = [
            (n, v) for n, v in normal.headers if n.lower() not in ("content-encoding", "etag")
        ]
        if "<record>" in text:
            last_good[:] = [text.encode("utf-8")]
        elif last_good:
            text = last_good[0].decode("utf-8")
        text = re.sub(r"<totalrecord>\d+</totalrecord>", "<totalrecord>1000000</totalrecord>", text)
        return SiteResponse(200, headers, text.encode("utf-8"))

    return fault


def stalling(arrived: Any, release: Any) -> Fault:
    """A page that answers only when *release* (an Event) is set; *arrived* is set on asking."""

    def fault(_request: SiteRequest, normal: SiteResponse) -> SiteResponse:
        arrived.set()
        release.wait(120)
        return normal

    return fault
