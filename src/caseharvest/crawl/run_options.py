"""What one fetch is asked to do, from the CLI or from spider arguments, and its start.

`caseharvest fetch` and plain ``scrapy crawl column -a site=NAME -a archive=DIR`` (what Scrapyd
runs) start their run the same way here, so both take the lock, recover, and honour the same
options: ``site``, ``archive``, ``column``, ``full``, ``revalidate``, ``limit``, ``profiles``,
and ``column_url`` (with ``case_pattern``) for a column of a site that has no profile.
Under plain Scrapy, :func:`begin_run_from_arguments` also does what `fetch` does around the
run: the contact in the User-Agent, the refusal of the HTTP cache, the log (Scrapy's, which
Scrapyd's job log is, and ``logs/<run-id>.log``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings, Settings
from scrapy.utils.log import get_scrapy_root_handler, install_scrapy_root_handler

from caseharvest import __version__
from caseharvest.archive.catalog import CatalogError
from caseharvest.archive.lock import ArchiveLockedError
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.schema import SchemaError
from caseharvest.crawl.case_reader import ExtractWorkersError, extract_workers
from caseharvest.sites import SiteProfile, load_profile

logger = logging.getLogger(__name__)

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class FetchUsageError(ValueError):
    """The options of a fetch cannot work together; the message says what to change."""


class RunRefused(RuntimeError):
    """A run under plain Scrapy could not begin; why is logged already, in one line."""


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FetchUsageError(f"spider argument {name}={value!r}: give true or false")


@dataclass(frozen=True)
class RunOptions:
    """One fetch of one site into one archive."""

    profile: SiteProfile
    archive: Path
    limit: int = 0
    full: bool = False
    revalidate: bool = False

    @classmethod
    def from_spider_arguments(
        cls, arguments: MutableMapping[str, Any], settings: BaseSettings
    ) -> RunOptions:
        """Options from ``-a NAME=VALUE`` spider arguments (removed from *arguments*)."""
        from caseharvest.sites import ProfileError, UnknownSiteError
        from caseharvest.sites.profile import column_url_profile

        site = arguments.pop("site", None)
        archive = arguments.pop("archive", None) or settings.get("CASEHARVEST_ARCHIVE")
        column_url = arguments.pop("column_url", None)
        case_pattern = str(arguments.pop("case_pattern", "") or "")
        if not site and not column_url:
            raise FetchUsageError(
                "spider argument site=NAME (see `caseharvest sites`) or column_url=URL is missing"
            )
        profiles = arguments.pop("profiles", None)
        try:
            named = load_profile(str(site), Path(profiles) if profiles else None) if site else None
            if column_url:
                # A column of any site: its family is recognised from the page at crawl time.
                profile = column_url_profile(str(column_url), case_pattern=case_pattern, site=named)
            else:
                assert named is not None
                profile = named
            column = arguments.pop("column", None)
            if column:
                profile = profile.with_columns((profile.column_by_id(str(column)),))
        except (UnknownSiteError, ProfileError) as exc:
            raise FetchUsageError(str(exc)) from exc
        try:
            limit = int(arguments.pop("limit", settings.getint("CASEHARVEST_LIMIT")) or 0)
        except ValueError as exc:
            raise FetchUsageError(f"spider argument limit: {exc}") from exc
        return cls(
            profile=profile,
            archive=Path(str(archive)),
            limit=limit,
            full=_flag("full", arguments.pop("full", False)),
            revalidate=_flag("revalidate", arguments.pop("revalidate", False)),
        )


def start_run(options: RunOptions, settings: BaseSettings) -> ArchiveRun:
    """Begin the run: lock, catalog (upgraded if old), recovery; flags from options and settings.

    Raises :class:`~caseharvest.archive.lock.ArchiveLockedError` when the archive is busy.
    """
    run = ArchiveRun.start(options.profile, options.archive, limit=options.limit)
    run.full = options.full or settings.getbool("CASEHARVEST_FULL")
    run.revalidate = options.revalidate or settings.getbool("CASEHARVEST_REVALIDATE")
    run.full_walk_days = settings.getfloat("CASEHARVEST_FULL_WALK_DAYS")
    return run


def begin_run_from_arguments(arguments: MutableMapping[str, Any], settings: Settings) -> ArchiveRun:
    """Under plain ``scrapy crawl`` (Scrapyd): the run begun as `caseharvest fetch` begins it.

    *settings* must not be frozen yet (the spider's ``from_crawler`` is early enough). A run
    that cannot begin (a wrong argument or setting, an archive another run holds, a catalog
    that cannot be opened) is logged in one line and raised as :class:`RunRefused`.
    """
    _log_as_scrapy_does(settings)
    try:
        options = RunOptions.from_spider_arguments(arguments, settings)
        unknown = sorted(name for name in arguments if not name.startswith("_"))
        if unknown:
            # Scrapy would set them as spider attributes and nothing would read them: a typo
            # such as `ful=true` must not turn into a quiet incremental run.
            raise FetchUsageError(
                f"unknown spider argument(s) {', '.join(unknown)}; the column spider takes "
                "site or column_url (with case_pattern), archive, column, full, revalidate, "
                "limit, profiles"
            )
        prepare_settings(settings)
        run = start_run(options, settings)
    except (FetchUsageError, ArchiveLockedError, CatalogError, SchemaError) as exc:
        _refuse_quietly(exc)
        raise RunRefused(str(exc)) from None
    keep_suffix_list_offline()
    return run


def prepare_settings(settings: BaseSettings) -> None:
    """The contact in the User-Agent (from ``$CASEHARVEST_CONTACT`` too); no HTTP cache.

    For `fetch` (``crawl.runner.build_settings``) and for Scrapy's own settings alike: a
    value set on the command line (``-s``, Scrapyd's ``setting=``) is kept.
    """
    contact = os.environ.get("CASEHARVEST_CONTACT")
    if contact:
        settings.set("CASEHARVEST_CONTACT", contact, priority="project")
    # The settings module's User-Agent names the default contact; a user's own stays.
    settings.set(
        "USER_AGENT",
        f"caseharvest/{__version__} (+{settings.get('CASEHARVEST_CONTACT')})",
        priority="project",
    )
    try:
        extract_workers(settings)
    except ExtractWorkersError as exc:
        raise FetchUsageError(str(exc)) from None
    if settings.getbool("HTTPCACHE_ENABLED"):
        raise FetchUsageError(
            "HTTPCACHE_ENABLED is on: cache hits never reach the site, so they cannot be "
            "archived as captures. Drop the HTTPCACHE_ENABLED setting and run again."
        )


class _RunLogHandler(logging.FileHandler):
    """The run's log file; when the disk refuses it, it falls silent instead of printing
    logging's own traceback on the terminal (the run's storage check names the cause)."""

    def handleError(self, record: logging.LogRecord) -> None:
        self.setLevel(logging.CRITICAL + 1)

    def flush(self) -> None:
        try:
            super().flush()
        except OSError:
            self.setLevel(logging.CRITICAL + 1)

    def close(self) -> None:
        try:
            super().close()
        except OSError:
            # What was buffered cannot reach the disk: dropped, as the storage error says.
            self.stream = None  # a closed handler, as close() leaves it


def attach_run_log(run: ArchiveRun) -> logging.Handler:
    """``<archive>/logs/<run-id>.log`` at INFO, as `fetch` writes it; detach it when done."""
    path = run.layout.logs / f"{run.run_id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _RunLogHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def detach_run_log(handler: logging.Handler) -> None:
    """Stop writing the run's log file."""
    logging.getLogger().removeHandler(handler)
    handler.close()


def _log_as_scrapy_does(settings: Settings) -> None:
    # Under plain Scrapy, Scrapy's root handler is the job's log (Scrapyd's LOG_FILE); make
    # sure it is there before the run logs its first line. Scrapy updates it once the crawl's
    # settings are final.
    if get_scrapy_root_handler() is None:
        install_scrapy_root_handler(settings)


class _AlreadyLogged(logging.Filter):
    """Drops asyncio's report of a refusal that was logged in one line already."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, RunRefused)


def _refuse_quietly(exc: Exception) -> None:
    logger.error("caseharvest: %s; this job archived nothing", exc)
    # Scrapy re-raises what from_crawler raised and leaves it to asyncio, which logs the whole
    # traceback of the never-retrieved task: a wall of text around a one-line reason.
    asyncio_logger = logging.getLogger("asyncio")
    if not any(isinstance(f, _AlreadyLogged) for f in asyncio_logger.filters):
        asyncio_logger.addFilter(_AlreadyLogged())


def keep_suffix_list_offline() -> None:
    """Keep Scrapy's cookie middleware from downloading the public suffix list.

    tldextract fetches it from GitHub on first use: a request to a host nobody asked to crawl,
    made from machines that may have no route out. The snapshot tldextract ships is enough to
    tell public suffixes apart for cookie domains.
    """
    from scrapy.downloadermiddlewares import cookies
    from tldextract import TLDExtract

    cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True)
