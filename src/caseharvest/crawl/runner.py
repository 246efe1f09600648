"""Run one crawl of a site into an archive: settings, lock, logging, Scrapy, run report."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from caseharvest import __version__
from caseharvest.archive.case_files import write_atomically
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.run_summary import RunSummary
from caseharvest.capture.recovery import recover_open_files, register_recovered
from caseharvest.crawl import settings as default_settings
from caseharvest.crawl.column_spider import ColumnSpider
from caseharvest.sites import SiteProfile

logger = logging.getLogger(__name__)


class FetchUsageError(ValueError):
    """The options of a fetch cannot work together; the message says what to change."""


def build_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """caseharvest's defaults, then ``CASEHARVEST_CONTACT`` from the environment, then -s values."""
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    contact = os.environ.get("CASEHARVEST_CONTACT")
    if contact:
        settings.set("CASEHARVEST_CONTACT", contact, priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    if "USER_AGENT" not in (overrides or {}):
        # The User-Agent carries the contact, unless the user set a User-Agent of their own.
        contact = settings.get("CASEHARVEST_CONTACT")
        settings.set("USER_AGENT", f"caseharvest/{__version__} (+{contact})", priority="cmdline")
    if settings.getbool("HTTPCACHE_ENABLED"):
        raise FetchUsageError(
            "HTTPCACHE_ENABLED is on: cache hits never reach the site, so they cannot be "
            "archived as captures. Drop `-s HTTPCACHE_ENABLED=…` and run again."
        )
    return settings


def _offline_public_suffix_list() -> None:
    """Keep Scrapy's cookie middleware from downloading the public suffix list.

    tldextract fetches it from GitHub on first use: a request to a host nobody asked to crawl,
    made from machines that may have no route out. The snapshot tldextract ships is enough to
    tell public suffixes apart for cookie domains.
    """
    from scrapy.downloadermiddlewares import cookies
    from tldextract import TLDExtract

    cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)


class _RecordingCrawlerProcess(CrawlerProcess):
    """A CrawlerProcess that remembers which signal asked it to stop (for the exit code)."""

    received_signal: int | None = None

    def _signal_shutdown(self, signum: int, frame: Any) -> None:
        self.received_signal = signum
        super()._signal_shutdown(signum, frame)


def _attach_log_file(path: Path, level: int) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


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
    """Crawl *profile*'s column into *archive*; returns the run's summary.

    Raises :class:`FetchUsageError` for unusable settings and
    :class:`~caseharvest.archive.lock.ArchiveLockedError` when another run holds the archive.
    """
    settings = build_settings(overrides)
    if from_warc:
        _answer_from_warc(settings, profile, archive, from_warc, at)
    archive.mkdir(parents=True, exist_ok=True)
    with ArchiveLock(archive):
        run = ArchiveRun.open(profile, archive, limit=limit)
        run.progress = progress
        _recover_open_files(run)
        settings.set("CASEHARVEST_RUN", run, priority="cmdline")
        full = (
            full
            or settings.getbool("CASEHARVEST_FULL")
            or _full_walk_due(run, settings.getfloat("CASEHARVEST_FULL_WALK_DAYS"))
        )
        settings.set("CASEHARVEST_FULL", full, priority="cmdline")
        settings.set(
            "CASEHARVEST_REVALIDATE",
            revalidate or settings.getbool("CASEHARVEST_REVALIDATE"),
            priority="cmdline",
        )
        log_handler = _attach_log_file(run.layout.logs / f"{run.run_id}.log", logging.INFO)
        logging.getLogger().setLevel(logging.INFO)
        try:
            _offline_public_suffix_list()
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
            crawl = process.crawl(ColumnSpider)
            crawl.addErrback(_crawl_failed, run)
            process.start()
            summary = run.summary
            summary.signal = process.received_signal
            warc_dir = run.layout.warc_dir(profile.name)
            summary.warc_bytes = sum(
                (warc_dir / name).stat().st_size for name in summary.warc_files
            )
            run.finish()
            write_run_report(run)
        finally:
            logging.getLogger().removeHandler(log_handler)
            log_handler.close()
            run.catalog.close()
    return summary


def _answer_from_warc(
    settings: Settings, profile: SiteProfile, archive: Path, sources: list[Path], at: str | None
) -> None:
    """Serve every request from the captures in *sources* instead of the network."""
    from caseharvest.archive.capture_index import CaptureIndex
    from caseharvest.commands.replay import ReplayError, find_warc_files, link_into_archive

    try:
        files = find_warc_files(sources)
        link_into_archive(files, archive, profile.name)
    except ReplayError as exc:
        raise FetchUsageError(str(exc)) from exc
    handler = "caseharvest.crawl.archive_download.ArchiveDownloadHandler"
    settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, priority="cmdline")
    # Nothing reaches a server: no WARC capture (it would fake captures), no politeness delay.
    extensions = settings.getdict("EXTENSIONS")
    extensions["caseharvest.crawl.capture_extension.WarcCaptureExtension"] = None
    settings.set("EXTENSIONS", extensions, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
    settings.set("CASEHARVEST_FROM_WARC_INDEX", CaptureIndex.build(files), priority="cmdline")
    settings.set("CASEHARVEST_FROM_WARC_AT", at or "", priority="cmdline")


def _full_walk_due(run: ArchiveRun, max_age_days: float) -> bool:
    """True when the site's listing was never read whole, or not for *max_age_days*."""
    if not run.catalog.case_urls(run.profile.name):  # any status
        return False  # a first run reads everything anyway
    last = run.catalog.last_full_walk(run.profile.name)
    if last is None:
        return True
    age = datetime.now(UTC) - datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return age > timedelta(days=max_age_days)


def _recover_open_files(run: ArchiveRun) -> None:
    """Finish WARC files an earlier, killed run left open, before writing new ones."""
    for recovered in recover_open_files(run.layout.warc_dir(run.profile.name)):
        name = recovered.path.name
        if recovered.removed:
            run.summary.warn(f"removed {name}.open: it held no whole record")
            continue
        added = register_recovered(run.catalog, recovered)
        cut = (
            f", cut {recovered.cut_bytes} bytes after its last whole record"
            if (recovered.cut_bytes)
            else ""
        )
        run.summary.warn(
            f"recovered {name} left open by an interrupted run: {len(recovered.records)} whole "
            f"records, {added} newly registered{cut}"
        )


def _crawl_failed(failure: Failure, run: ArchiveRun) -> None:
    """A crawl that could not run at all (a component failed to start) is a failed run."""
    logger.error("the crawl failed: %s", failure.getErrorMessage(), exc_info=failure.value)
    run.summary.fatal.append(
        f"the crawl failed: {failure.type.__name__}: {failure.getErrorMessage()}"
    )


def write_run_report(run: ArchiveRun) -> Path:
    """``<archive>/runs/<run-id>.json``: the summary, for monitoring and `status`."""
    return write_run_report_for(run.layout.root, run.summary)


def write_run_report_for(archive: Path, summary: RunSummary) -> Path:
    """Write the run report of *summary* into *archive*'s ``runs/`` folder."""
    path = ArchiveLayout(archive).runs / f"{summary.run_id}.json"
    report = json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n"
    write_atomically(path, report.encode("utf-8"))
    return path
