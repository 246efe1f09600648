"""CDXJ indexes of the WARC files a crawl writes: while they are written, or once closed.

A polite crawl indexes each file when it is closed, in the crawl process (it has time). A
fast crawl (one with extraction workers, see ``crawl.case_reader``) hands each finished
stretch of the file to an indexer process as it goes (``archive.segment_index``), so that
closing a file costs the crawl's core only the last stretch. Whatever goes wrong there, the
file is indexed the plain way at the end; a disk that refuses even that leaves the index to
``ensure_indexes`` on next use, as before.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.segment_index import add_segment, write_index
from caseharvest.archive.warc_index import index_warc_file
from caseharvest.capture.warc_writer import RotatingWarcWriter
from caseharvest.processes import worker_pool

logger = logging.getLogger(__name__)

# A stretch of this many bytes goes to the indexer process (a few hundred records).
SEGMENT_BYTES = 2 * 1024 * 1024
# What the indexer process imports (cdxj-indexer, which segment_index imports when it runs).
INDEXER_MODULES = ("caseharvest.archive.segment_index", "cdxj_indexer.main")


class WarcIndexing:
    """Indexes the run's WARC files; :meth:`finish` waits until every closed file has one."""

    def __init__(self, run: ArchiveRun, background: bool) -> None:
        self.run = run
        self.background = background
        self._pool: ProcessPoolExecutor | None = None
        self._start = 0  # where the open file's next segment starts
        self._jobs: dict[Path, list[Future[Any]]] = {}

    def wrote(self, writer: RotatingWarcWriter) -> None:
        """After each exchange: hand a long enough finished stretch to the indexer."""
        if not self.background or writer.size - self._start < SEGMENT_BYTES:
            return
        position = writer.written()
        if position is None:
            return
        written, final, end = position
        self._submit(final, add_segment, written, final, self._start, end)
        self._start = end

    def file_closed(self, path: Path) -> None:
        """A finished WARC file: count it, and index it (CDXJ, POST bodies appended)."""
        self.run.summary.warc_files.append(path.name)
        if not self.background:
            self._index_here(path)
            return
        start, self._start = self._start, 0
        end = path.stat().st_size
        if end > start:
            self._submit(path, add_segment, path, path, start, end)
        self._submit(path, write_index, path)

    def finish(self) -> None:
        """Wait for the indexer; any file it could not index is indexed here."""
        jobs, self._jobs = self._jobs, {}
        for path, futures in jobs.items():
            try:
                for future in futures:
                    future.result()
            except Exception as exc:
                logger.warning("indexing %s while it was written failed (%s)", path.name, exc)
                self._index_here(path)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, path: Path, job: Any, *args: Any) -> None:
        if self._pool is None:
            self._pool = worker_pool(1, preload=INDEXER_MODULES)
        self._jobs.setdefault(path, []).append(self._pool.submit(job, *args))

    def _index_here(self, path: Path) -> None:
        try:
            index_warc_file(path)
        except OSError as exc:
            # Nothing is lost: ensure_indexes() indexes any file that lacks its index.
            self.run.summary.warn(
                f"could not index {path.name} now ({exc}); it is indexed on next use"
            )
