"""One HTTP fetch as it crossed the wire, in the plain values the WARC writer needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from urllib.parse import urlsplit

# Hop-by-hop headers describe one connection, not the resource; the transport (Twisted) consumes
# them, so what it hands over cannot be claimed as sent. Transfer-Encoding in particular: the body
# we hold is already de-chunked, so keeping "chunked" would make the stored message unparseable.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"te",
        b"trailer",
        b"upgrade",
    }
)


def reason_phrase(status: int) -> str:
    """The standard reason phrase for *status* (the real one is not exposed by the transport)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass(frozen=True)
class HttpExchange:
    """A request and the response it got, with header values and body bytes as received."""

    url: str
    method: str
    request_headers: tuple[tuple[bytes, bytes], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[bytes, bytes], ...]
    response_body: bytes
    date: datetime
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None

    @property
    def host(self) -> str:
        """Host part of the URL, with a port when it is not the scheme's default."""
        return urlsplit(self.url).netloc

    @property
    def request_target(self) -> str:
        """Origin-form request target: path and query string, as an origin server sees it."""
        parts = urlsplit(self.url)
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    def response_header(self, name: bytes) -> bytes | None:
        """Last value of a response header (case-insensitive), or None."""
        wanted = name.lower()
        found = None
        for key, value in self.response_headers:
            if key.lower() == wanted:
                found = value
        return found

    def response_head(self) -> bytes:
        """The response status line and headers, as stored in the WARC record."""
        lines = [f"{self.protocol} {self.status} {reason_phrase(self.status)}".encode("ascii")]
        lines.extend(
            name + b": " + value
            for name, value in self.response_headers
            if name.lower() not in HOP_BY_HOP
        )
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def request_head(self) -> bytes:
        """Request line and headers; Host and Content-Length added as the transport adds them."""
        lines = [f"{self.method} {self.request_target} {self.protocol}".encode("ascii")]
        names = {name.lower() for name, _ in self.request_headers}
        if b"host" not in names:
            lines.append(b"Host: " + self.host.encode("idna"))
        lines.extend(
            name + b": " + value
            for name, value in self.request_headers
            if name.lower() not in HOP_BY_HOP
        )
        if self.request_body and b"content-length" not in names:
            lines.append(b"Content-Length: " + str(len(self.request_body)).encode("ascii"))
        return b"\r\n".join(lines) + b"\r\n\r\n"
