"""Run one crawl of a site into an archive: settings, logging, Scrapy; the run does the rest."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.utils.ossignal import install_shutdown_handlers
from twisted.python.failure import Failure

from caseharvest.archive.capture_index import CaptureIndex
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.source_files import (
    SourceError,
    find_warc_files,
    link_into_archive,
    refuse_archive_holding,
)
from caseharvest.crawl import settings as default_settings
from caseharvest.crawl.case_reader import READER_MODULES, extract_workers
from caseharvest.crawl.column_spider import ColumnSpider
from caseharvest.crawl.run_options import (
    FetchUsageError,
    RunOptions,
    attach_run_log,
    detach_run_log,
    keep_suffix_list_offline,
    prepare_settings,
    start_run,
)
from caseharvest.crawl.warc_indexing import INDEXER_MODULES
from caseharvest.processes import start_fork_server
from caseharvest.sites import SiteProfile

logger = logging.getLogger(__name__)


def build_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """caseharvest's defaults, then ``CASEHARVEST_CONTACT`` from the environment, then -s values."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    prepare_settings(settings)
    # `fetch` attaches handlers of its own: the run's log file, and the terminal.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    return settings


# After the first SIGINT/SIGTERM, requests in flight get this long to finish (a slow site
# would otherwise hold the stop for a whole download timeout); then the run stops anyway.
STOP_GRACE_SECONDS = 2.0


class _RecordingCrawlerProcess(CrawlerProcess):
    """A CrawlerProcess that stops promptly and cleanly on signals, and remembers the signal.

    The first SIGINT/SIGTERM says so on the terminal and starts Scrapy's graceful stop; if
    that has not finished after ``STOP_GRACE_SECONDS`` (or a second signal comes, as GNU
    `timeout` and impatient users send), the WARC file is closed and the reactor stopped
    at once. Scrapy's own second-signal stop would leave the WARC file ``.open``.
    """

    received_signal: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every crawler made, kept after Scrapy forgets one whose crawl ended: a stop can end
        # a crawl without its spider_closed signal reaching the WARC writer.
        self.started: list[Crawler] = []

    def create_crawler(self, crawler_or_spidercls: Any) -> Crawler:
        crawler = super().create_crawler(crawler_or_spidercls)
        self.started.append(crawler)
        return crawler

    def close_warc_files(self) -> None:
        """Finish every WARC file still being written (closing is a no-op for a closed one)."""
        for crawler in self.started:
            extensions = getattr(crawler, "_extensions", None) or getattr(
                crawler, "extensions", None
            )
            for extension in getattr(extensions, "middlewares", ()):
                stop = getattr(extension, "stop_now", None)
                if stop is not None:
                    stop()

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        self.received_signal = signum
        super()._signal_shutdown(signum, frame)
        reactor.callFromThread(self._announce_stop, signum)
        reactor.callFromThread(reactor.callLater, STOP_GRACE_SECONDS, self._stop_now)

    def _signal_kill(self, signum: int, frame: Any) -> None:
        from twisted.internet import reactor

        install_shutdown_handlers(signal.SIG_IGN)
        reactor.callFromThread(self._stop_now)

    @staticmethod
    def _announce_stop(signum: int) -> None:
        logger.warning(
            "%s received: stopping, closing the WARC file and recording the run "
            "(a second signal stops at once)",
            signal.Signals(signum).name,
        )

    def _stop_now(self) -> None:
        """Close every WARC file being written, then stop the reactor."""
        from twisted.internet import reactor

        if not reactor.running:
            return
        self.close_warc_files()
        self._stop_reactor()


def run_fetch(
    profile: SiteProfile,
    archive: Path,
    *,
    overrides: Mapping[str, str] | None = None,
    limit: int = 0,
    full: bool = False,
    revalidate: bool = False,
    from_warc: list[Path] | None = None,
    at: str | None = None,
    progress: Callable[[RunSummary], None] | None = None,
) -> RunSummary:
    """Crawl *profile*'s columns into *archive*; returns the run's summary.

    Raises :class:`FetchUsageError` for unusable settings and
    :class:`~caseharvest.archive.lock.ArchiveLockedError` when another run holds the archive
    (before anything in the archive changed).
    """
    settings = build_settings(overrides)
    sources: list[Path] = []
    if from_warc:
        try:
            sources = find_warc_files(from_warc)
            refuse_archive_holding(sources, archive)
        except SourceError as exc:
            raise FetchUsageError(str(exc)) from exc
        _answer_from_warc(settings)
    if extract_workers(settings) > 0:
        # The workers' fork server imports (a second) on another core while this process
        # opens the archive and starts the crawl: the first case page finds a worker ready.
        # A crawl answered from WARC files writes none, so it has no indexer.
        start_fork_server(READER_MODULES + (() if from_warc else INDEXER_MODULES))
    options = RunOptions(profile, archive, limit=limit, full=full, revalidate=revalidate)
    run = start_run(options, settings)
    log_handler = attach_run_log(run)
    logging.getLogger().setLevel(logging.INFO)
    try:
        run.progress = progress
        if sources:
            # Only now, holding the lock: a refused run must not have touched the archive.
            link_into_archive(sources, archive, profile.name)
            run.from_warc = CaptureIndex.build(sources)
            run.from_warc_at = at
        keep_suffix_list_offline()
        if progress is not None:
            settings.set(
                "EXTENSIONS",
                {
                    **settings.getdict("EXTENSIONS"),
                    "caseharvest.crawl.progress.ProgressExtension": 500,
                },
                priority="cmdline",
            )
        process = _RecordingCrawlerProcess(settings)
        # Scrapy leaves its loggers at DEBUG; the run's handlers keep INFO and above, so a
        # record made for every request and item was thrown away (1 % of a fast crawl).
        logging.getLogger("scrapy").setLevel(logging.INFO)
        crawl = process.crawl(ColumnSpider, run=run)
        crawl.addErrback(_crawl_failed, run)
        # What exists now (Scrapy's and Twisted's modules, the capture index of an archive)
        # lives as long as the crawl: each full collection walked it again, 1.5 s of a
        # 20,000-case run over an archive. Frozen, the collector looks at the crawl's own.
        gc.freeze()
        try:
            process.start()
        finally:
            gc.unfreeze()
        run.summary.signal = process.received_signal
        if process.received_signal is not None:
            # However Scrapy's stop went, no file of this run stays open.
            process.close_warc_files()
        # A stop that did not let the spider close: cases still open end with a reason.
        run.ledger.close_open("the run was stopped before its answer was stored")
        warc_dir = run.layout.warc_dir(profile.name)
        run.summary.warc_left_open = sorted(path.name for path in warc_dir.glob("*.open"))
    finally:
        if isinstance(run.from_warc, CaptureIndex):
            run.from_warc.close()
        try:
            run.finish()
        finally:
            detach_run_log(log_handler)
    return run.summary


def _answer_from_warc(settings: Settings) -> None:
    """Serve every request from archived captures (the run's capture index), not the network."""
    handler = "caseharvest.crawl.archive_download.ArchiveDownloadHandler"
    settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="cmdline")
    # Nothing reaches a server: no politeness delay (and the capture extension stands down).
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    # Nor a proxy, and a session cookie changes no answer (captures are found by method, URL
    # and body): the cookie middleware alone was 4 % of the reactor's time (py-spy), and the
    # proxy middleware reads the whole environment per request when a proxy is set.
    settings.set("HTTPPROXY_ENABLED", False, priority="cmdline")
    settings.set("COOKIES_ENABLED", False, priority="cmdline")
    # Nor retries: every try of the crawl that made the files is in them, and the index
    # answers with the capture current at --at, so a second try is the same answer again.
    # (Loading the retry middleware alone took 0.1 s: it imports the HTTP client for its
    # list of exceptions.)
    settings.set("RETRY_ENABLED", False, priority="cmdline")


def _crawl_failed(failure: Failure, run: ArchiveRun) -> None:
    """A crawl that could not run at all (a component failed to start) is a failed run."""
    logger.error("the crawl failed: %s", failure.getErrorMessage(), exc_info=failure.value)
    run.summary.fatal.append(
        f"the crawl failed: {failure.type.__name__}: {failure.getErrorMessage()}"
    )
