"""The replica's HTTP server: an origin for commerce.shandong.gov.cn and an HTTP proxy for it.

Responses are written as raw bytes (status line, headers, body) so that the exchange log holds
exactly what went on the wire, Date and Server included.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import http
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from caseharvest.replica.cases import DEFAULT_CONFIG, SITE_HOST, ReplicaConfig, ReplicaSite
from caseharvest.replica.exchanges import Exchange, ExchangeLog
from caseharvest.replica.routes import SiteRequest, SiteResponse, SiteRouter

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


class _ReplicaHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so stop() can end keep-alive ones."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], replica: ReplicaServer) -> None:
        self.replica = replica
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _ReplicaHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every connection still open (idle keep-alive clients)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # OSError: the client closed it first.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _ReplicaHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_HEADER
    timeout = _KEEPALIVE_TIMEOUT
    server: _ReplicaHTTPServer

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
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request body")
            return
        target = self.path
        if self.command == "CONNECT":
            host, _ = _host_and_port(target)
            response = SiteResponse(
                405,
                [("Content-Type", "text/plain"), ("Allow", "GET, HEAD, POST")],
                b"CONNECT is not supported: the replica serves plain http\n",
                close=True,
            )
            on_site = host == SITE_HOST
            self._send(
                response,
                target=target,
                url=f"https://{target}/",
                host=host,
                on_site=on_site,
                request_body=body,
            )
            return
        if target.startswith("/"):
            authority = self.headers.get("Host", "")
            url = f"http://{authority}{target}"
            path, _, query = target.partition("?")
        else:
            parts = urlsplit(target)
            authority, url = parts.netloc, target
            path, query = parts.path or "/", parts.query
        host, port = _host_and_port(authority)
        on_site = host == SITE_HOST and port in (None, 80)
        if not on_site:
            response = SiteResponse(403, [("Content-Type", "text/plain")], b"not replicated\n")
        else:
            request = SiteRequest(
                method=self.command,
                path=path,
                query=query,
                headers=tuple(self.headers.items()),
                body=body,
            )
            try:
                response = self.server.replica.router.answer(request)
            except Exception:
                logger.exception("replica: failed to answer %s %s", self.command, target)
                response = SiteResponse(
                    500, [("Content-Type", "text/plain")], b"replica error\n", close=True
                )
        self._send(response, target=target, url=url, host=host, on_site=on_site, request_body=body)

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
        status = response.status
        reason = _reason(status)
        content_type = [h for h in response.headers if h[0].lower() == "content-type"]
        others = [h for h in response.headers if h[0].lower() != "content-type"]
        headers = [("Server", SERVER_HEADER), ("Date", email.utils.formatdate(usegmt=True))]
        headers += content_type
        has_body = status >= 200 and status not in (204, 304)
        version = getattr(self, "request_version", "HTTP/0.9")
        client_speaks_11 = version not in ("HTTP/0.9", "HTTP/1.0")
        chunked = response.chunked and has_body and client_speaks_11
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        elif has_body:
            headers.append(("Content-Length", str(len(response.body))))
        close = response.close or self.close_connection
        headers.append(("Connection", "close" if close else "keep-alive"))
        headers += others
        method = getattr(self, "command", None) or ""
        sent_body = response.body if has_body and method != "HEAD" else b""
        head = f"HTTP/1.1 {status} {reason}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        wire = head.encode("latin-1")
        if sent_body:
            wire += _chunked(sent_body) if chunked else sent_body
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
        self.wfile.write(wire)
        self.wfile.flush()


class ReplicaServer:
    """The offline commerce.shandong.gov.cn: point a crawler's ``http_proxy`` at ``proxy_url``."""

    def __init__(
        self,
        config: ReplicaConfig = DEFAULT_CONFIG,
        *,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.config = config
        self.site = ReplicaSite(config)
        self.router = SiteRouter(self.site)
        self.host = host
        self.port = port
        self.proxy_url = f"http://{host}:{port}"
        self._log = ExchangeLog(Path(log_path) if log_path is not None else None)
        self._httpd: _ReplicaHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ReplicaServer:
        """Bind and serve in a background thread; ``port``/``proxy_url`` are then the real ones."""
        if self._httpd is not None:
            return self
        httpd = _ReplicaHTTPServer((self.host, self.port), self)
        self.port = httpd.server_address[1]
        self.proxy_url = f"http://{self.host}:{self.port}"
        # A short poll interval keeps stop() quick.
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"replica-{self.port}",
            daemon=True,
        )
        thread.start()
        self._httpd, self._thread = httpd, thread
        logger.info("replica of %s serving at %s", SITE_HOST, self.proxy_url)
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None
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
