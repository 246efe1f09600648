"""The state one crawl shares between its spider, WARC capture and case pipeline."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.run_summary import RunSummary
from caseharvest.sites import SiteProfile


def utc_now() -> str:
    """Current time as UTC ISO 8601 with a ``Z``, seconds precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """Sortable, unique enough for one archive: UTC time plus the process id."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}Z-{os.getpid()}"


@dataclass
class ArchiveRun:
    """One run of `fetch` over one site into one archive."""

    profile: SiteProfile
    layout: ArchiveLayout
    catalog: Catalog
    run_id: str = field(default_factory=new_run_id)
    summary: RunSummary = field(default_factory=RunSummary)
    limit: int = 0
    progress: Callable[[RunSummary], None] | None = None
    # `fetch` commits each case as it is archived; `replay`, rebuilding from files that stay,
    # commits in batches.
    commit_each_case: bool = True

    def __deepcopy__(self, memo: dict[int, object]) -> ArchiveRun:
        # Scrapy deep-copies settings; a run is a shared handle (it owns a database connection).
        return self

    def __post_init__(self) -> None:
        self.summary.run_id = self.run_id
        self.summary.site = self.profile.name

    @classmethod
    def open(
        cls, profile: SiteProfile, archive: Path, *, limit: int = 0, command: str = "fetch"
    ) -> ArchiveRun:
        """Open the archive's catalog and start a run of *command* in it."""
        layout = ArchiveLayout(archive)
        run = cls(profile=profile, layout=layout, catalog=Catalog(layout.catalog), limit=limit)
        run.summary.started_at = utc_now()
        run.catalog.begin_run(run.run_id, profile.name, command, run.summary.started_at)
        return run

    def finish(self) -> RunSummary:
        """Record the end of the run in the catalog; returns the summary."""
        self.summary.ended_at = utc_now()
        self.catalog.end_run(
            self.run_id, self.summary.ended_at, self.summary.exit_code, self.summary.as_dict()
        )
        return self.summary
