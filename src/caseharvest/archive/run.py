"""One run of a command over an archive: its lock, catalog, ledger and report.

`fetch`, `replay` and the spider started by plain ``scrapy crawl`` (Scrapyd) all begin a run
here and finish it here, so every run holds the lock, recovers what a killed run left, and
leaves a report and a catalog row, whoever started it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from caseharvest.archive.atomic_files import write_atomically
from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.ledger import CaseLedger
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.recovery import recover_open_files, register_recovered
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.upgrade import open_catalog
from caseharvest.model import utc_now
from caseharvest.sites import SiteProfile

_issued_run_ids: set[str] = set()


def new_run_id() -> str:
    """Sortable and unique in one archive: UTC time, the process id, and a number when one
    process starts two runs within a second (a catalog rebuilt before a fetch)."""
    base = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}Z-{os.getpid()}"
    run_id, number = base, 1
    while run_id in _issued_run_ids:
        number += 1
        run_id = f"{base}-{number}"
    _issued_run_ids.add(run_id)
    return run_id


@dataclass
class ArchiveRun:
    """One run of `fetch` (or `replay`) over one site into one archive."""

    profile: SiteProfile
    layout: ArchiveLayout
    catalog: Catalog
    ledger: CaseLedger
    run_id: str
    summary: RunSummary
    lock: ArchiveLock | None = None
    full: bool = False
    revalidate: bool = False
    progress: Callable[[RunSummary], None] | None = None
    # `fetch --from-warc`: answer every request from this capture index (archive/capture_index).
    from_warc: Any = None
    from_warc_at: str | None = None
    # Every run walks a column's whole listing when its last complete walk is older.
    full_walk_days: float = 7.0
    finished: bool = False

    def full_due(self, column: str) -> bool:
        """True when *column* was never read whole, or not for ``full_walk_days``."""
        if not self.catalog.case_keys(self.profile.name, column):
            return False  # a first run reads everything anyway
        last = self.catalog.last_full_walk(self.profile.name, column)
        if last is None:
            return True
        walked = datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return datetime.now(UTC) - walked > timedelta(days=self.full_walk_days)

    @classmethod
    def start(
        cls,
        profile: SiteProfile,
        archive: Path,
        *,
        command: str = "fetch",
        limit: int = 0,
        commit_as_it_goes: bool = True,
        recover: bool = True,
    ) -> ArchiveRun:
        """Take the archive's lock, open (or upgrade) its catalog, begin a run of *command*.

        Raises :class:`~caseharvest.archive.lock.ArchiveLockedError` when another run holds
        the archive.
        """
        archive.mkdir(parents=True, exist_ok=True)
        lock = ArchiveLock(archive)
        lock.acquire()
        try:
            layout = ArchiveLayout(archive)
            catalog = open_catalog(archive)
            run_id = new_run_id()
            summary = RunSummary(run_id=run_id, site=profile.name, started_at=utc_now())
            ledger = CaseLedger(
                catalog,
                summary,
                profile.name,
                run_id,
                limit=limit,
                commit_as_it_goes=commit_as_it_goes,
            )
            run = cls(profile, layout, catalog, ledger, run_id, summary, lock=lock)
            catalog.begin_run(run_id, profile.name, command, summary.started_at)
            if recover:
                run.recover_open_files()
        except BaseException:
            lock.release()
            raise
        return run

    def recover_open_files(self) -> None:
        """Finish WARC files an earlier, killed run left open, before writing new ones."""
        for recovered in recover_open_files(self.layout.warc_dir(self.profile.name)):
            name = recovered.path.name
            if recovered.removed:
                self.summary.warn(f"removed {name}.open: it held no whole record")
                continue
            added = register_recovered(self.catalog, recovered)
            cut = (
                f", cut {recovered.cut_bytes} bytes after its last whole record"
                if recovered.cut_bytes
                else ""
            )
            self.summary.warn(
                f"recovered {name} left open by an interrupted run: {len(recovered.records)} "
                f"whole records, {added} newly registered{cut}"
            )

    def finish(self) -> RunSummary:
        """Record the end of the run, write its report, close the catalog, free the lock."""
        if self.finished:
            return self.summary
        self.finished = True
        try:
            warc_dir = self.layout.warc_dir(self.profile.name)
            self.summary.warc_bytes = sum(
                (warc_dir / name).stat().st_size
                for name in self.summary.warc_files
                if (warc_dir / name).exists()
            )
            self.summary.ended_at = utc_now()
            try:
                self.catalog.end_run(
                    self.run_id,
                    self.summary.ended_at,
                    self.summary.exit_code,
                    self.summary.as_dict(),
                )
                write_run_report(self.layout.root, self.summary)
            except (OSError, sqlite3.Error) as exc:
                # The disk that stopped the crawl may not take the report either: the run
                # stays recorded as started and unfinished (`status` says "killed").
                self.summary.fatal.append(f"could not record the end of the run: {exc}")
        finally:
            self.catalog.close()
            if self.lock is not None:
                self.lock.release()
        return self.summary


def write_run_report(archive: Path, summary: RunSummary) -> Path:
    """``<archive>/runs/<run-id>.json``: the summary, for monitoring and `status`."""
    path = ArchiveLayout(archive).runs / f"{summary.run_id}.json"
    report = json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n"
    write_atomically(path, report.encode("utf-8"))
    return path
