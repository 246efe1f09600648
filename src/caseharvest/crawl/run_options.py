"""What one fetch is asked to do, from the CLI or from spider arguments, and its start.

`caseharvest fetch` and plain ``scrapy crawl column -a site=NAME -a archive=DIR`` (what Scrapyd
runs) start their run the same way here, so both take the lock, recover, and honour the same
options: ``site``, ``archive``, ``column``, ``full``, ``revalidate``, ``limit``, ``profiles``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from caseharvest.archive.run import ArchiveRun
from caseharvest.sites import SiteProfile, load_profile

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class FetchUsageError(ValueError):
    """The options of a fetch cannot work together; the message says what to change."""


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

        site = arguments.pop("site", None)
        archive = arguments.pop("archive", None) or settings.get("CASEHARVEST_ARCHIVE")
        if not site:
            raise FetchUsageError("spider argument site=NAME is missing (see `caseharvest sites`)")
        profiles = arguments.pop("profiles", None)
        try:
            profile = load_profile(str(site), Path(profiles) if profiles else None)
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
