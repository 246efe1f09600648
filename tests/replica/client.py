"""A tiny HTTP client for the replica tests: through the proxy, https via CONNECT (verified)."""

from __future__ import annotations

import gzip
import http.client
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from caseharvest.replica import ReplicaServer


@dataclass
class Answer:
    """What came back: status, header lines in order, body bytes as sent (decoded from chunks)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def content(self) -> bytes:
        """The body with any gzip coding removed."""
        if self.header("Content-Encoding") == "gzip":
            return gzip.decompress(self.body)
        return self.body

    def text(self, encoding: str = "utf-8") -> str:
        return self.content.decode(encoding)


def trusting(server: ReplicaServer) -> ssl.SSLContext:
    """A client TLS context that verifies certificates against the replica's CA only."""
    assert server.ca_cert_pem is not None
    context = ssl.create_default_context(cadata=server.ca_cert_pem.decode("ascii"))
    return context


def get(
    server: ReplicaServer,
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request for ``url`` through the replica as a proxy (CONNECT + TLS for https)."""
    parts = urlsplit(url)
    headers = dict(headers or {})
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", server.port, timeout=10, context=trusting(server)
        )
        connection.set_tunnel(parts.hostname or "", parts.port or 443)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    else:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        target = url
    if body is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(response.status, response.reason, response.getheaders(), response.read())
    finally:
        connection.close()
