"""Run pywb's ``wayback`` over an archive's collection until interrupted."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.upgrade import open_catalog
from caseharvest.commands.serve.pywb_collection import PywbCollection, prepare_collection
from caseharvest.sites import ProfileError, UnknownSiteError, load_profile

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
STDERR_FD = 2


class WaybackStartError(RuntimeError):
    """``wayback`` did not come up; the message says why."""


@dataclass(frozen=True)
class ArchivedPage:
    """A page of the archive and where pywb replays it."""

    site: str
    url: str
    replay_url: str


def warc_timestamp(warc_date: str) -> str:
    """``2026-01-02T03:04:05.678Z`` → ``20260102030405``, the form replay URLs use."""
    return "".join(ch for ch in warc_date[:19] if ch.isdigit())


def _browsable_host(host: str) -> str:
    """A host a browser on this machine can open for a server bound to *host*."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _check_port_free(host: str, port: int) -> None:
    # A port already taken would make the readiness check talk to the other server.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise WaybackStartError(
                f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
            ) from exc


@contextmanager
def _interrupts_not_inherited() -> Iterator[None]:
    """Start children with SIGINT ignored: Ctrl-C in a terminal reaches the whole process
    group, and pywb would die printing a traceback; we stop it ourselves, with SIGTERM."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class WaybackServer:
    """A running ``wayback`` subprocess serving one collection."""

    def __init__(
        self, process: subprocess.Popen[bytes], collection: PywbCollection, host: str, port: int
    ) -> None:
        self.process = process
        self.collection = collection
        self.host = host
        self.port = port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/<collection>/``."""
        return f"http://{_browsable_host(self.host)}:{self.port}/{self.collection.name}/"

    def replay_url(self, url: str, timestamp: str = "", modifier: str = "") -> str:
        """The replay URL of *url* at *timestamp* (latest when empty), with a pywb modifier."""
        stamp = f"{timestamp}{modifier}"
        return f"{self.base_url}{stamp}/{url}" if stamp else f"{self.base_url}{url}"

    def wait_until_listening(self, timeout: float = READY_TIMEOUT) -> None:
        """Return once the server accepts connections; raise if it exits or takes too long."""
        address = (_browsable_host(self.host).strip("[]"), self.port)
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                raise WaybackStartError(f"wayback exited (code {code}) before it listened")
            try:
                with socket.create_connection(address, timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise WaybackStartError(
                        f"wayback did not listen on {address[0]}:{self.port} within {timeout:.0f} s"
                    ) from None
                # The server is a separate process with no readiness signal of its own: poll.
                time.sleep(0.05)

    def wait(self) -> int:
        """Block until the server exits; returns its exit code."""
        return self.process.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_wayback(
    wayback: Path,
    collection: PywbCollection,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    output: IO[bytes] | int | None = None,
) -> WaybackServer:
    """Start ``wayback`` in the collection's folder on *host*:*port* (0: a free port)."""
    if port == 0:
        port = _free_port(host)
    else:
        _check_port_free(host, port)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYWB_")}
    # pywb's log and access lines go to our stderr (fd 2) or *output*: stdout carries the URLs.
    stream = output if output is not None else STDERR_FD
    with _interrupts_not_inherited():
        process = subprocess.Popen(
            [str(wayback), "--bind", host, "--port", str(port)],
            cwd=collection.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stream,
            stderr=stream,
        )
    logger.info("started %s (pid %d) on %s:%d", wayback, process.pid, host, port)
    server = WaybackServer(process, collection, host, port)
    try:
        server.wait_until_listening()
    except BaseException:
        server.stop()
        raise
    return server


def archived_column_pages(archive: Path, server: WaybackServer) -> list[ArchivedPage]:
    """The column page of each site in *archive*, at its newest 200 capture."""
    sites = ArchiveLayout(archive).warc_sites()
    catalog = open_catalog(archive, read_only=True)
    try:
        pages = []
        for site in sites:
            try:
                columns = load_profile(site).columns
            except (UnknownSiteError, ProfileError):
                continue
            for column in columns:
                capture = catalog.latest_original(column.url)
                if capture is not None:
                    stamp = warc_timestamp(capture.warc_date)
                    pages.append(
                        ArchivedPage(site, column.url, server.replay_url(column.url, stamp))
                    )
    finally:
        catalog.close()
    return pages


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the server as Ctrl-C does, so the wayback child never outlives us."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def serve_archive(
    archive: Path,
    wayback: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    announce: Callable[[WaybackServer, list[ArchivedPage]], None] | None = None,
    collection: PywbCollection | None = None,
) -> int:
    """Serve *archive* through pywb until interrupted; returns 0, or wayback's exit code.

    *collection* is the archive's prepared collection (prepared here when None); *announce*
    gets the running server and the column pages once the server listens.
    """
    collection = collection or prepare_collection(archive)
    with _sigterm_as_interrupt():
        try:
            server = start_wayback(wayback, collection, host, port)
        except KeyboardInterrupt:
            return 0
        try:
            if announce is not None:
                announce(server, archived_column_pages(archive, server))
            code = server.wait()
            logger.warning("wayback exited with code %d", code)
            return code
        except KeyboardInterrupt:
            logger.info("interrupted: stopping wayback")
            return 0
        finally:
            server.stop()
