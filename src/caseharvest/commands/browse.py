"""`caseharvest browse`: the catalog in Datasette, with full-text search, facets and links.

Datasette shares caseharvest's environment: its dependencies (uvicorn, httpx, Jinja2, pint …)
overlap nothing of Scrapy's, so unlike pywb it needs no venv of its own. It runs as a
subprocess over the catalog file with a metadata document written per archive (titles,
facets, the FTS index) and a small plugin that links each case to its page under `serve`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseharvest.archive import search_index
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.upgrade import open_catalog
from caseharvest.commands.browse_plugin import PLUGIN
from caseharvest.commands.search import catch_up_index
from caseharvest.commands.serve.wayback_server import (
    DEFAULT_PORT as SERVE_PORT,
)
from caseharvest.commands.serve.wayback_server import (
    _check_port_free,
    _free_port,
    _interrupts_not_inherited,
    _sigterm_as_interrupt,
)

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001
# Where `serve` replays the archive with its defaults (its collection is "caseharvest").
DEFAULT_SERVE_URL = f"http://127.0.0.1:{SERVE_PORT}/caseharvest/"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
DATABASE = "catalog"  # Datasette names a database after its file


class BrowseError(RuntimeError):
    """Datasette did not come up; the message says why."""


def metadata(archive: Path, serve_url: str, *, searchable: bool) -> dict[str, Any]:
    """Datasette's metadata document for *archive*: titles, facets, search, the serve link."""
    cases: dict[str, Any] = {
        "title": "Cases: latest title and text of each",
        "description": "One row per case; archived_page opens it in `caseharvest serve`.",
        "facets": ["site", "column_id", "year", "source"],
        "sort_desc": "published",
        "label_column": "title",
    }
    if searchable:
        cases.update(fts_table=search_index.FTS_TABLE, fts_pk="id")
    return {
        "title": f"caseharvest archive {archive}",
        "description": "Search needs three characters or more here; `caseharvest search` "
        "also finds two-character words.",
        "databases": {
            DATABASE: {
                "tables": {
                    search_index.SEARCH_TABLE: cases,
                    "cases": {"facets": ["site", "column_id", "status"]},
                    "versions": {"facets": ["site", "column_id", "version"]},
                    "captures": {
                        "facets": ["record_type", "status", "method"],
                        "sort_desc": "warc_date",
                    },
                    "runs": {"facets": ["site", "command", "exit_code"], "sort_desc": "started_at"},
                    search_index.FTS_TABLE: {"hidden": True},
                }
            }
        },
        "plugins": {PLUGIN: {"serve_url": serve_url}},
    }


@dataclass(frozen=True)
class BrowseSetup:
    """What Datasette is started with."""

    catalog: Path
    immutable: bool
    metadata: Path
    plugins: Path


def prepare(archive: Path, folder: Path, serve_url: str) -> BrowseSetup:
    """Bring the catalog's index up to date (when writable) and write Datasette's files."""
    catch_up_index(archive)
    layout = ArchiveLayout(archive)
    writable = os.access(layout.root, os.W_OK) and os.access(layout.catalog, os.W_OK)
    catalog = open_catalog(archive, read_only=True)
    try:
        searchable = search_index.has_search_tables(catalog)
    finally:
        catalog.close()
    if not searchable:
        logger.warning("%s has no search index (read-only, older schema): no search box", archive)
    document = folder / "metadata.json"
    document.write_text(
        json.dumps(metadata(archive, serve_url, searchable=searchable), ensure_ascii=False),
        "utf-8",
    )
    plugins = folder / "plugins"
    plugins.mkdir(exist_ok=True)
    (plugins / "caseharvest_browse.py").write_text(
        "from caseharvest.commands.browse_plugin import render_cell  # noqa: F401\n", "utf-8"
    )
    # A folder nobody may write: Datasette reads the file as immutable, as we do.
    return BrowseSetup(layout.catalog, not writable, document, plugins)


def datasette_command(setup: BrowseSetup, host: str, port: int) -> list[str]:
    """The command line that serves *setup* on *host*:*port*."""
    return [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        *(["-i", str(setup.catalog)] if setup.immutable else [str(setup.catalog)]),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(setup.metadata),
        "--plugins-dir",
        str(setup.plugins),
        # Case texts are long: tables show their start, a row's page all of it.
        "--setting",
        "truncate_cells_html",
        "160",
        "--setting",
        "sql_time_limit_ms",
        "5000",
    ]


def _wait_until_ready(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        code = process.poll()
        if code is not None:
            raise BrowseError(f"datasette exited (code {code}) before it answered")
        try:
            with opener.open(f"{url}-/versions.json", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise BrowseError(f"datasette did not answer at {url} in time") from None
            # A separate process with no readiness signal of its own: poll.
            time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _temporary_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="caseharvest-browse-") as folder:
        yield Path(folder)


def browse_archive(
    archive: Path,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    serve_url: str = DEFAULT_SERVE_URL,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Serve *archive*'s catalog in Datasette until interrupted; returns 0 or its exit code."""
    if port == 0:
        port = _free_port(host)
    else:
        try:
            _check_port_free(host, port)
        except RuntimeError as exc:
            raise BrowseError(str(exc)) from exc
    shown_host = f"[{host}]" if ":" in host else ("127.0.0.1" if host == "0.0.0.0" else host)
    url = f"http://{shown_host}:{port}/"
    with _temporary_folder() as folder, _sigterm_as_interrupt():
        setup = prepare(archive, folder, serve_url if serve_url.endswith("/") else serve_url + "/")
        with _interrupts_not_inherited():
            process = subprocess.Popen(
                datasette_command(setup, host, port),
                stdin=subprocess.DEVNULL,
                stdout=sys.stderr.fileno(),  # stdout carries the URL, for scripts
            )
        try:
            _wait_until_ready(process, url)
            if announce is not None:
                announce(url)
            code = process.wait()
            logger.warning("datasette exited with code %d", code)
            return code
        except KeyboardInterrupt:
            logger.info("interrupted: stopping datasette")
            return 0
        finally:
            _stop(process)
