"""The replica's HTTP server: an origin for the replicated sites and an HTTP(S) proxy for them.

Responses are written as raw bytes (status line, headers, body) so that the exchange log holds
exactly what went on the wire, Date and Server included.

Several sites can share one server: a request goes to the site serving its host (from the
absolute URI, the Host header, or the CONNECT target) and scheme. For a site served over
https the proxy accepts ``CONNECT host:443``, answers 200, terminates TLS with a certificate
for that host signed by a CA made at start-up (:mod:`caseharvest.replica.tls`) and then reads
ordinary requests from the tunnel; a second port serves https directly (SNI picks the site).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import http
import io
import logging
import socket
import ssl
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

from caseharvest.replica.cases import DEFAULT_CONFIG, SITE_HOST, ReplicaConfig, ReplicaSite
from caseharvest.replica.exchanges import Exchange, ExchangeLog
from caseharvest.replica.routes import SiteRequest, SiteResponse, SiteRouter
from caseharvest.replica.tls import ReplicaCA

logger = logging.getLogger(__name__)

SERVER_HEADER = "nginx"
_CHUNK_SIZE = 4096
_EXTRA_REASONS = {521: "Web Server Is Down"}
# Idle keep-alive connections are dropped after this many seconds, like nginx's keepalive_timeout.
_KEEPALIVE_TIMEOUT = 65.0


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_REASONS.get(status, "")


def _host_and_port(authority: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit(f"//{authority}")
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return authority.lower(), None


def _chunked(body: bytes) -> bytes:
    frames = [
        b"%x\r\n%s\r\n" % (len(body[at : at + _CHUNK_SIZE]), body[at : at + _CHUNK_SIZE])
        for at in range(0, len(body), _CHUNK_SIZE)
    ]
    return b"".join(frames) + b"0\r\n\r\n"


def frame_response(
    response: SiteResponse, *, method: str, client_speaks_11: bool, close: bool
) -> tuple[list[tuple[str, str]], bytes, bytes]:
    """*response* as nginx frames it: its headers (Date now), the body sent, the wire bytes.

    Server, Date and Content-Type come first, then the framing (chunked for a client that
    speaks HTTP/1.1 when the site chunks, Content-Length otherwise), Connection, and the
    site's other headers in their order. A HEAD answer and 1xx/204/304 carry no body.
    """
    status = response.status
    content_type = [h for h in response.headers if h[0].lower() == "content-type"]
    others = [h for h in response.headers if h[0].lower() != "content-type"]
    headers = [("Server", SERVER_HEADER), ("Date", email.utils.formatdate(usegmt=True))]
    headers += content_type
    has_body = status >= 200 and status not in (204, 304)
    chunked = response.chunked and has_body and client_speaks_11
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    elif has_body:
        headers.append(("Content-Length", str(len(response.body))))
    headers.append(("Connection", "close" if close else "keep-alive"))
    headers += others
    sent_body = response.body if has_body and method != "HEAD" else b""
    head = f"HTTP/1.1 {status} {_reason(status)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    wire = head.encode("latin-1")
    if sent_body:
        wire += _chunked(sent_body) if chunked else sent_body
    return headers, sent_body, wire


class HostedSite(Protocol):
    """What the server needs of a site: which requests reach it, and its answer to one."""

    hosts: tuple[str, ...]
    schemes: tuple[str, ...]

    def serves(self, host: str, port: int | None, scheme: str) -> bool:
        """Whether a request for ``scheme://host:port`` reaches this site."""
        ...

    def claims(self, request: SiteRequest) -> bool:
        """Whether this site answers the request when several sites share a host."""
        ...

    def answer(self, request: SiteRequest) -> SiteResponse:
        """The response to one request."""
        ...


class ShandongHost:
    """commerce.shandong.gov.cn (:class:`ReplicaSite` and its router) as a hosted site."""

    hosts: tuple[str, ...] = (SITE_HOST,)
    schemes: tuple[str, ...] = ("http",)  # the real site serves plain http only

    def __init__(self, site: ReplicaSite) -> None:
        self.site = site
        self.router = SiteRouter(site)

    def serves(self, host: str, port: int | None, scheme: str) -> bool:
        """Plain http on port 80 only."""
        return host == SITE_HOST and scheme == "http" and port in (None, 80)

    def claims(self, request: SiteRequest) -> bool:
        """The only site on its host."""
        return True

    def answer(self, request: SiteRequest) -> SiteResponse:
        """Delegate to the Shandong router."""
        return self.router.answer(request)


class _SocketWriter(io.BufferedIOBase):
    """A write-only file over a socket that sends everything it is given (TLS sockets too)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return len(data)


class _ReplicaHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so stop() can end keep-alive ones.

    With ``tls`` set, every accepted connection is wrapped in TLS (the https origin port).
    """

    daemon_threads = True
    # nginx's listen backlog. socketserver's default of 5 dropped the SYNs of a crawler opening
    # its 16 connections at once, and the kernel resent them only a second later.
    request_queue_size = 511

    def __init__(
        self, address: tuple[str, int], replica: ReplicaServer, tls: ssl.SSLContext | None = None
    ) -> None:
        self.replica = replica
        self.tls = tls
        self.scheme = "https" if tls is not None else "http"
        # accepted socket -> the socket now carrying the connection (a TLS wrap of it, maybe)
        self._connections: dict[socket.socket, socket.socket] = {}
        self._connections_lock = threading.Lock()
        super().__init__(address, _ReplicaHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections[request] = request
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            # Handshake in the connection's own thread, so a slow client cannot stall accept().
            request.settimeout(_KEEPALIVE_TIMEOUT)
            try:
                wrapped = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError) as error:
                logger.debug("replica: TLS handshake failed: %s", error)
                return
            self.upgraded(request, wrapped)
            request = wrapped
        super().finish_request(request, client_address)

    def upgraded(self, original: socket.socket, wrapped: socket.socket) -> None:
        """Note that a connection now runs over TLS (so stop() and cleanup reach it)."""
        with self._connections_lock:
            if original in self._connections:
                self._connections[original] = wrapped

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            current = self._connections.pop(request, request)
        if current is not request:
            # The accepted socket was detached by the TLS wrap: close the wrap instead.
            with contextlib.suppress(OSError):
                current.shutdown(socket.SHUT_WR)
            current.close()
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every connection still open (idle keep-alive clients)."""
        with self._connections_lock:
            connections = list(self._connections.values())
        for connection in connections:
            # OSError: the client closed it first.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _ReplicaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_HEADER
    timeout = _KEEPALIVE_TIMEOUT
    server: _ReplicaHTTPServer

    def setup(self) -> None:
        super().setup()
        self.scheme = self.server.scheme
        self.tunnel_host: str | None = None
        self.drop_next_request = False

    def do_GET(self) -> None:
        self._answer()

    do_HEAD = do_GET
    do_POST = do_GET
    do_CONNECT = do_GET
    do_PUT = do_GET
    do_DELETE = do_GET
    do_OPTIONS = do_GET
    do_PATCH = do_GET

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Every exchange is recorded by the replica itself; keep stderr quiet.
        pass

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("replica %s: " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The base class calls this for requests it cannot parse; answer them like any other.
        status = int(code)  # the base class passes an HTTPStatus
        text = f"{status} {message or _reason(status)}\n".encode("latin-1", "replace")
        response = SiteResponse(status, [("Content-Type", "text/plain")], text, close=True)
        target = getattr(self, "path", "") or ""
        self._send(response, target=target, url=target, host="", on_site=False, request_body=b"")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailer lines up to the blank line end the chunked body.
                    while self.rfile.readline().strip():
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length else b""

    def _answer(self) -> None:
        if self.drop_next_request:
            # The idle timeout fired as the client reused the connection: no answer, closed.
            self.close_connection = True
            return
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request body")
            return
        target = self.path
        replica = self.server.replica
        if self.command == "CONNECT":
            self._connect(target, body)
            return
        if target.startswith("/"):
            authority = self.headers.get("Host", "") or (self.tunnel_host or "")
            scheme = self.scheme
            url = f"{scheme}://{authority}{target}"
            path, _, query = target.partition("?")
        else:
            parts = urlsplit(target)
            authority, url, scheme = parts.netloc, target, parts.scheme or self.scheme
            path, query = parts.path or "/", parts.query
        host, port = _host_and_port(authority)
        request = SiteRequest(
            method=self.command,
            path=path,
            query=query,
            headers=tuple(self.headers.items()),
            body=body,
            scheme=scheme,
        )
        site = replica.site_for(host, port, scheme, request)
        on_site = site is not None
        if site is None:
            response = SiteResponse(403, [("Content-Type", "text/plain")], b"not replicated\n")
        else:
            try:
                response = site.answer(request)
            except Exception:
                logger.exception("replica: failed to answer %s %s", self.command, target)
                response = SiteResponse(
                    500, [("Content-Type", "text/plain")], b"replica error\n", close=True
                )
        self._send(response, target=target, url=url, host=host, on_site=on_site, request_body=body)

    def _connect(self, target: str, body: bytes) -> None:
        """Open a TLS tunnel to a site served over https, or refuse."""
        replica = self.server.replica
        host, port = _host_and_port(target)
        https_site = self.tunnel_host is None and replica.serves_https(host, port)
        if not https_site:
            known = replica.knows_host(host)
            if known:
                response = SiteResponse(
                    405,
                    [("Content-Type", "text/plain"), ("Allow", "GET, HEAD, POST")],
                    b"CONNECT is not supported: the replica serves plain http\n",
                    close=True,
                )
            else:
                response = SiteResponse(
                    403, [("Content-Type", "text/plain")], b"not replicated\n", close=True
                )
            self._send(
                response,
                target=target,
                url=f"https://{target}/",
                host=host,
                on_site=known,
                request_body=body,
            )
            return
        # A proxy's own answer: no Content-Length (RFC 9110 forbids it on a 2xx to CONNECT).
        head = "HTTP/1.1 200 Connection established\r\nProxy-Agent: caseharvest-replica\r\n\r\n"
        replica.record(
            Exchange(
                time=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                method="CONNECT",
                target=target,
                url=f"https://{target}/",
                host=host,
                on_site=True,
                request_headers=list(self.headers.items()),
                request_body=body,
                status=200,
                reason="Connection established",
                response_headers=[("Proxy-Agent", "caseharvest-replica")],
                response_body=b"",
            )
        )
        self.wfile.write(head.encode("latin-1"))
        self.wfile.flush()
        raw = self.connection
        try:
            tls = replica.tls_context(host).wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError) as error:
            logger.debug("replica: TLS handshake in CONNECT tunnel to %s failed: %s", host, error)
            self.close_connection = True
            return
        self.server.upgraded(self.request, tls)
        # From here on the same handler reads requests from inside the tunnel.
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = _SocketWriter(tls)
        self.scheme = "https"
        self.tunnel_host = host
        self.close_connection = False

    def _send(
        self,
        response: SiteResponse,
        *,
        target: str,
        url: str,
        host: str,
        on_site: bool,
        request_body: bytes,
    ) -> None:
        version = getattr(self, "request_version", "HTTP/0.9")
        close = response.close or self.close_connection
        method = getattr(self, "command", None) or ""
        status, reason = response.status, _reason(response.status)
        headers, sent_body, wire = frame_response(
            response,
            method=method,
            client_speaks_11=version not in ("HTTP/0.9", "HTTP/1.0"),
            close=close,
        )
        # Logged before writing, so a client that has read the answer always finds it logged.
        self.server.replica.record(
            Exchange(
                time=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
                method=method,
                target=target,
                url=url,
                host=host,
                on_site=on_site,
                request_headers=list(self.headers.items()) if hasattr(self, "headers") else [],
                request_body=request_body,
                status=status,
                reason=reason,
                response_headers=headers,
                response_body=sent_body,
            )
        )
        if close:
            self.close_connection = True
        self.drop_next_request = response.hang_up
        self.wfile.write(wire)
        self.wfile.flush()


def _hosted(site: Any) -> HostedSite:
    if isinstance(site, ReplicaSite):
        return ShandongHost(site)
    hosted: HostedSite = site
    return hosted


class ReplicaServer:
    """Offline replicas of sites: point a crawler's ``http_proxy`` at ``proxy_url``.

    ``ReplicaServer(config)`` serves commerce.shandong.gov.cn as before. ``sites=[…]`` serves
    any mix of sites (a :class:`ReplicaSite` or a family site such as ``TrsSite``), and
    ``family="fujian-trs"`` one site from :mod:`caseharvest.replica.registry`. ``site`` is the
    first site. When a site is served over https, ``ca_cert_pem``/``ca_cert_path`` hold the CA
    that signed its certificates and ``https_origin`` is a port speaking https directly.
    """

    def __init__(
        self,
        config: ReplicaConfig = DEFAULT_CONFIG,
        *,
        sites: Sequence[Any] | None = None,
        family: str | None = None,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if sites is not None and family is not None:
            raise ValueError("give sites or family, not both")
        if family is not None:
            from caseharvest.replica.registry import build_site

            sites = [build_site(family)]
        if sites is None:
            sites = [ReplicaSite(config)]
        if not sites:
            raise ValueError("a replica needs at least one site")
        self.config = config
        self.sites: list[Any] = list(sites)
        self.site: Any = self.sites[0]
        self._hosted = [_hosted(site) for site in self.sites]
        shandong = next((h for h in self._hosted if isinstance(h, ShandongHost)), None)
        # The router of the Shandong site, for callers of the single-site API.
        self.router: SiteRouter | None = shandong.router if shandong is not None else None
        self.host = host
        self.port = port
        self.https_port: int | None = None
        self.proxy_url = f"http://{host}:{port}"
        self._log = ExchangeLog(Path(log_path) if log_path is not None else None)
        self._httpd: _ReplicaHTTPServer | None = None
        self._https: _ReplicaHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._ca: ReplicaCA | None = None

    # ------------------------------------------------------------ dispatch

    def site_for(
        self, host: str, port: int | None, scheme: str, request: SiteRequest
    ) -> HostedSite | None:
        """The site answering a request for ``scheme://host:port``, if any."""
        candidates = [site for site in self._hosted if site.serves(host, port, scheme)]
        return next((site for site in candidates if site.claims(request)), None) or next(
            iter(candidates), None
        )

    def serves_https(self, host: str, port: int | None) -> bool:
        """Whether some site serves ``https://host:port``."""
        return any(site.serves(host, port or 443, "https") for site in self._hosted)

    def knows_host(self, host: str) -> bool:
        """Whether some site is replicated on this host (whatever its scheme)."""
        return any(host in site.hosts for site in self._hosted)

    def tls_context(self, host: str) -> ssl.SSLContext:
        """The TLS server context presenting ``host``'s certificate."""
        if self._ca is None:
            raise RuntimeError("no site is served over https")
        return self._ca.context_for(host)

    @property
    def ca_cert_pem(self) -> bytes | None:
        """PEM of the CA that signs the https sites' certificates (None without https sites)."""
        return self._ca.cert_pem if self._ca is not None else None

    @property
    def ca_cert_path(self) -> Path | None:
        """A file holding :attr:`ca_cert_pem` while the server runs."""
        return self._ca.cert_path if self._ca is not None else None

    @property
    def https_origin(self) -> str | None:
        """``https://host:port`` of the port that speaks https directly, when there is one."""
        return f"https://{self.host}:{self.https_port}" if self.https_port else None

    # ------------------------------------------------------------ life cycle

    def _serve(self, httpd: _ReplicaHTTPServer, name: str) -> None:
        # A short poll interval keeps stop() quick.
        thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def start(self) -> ReplicaServer:
        """Bind and serve in background threads; ``port``/``proxy_url`` are then the real ones."""
        if self._httpd is not None:
            return self
        httpd = _ReplicaHTTPServer((self.host, self.port), self)
        self.port = httpd.server_address[1]
        self.proxy_url = f"http://{self.host}:{self.port}"
        self._httpd = httpd
        self._serve(httpd, f"replica-{self.port}")
        https_hosts = [h for site in self._hosted if "https" in site.schemes for h in site.hosts]
        if https_hosts:
            self._ca = ReplicaCA()
            https = _ReplicaHTTPServer(
                (self.host, 0), self, tls=self._ca.sni_context(https_hosts[0])
            )
            self.https_port = https.server_address[1]
            self._https = https
            self._serve(https, f"replica-https-{self.https_port}")
        hosts = sorted({h for site in self._hosted for h in site.hosts})
        logger.info("replica of %s serving at %s", ", ".join(hosts), self.proxy_url)
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        if self._httpd is None:
            return
        for httpd in (self._httpd, self._https):
            if httpd is not None:
                httpd.shutdown()
                httpd.close_connections()
                httpd.server_close()
        for thread in self._threads:
            thread.join()
        if self._ca is not None:
            self._ca.close()
        self._httpd = self._https = None
        self._threads = []
        logger.info("replica at %s stopped", self.proxy_url)

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def record(self, exchange: Exchange) -> None:
        """Add one answered exchange to the log (called by the request handler)."""
        self._log.append(exchange)

    def exchanges(self) -> list[Exchange]:
        """Everything answered so far, in order."""
        return self._log.all()

    def clear_log(self) -> None:
        """Forget the exchanges recorded so far (a log file keeps its lines)."""
        self._log.clear()
