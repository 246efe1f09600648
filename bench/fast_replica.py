"""The benchmark's replica: the Shandong column, answered as fast as wget can ask.

The bundled replica (``caseharvest.replica``) is built for tests: a thread per connection,
http.server's parsing, every page rendered (and gzipped) per request, every exchange logged
whole. That is half a millisecond of CPU a page, and on wget's one keep-alive connection it
adds up to wget's own cost, so the baseline measured the replica as much as wget. This
server answers the same requests with the same bytes (the replica's own router renders
them, and ``frame_response`` frames them as the replica does), but from memory: each case
page is rendered once per coding before the clock starts, then written from an asyncio
protocol (keep-alive, Nagle off: asyncio's default for TCP, gzip when asked).

What is not cached goes to the router as it comes: the listing and its cookies, POSTs,
conditional requests, HEAD, and any answer that is not a plain 200 (a flaky case's first
503 is the router's to give, so the crawl meets it as the replica's users do). The cache is
filled from a twin of the site, so filling it consumes none of the live site's state.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from caseharvest.replica.cases import SITE_HOST, ReplicaConfig, ReplicaSite
from caseharvest.replica.routes import SiteRequest, SiteResponse, accepts_gzip
from caseharvest.replica.server import ShandongHost, frame_response

_NOT_REPLICATED = SiteResponse(403, [("Content-Type", "text/plain")], b"not replicated\n")
_CONDITIONAL = ("if-none-match", "if-modified-since")
# What a client sends that the cache key keeps: the URL and whether gzip is accepted.
_Key = tuple[str, bool]


@dataclass(frozen=True)
class Exchange:
    """One answered request, as the benchmark counts them."""

    method: str
    url: str
    status: int


class FastReplica:
    """``with FastReplica(config) as replica``: an HTTP proxy at ``replica.proxy_url``."""

    def __init__(self, config: ReplicaConfig) -> None:
        self.site = ReplicaSite(config)
        self._host = ShandongHost(self.site)
        self._cache: dict[_Key, SiteResponse] = {}
        self._log: list[Exchange] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.proxy_url = ""

    def warm(self) -> int:
        """Render every listed case page, plain and gzipped, from a twin of the site."""
        twin = ShandongHost(ReplicaSite(self.site.config))
        for case in self.site.listed():
            parts = urlsplit(case.url)
            for gzip in (False, True):
                headers = (("Accept-Encoding", "gzip"),) if gzip else ()
                request = SiteRequest("GET", parts.path, parts.query, headers)
                response = twin.answer(request)
                if _cacheable(request, response):
                    self._cache[(case.url, gzip)] = response
        return len(self._cache)

    def answer(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[bytes, bool]:
        """The wire bytes answering one request, and whether the connection then closes (the
        exchange is logged)."""
        parts = urlsplit(url)
        request = SiteRequest(method, parts.path or "/", parts.query, tuple(headers), body)
        key = (url, accepts_gzip(request.header("Accept-Encoding")))
        response = self._cache.get(key) if method == "GET" else None
        if response is None or _conditional(request):
            if parts.hostname != SITE_HOST or parts.port not in (None, 80):
                response = _NOT_REPLICATED
            else:
                response = self._host.answer(request)
            if _cacheable(request, response):
                self._cache[key] = response
        close = response.close or response.hang_up
        self._log.append(Exchange(method, url, response.status))
        wire = frame_response(response, method=method, client_speaks_11=True, close=close)[2]
        return wire, close

    def exchanges(self) -> list[Exchange]:
        return list(self._log)

    def clear_log(self) -> None:
        self._log.clear()

    def __enter__(self) -> FastReplica:
        self.warm()
        self._server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=511)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.proxy_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join()
        if self._server is not None:
            self._server.close()
        self._loop.close()


def _conditional(request: SiteRequest) -> bool:
    return any(request.header(name) for name in _CONDITIONAL)


def _cacheable(request: SiteRequest, response: SiteResponse) -> bool:
    return (
        request.method == "GET"
        and not _conditional(request)
        and response.status == 200
        and not (response.close or response.hang_up or response.chunked)
        and not any(name.lower() == "set-cookie" for name, _ in response.headers)
    )


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed from the buffer, answered in order."""

    def __init__(self, replica: FastReplica) -> None:
        self.replica = replica
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            headers = [
                (name.strip(), value.strip())
                for name, _, value in (line.partition(":") for line in lines[1:])
            ]
            length = int(next((v for n, v in headers if n.lower() == "content-length"), 0))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if target.startswith("/"):  # origin-form: the Host header names the site
                host = next((v for n, v in headers if n.lower() == "host"), "")
                target = f"http://{host}{target}"
            wire, close = self.replica.answer(method, target, headers, body)
            self.transport.write(wire)
            if close:
                self.transport.close()
