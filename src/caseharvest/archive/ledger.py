"""The ledger: the one place that decides what happens to a case, and keeps the run's counters.

`fetch` (spider and pipeline) and `replay` report what they saw — a listing record, an
answer, an extraction — and the ledger decides: new, revised, unchanged, known, dead,
withdrawn, listed again, or failed with a reason. It writes the catalog rows and counts in
the run summary. It also keeps the run's promise: every case the listing named ends with an
outcome; one still open when the run closes is failed with the reason that it got no answer.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass

from caseharvest.archive.case_files import content_digest
from caseharvest.archive.case_store import CaseFetched, NewVersion, case_metadata
from caseharvest.archive.catalog import Catalog
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.search_index import catch_up, index_case
from caseharvest.extract import ExtractedPage
from caseharvest.model import CaseKey, CaseOutcome, CaseStatus, ListingRecord, utc_now

logger = logging.getLogger(__name__)

# `fetch` commits the catalog at most this often. A fast crawl settles hundreds of cases a
# second, and a commit for each rewrote the same index pages into the WAL hundreds of times
# a second. Files come first, rows second, so a run killed between two commits loses only
# catalog rows: the next run registers their captures from the WARC file
# (archive/recovery.py) and fetches those cases again. Every stop and the run's end commit.
COMMIT_SECONDS = 0.5


@dataclass
class _Open:
    """A listed case that has no outcome yet."""

    url: str
    record: ListingRecord


class CaseLedger:
    """Case state and run counters for one run over one site."""

    def __init__(
        self,
        catalog: Catalog,
        summary: RunSummary,
        site: str,
        run_id: str,
        *,
        limit: int = 0,
        commit_as_it_goes: bool = True,
    ) -> None:
        self.catalog = catalog
        self.summary = summary
        self.site = site
        self.run_id = run_id
        self.limit = limit
        # `fetch` commits as it goes (see COMMIT_SECONDS); `replay`, rebuilding from files
        # that stay, commits in batches of its own.
        self.commit_as_it_goes = commit_as_it_goes
        self._committed_at = time.monotonic()
        self.known = catalog.case_keys(site, statuses=(CaseStatus.ARCHIVED, CaseStatus.DEAD))
        self.withdrawn = catalog.withdrawn_keys(site)
        self.listed_keys: set[CaseKey] = set()
        self.open: dict[CaseKey, _Open] = {}
        self.new_scheduled = 0

    # -- the listing ----------------------------------------------------------------------------

    def is_known(self, key: CaseKey) -> bool:
        """True when the archive holds the case (archived or recorded dead)."""
        return key in self.known

    def limit_reached(self) -> bool:
        """True once `--limit` new cases are scheduled."""
        return bool(self.limit) and self.new_scheduled >= self.limit

    def listed(self, key: CaseKey, url: str, record: ListingRecord) -> bool:
        """A listing named this case; True when it must be fetched now.

        Counts it once per run, brings a withdrawn case back, and leaves known cases and
        cases over the `--limit` for later.
        """
        if key in self.listed_keys:
            return False
        self.listed_keys.add(key)
        self.summary.listed += 1
        if key in self.withdrawn and self.catalog.set_withdrawn(key, None):
            self.withdrawn.discard(key)
            self.summary.warn(f"{url} is listed again after being withdrawn")
            self._commit()
        if key in self.known:
            self.summary.known += 1
            return False
        if self.limit_reached():
            self.summary.skipped_by_limit += 1
            return False
        self.new_scheduled += 1
        self.open[key] = _Open(url, record)
        return True

    def revalidating(self, key: CaseKey, url: str, record: ListingRecord) -> None:
        """A known case is asked again (`--revalidate`): it needs an outcome too."""
        self.summary.revalidated += 1
        self.open.setdefault(key, _Open(url, record))

    def seen_in_archive(self) -> None:
        """`replay` met a capture of a case (it has no listing: captures stand for it)."""
        self.summary.listed += 1

    def off_site(self, url: str) -> None:
        """A listing named a case on a host the profile does not allow."""
        self.summary.warn(f"listed case on a host the profile does not allow: {url}")

    # -- answers --------------------------------------------------------------------------------

    def dead(
        self, key: CaseKey, url: str, status: int, at: str, record: ListingRecord | None
    ) -> None:
        """The case answered 404/410: withdrawn when archived before, a dead link otherwise."""
        self.open.pop(key, None)
        if self.catalog.latest_version(key) is not None:
            self.withdraw(key, url, f"answers HTTP {status}", at=at)
            return
        self.summary.dead[url] = f"HTTP {status}"
        self._note(key, url, CaseStatus.DEAD, f"HTTP {status}", at, record)
        self.known.add(key)

    def failed(self, key: CaseKey, url: str, reason: str, record: ListingRecord | None) -> None:
        """No usable answer: the case fails with *reason* (a known case keeps its archive)."""
        self.open.pop(key, None)
        self.summary.fail(url, reason)
        self._note(key, url, CaseStatus.FAILED, reason, utc_now(), record)

    def withdraw(self, key: CaseKey, url: str, why: str, at: str | None = None) -> None:
        """A known case the site no longer has: keep everything archived, note when it went."""
        if self.catalog.set_withdrawn(key, at or utc_now()):
            self.withdrawn.add(key)
            self.summary.withdrawn.append(url)
            self.summary.warn(f"{url} withdrawn from the site ({why}); its archive stays")
        self.catalog.commit()

    def withdraw_unlisted(self, column: str) -> None:
        """After a complete walk of *column*: its archived cases no longer listed are withdrawn."""
        archived = self.catalog.case_keys(self.site, column, (CaseStatus.ARCHIVED,))
        for key in sorted(archived - self.listed_keys - self.withdrawn):
            case = self.catalog.case(key)
            self.withdraw(key, case.url if case else str(key), "no longer in the column's listing")

    # -- versions -------------------------------------------------------------------------------

    def needs_extraction(self, case: CaseFetched) -> bool:
        """False when the page is byte-identical to an archived version (nothing can change)."""
        return not (case.same_as_archived and self.catalog.latest_version(case.key))

    def decide(self, case: CaseFetched, page: ExtractedPage | str | None) -> NewVersion | None:
        """Record a case that needs no files (failed, unchanged), or say which files to write.

        *page* is None when extraction was skipped because the case is unchanged. When this
        returns a :class:`NewVersion`, write its files, then call :meth:`record_version`:
        files first, catalog second, so a crash in between leaves files the next run
        rewrites, never a catalog version without its files.
        """
        latest = self.catalog.latest_version(case.key)
        if page is None:
            if latest is None:
                raise ValueError(f"{case.url}: no archived version to call unchanged")
            self._resolved(case, CaseOutcome.UNCHANGED)
            return None
        if isinstance(page, str):
            self.failed(case.key, case.url, page, case.listing)
            return None
        for warning in page.warnings:
            self.summary.warn(f"{case.url}: {warning}")
        if page.confidence != "high":
            self.summary.warn(
                f"{case.url}: body found by {page.method} (low confidence): the page template "
                "may have changed; check the profile's body rules"
            )
        version = latest.version + 1 if latest else 1
        metadata = case_metadata(case, page, version)
        digest = content_digest(page.text, metadata)
        if latest is not None and latest.content_sha256 == digest:
            # A new capture of the same content is not a new version.
            self._resolved(case, CaseOutcome.UNCHANGED)
            return None
        return NewVersion(case, metadata, page.text, latest.metadata if latest else None, digest)

    def record_version(self, plan: NewVersion) -> None:
        """After its files are written: the new version and the archived case, in the catalog."""
        case = plan.case
        self.catalog.add_version(
            case.key,
            int(plan.metadata["version"]),
            capture_id=case.capture.capture_id,
            content_sha256=plan.digest,
            text_sha256=plan.metadata["text_sha256"],
            metadata=plan.metadata,
        )
        # In the version's transaction, so search never misses a recorded version. The
        # tokenizing waits: one catch-up for a whole crawl (index_pending) costs a fraction of
        # one per case; replay leaves it to the next search (see archive/search_index.py).
        index_case(self.catalog, case.key, plan.metadata, plan.text, defer=True)
        self._resolved(case, CaseOutcome.NEW if plan.previous is None else CaseOutcome.REVISED)

    def older_version_inserted(self, case: CaseFetched, number: int, of: int) -> None:
        """`replay --into`: an older capture brought text the case did not have at the time;
        it became version *number* of *of* (the history's files and rows were rewritten)."""
        self.summary.revised += 1
        self.summary.warn(
            f"{case.url}: a capture of {case.fetched_at} became version {number} of {of}"
        )

    def _resolved(self, case: CaseFetched, outcome: CaseOutcome) -> None:
        self.open.pop(case.key, None)
        if outcome is CaseOutcome.NEW:
            self.summary.new += 1
        elif outcome is CaseOutcome.REVISED:
            self.summary.revised += 1
        else:
            self.summary.unchanged += 1
        self.known.add(case.key)
        self._note(case.key, case.url, CaseStatus.ARCHIVED, None, case.fetched_at, case.listing)

    # -- the end --------------------------------------------------------------------------------

    def index_pending(self) -> None:
        """Tokenize the versions this run recorded into the search index, in one batch."""
        catch_up(self.catalog)
        self.catalog.commit()

    def close_open(self, why: str) -> None:
        """Fail every listed case still without an outcome (nothing listed goes unaccounted).

        When the catalog can no longer be written (the disk that stopped the run), the run
        report and the terminal still name every such case.
        """
        entries = sorted(self.open.items())
        self.open.clear()
        try:
            for key, entry in entries:
                self.failed(key, entry.url, why, entry.record)
            self.catalog.commit()
        except (sqlite3.Error, OSError) as exc:
            for _key, entry in entries:
                self.summary.fail(entry.url, why)
            cause = f"could not record the cases left open in the catalog: {exc}"
            if cause not in self.summary.fatal:
                self.summary.fatal.append(cause)

    def _note(
        self,
        key: CaseKey,
        url: str,
        status: CaseStatus,
        reason: str | None,
        at: str,
        record: ListingRecord | None,
    ) -> None:
        self.catalog.note_case(
            key,
            url=url,
            status=status,
            reason=reason,
            run_id=self.run_id,
            at=at,
            listing_title=(record.title or None) if record else None,
            listing_date=record.date if record else None,
        )
        self._commit()

    def commit_due(self) -> None:
        """Commit rows held back longer than ``COMMIT_SECONDS`` (a crawl's timer, meanwhile)."""
        self._commit()

    def _commit(self) -> None:
        if not self.commit_as_it_goes:
            return
        now = time.monotonic()
        if now - self._committed_at >= COMMIT_SECONDS:
            self.catalog.commit()
            self._committed_at = now
