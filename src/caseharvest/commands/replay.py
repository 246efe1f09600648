"""`caseharvest replay`: rebuild text, metadata, versions and catalog from any web archive files.

Sources are WARC, ARC and WACZ files (or folders of them) whoever wrote them: caseharvest,
wget, Heritrix, warcio, warcprox, pywb, Browsertrix, scrapy-webarchive. Cases are recognised by
the site profiles' listing sources (``case_key_of``), not by file names; one replay may hold
several sites, each getting a run of its own in the catalog.

The main process walks every capture of the files once without decoding bodies
(``capture.archive_walk``), registers each capture of a known site in the catalog, and hands
the case pages, in batches, to worker processes that read them again by their location,
decode and extract them; results come back in order and are stored one by one, so the output
is the same for any number of workers, all cores work, and memory stays flat.

Into an existing archive (``into=True``, or an archive only earlier failed replays wrote) the
captures are added: a capture already registered adds nothing, one older than a case's latest
version is put among its versions in time order (see ``commands/import_archive.py``), and
nothing already archived is lost.

Damage in a source file (truncated, corrupt) does not stop the replay: every whole record
before it is replayed, the archive keeps the file cut before the damage, and the run fails
with one line naming the file and byte offset.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from caseharvest.archive.case_store import CaseFetched, NewVersion, extract_case
from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import WARC_DIR, ArchiveLayout
from caseharvest.archive.ledger import CaseLedger
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.run import ArchiveRun, new_run_id, write_run_report
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.source_files import (
    ArchivePlacement,
    SourceError,
    archive_record_id,
    find_warc_files,
    refuse_archive_holding,
)
from caseharvest.archive.upgrade import open_catalog
from caseharvest.archive.warc_index import ensure_indexes
from caseharvest.capture.archive_walk import OriginalLookup, iter_captures
from caseharvest.capture.http_capture import Capture as ArchivedCapture
from caseharvest.capture.http_capture import read_capture
from caseharvest.capture.record_framing import Damage, RecordLocation
from caseharvest.commands.import_archive import ArchiveOriginals, VersionHistory
from caseharvest.extract import ExtractedPage, ExtractionRules
from caseharvest.model import DEAD_STATUSES, Capture, CaseKey, ListingRecord, WarcRecordRef, utc_now
from caseharvest.processes import end_with_process
from caseharvest.sites import SiteProfile, all_profiles
from caseharvest.sites.case_urls import case_key_of
from caseharvest.sites.profile import host_of_site_name, host_profile

logger = logging.getLogger(__name__)

BATCH_RECORDS = 32  # case pages per job: fewer round trips to the workers
WRITES_AHEAD = 32  # cases whose files may be in the making at once
COMMIT_EVERY = 256  # cases per catalog transaction
REPLAY_COMMAND = "replay"
IMPORT_COMMAND = "import"


class ReplayError(SourceError):
    """The sources or the target archive cannot be used; the message says why."""


@dataclass
class ReplayResult:
    """What one replay did: a run summary per site, and what belonged to none."""

    summaries: list[RunSummary] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    other_hosts: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        codes = [summary.exit_code for summary in self.summaries]
        return max(codes, default=1 if self.damaged else 0)


@dataclass(frozen=True)
class CaseJob:
    """A capture of a case page, registered, waiting for its extraction and the ledger."""

    site: str
    key: CaseKey
    url: str
    status: int
    record: WarcRecordRef
    capture_id: int
    content_type: str | None
    read_from: RecordLocation | None  # where the body is (a revisit's original); None: no need
    missing_original: str | None = None


# --- worker side -------------------------------------------------------------------------------


def extract_at(
    location: RecordLocation, url: str, rules: ExtractionRules
) -> tuple[ExtractedPage | str, tuple[str, ...]]:
    """Read the capture at *location* again, decode its body and extract the case page.

    Runs in a worker process: reading, decoding and extraction are most of replay's work.
    Returns the page (or why it failed) and the decoding warnings.
    """
    try:
        capture = read_capture(location)
    except (OSError, ValueError) as exc:
        return f"cannot read the archived page again: {exc}", ()
    content_type = capture.header("content-type")
    page = extract_case(capture.body or b"", url, content_type, rules)
    return page, tuple(capture.warnings)


def extract_batch(
    jobs: list[tuple[RecordLocation, str, ExtractionRules]],
) -> list[tuple[ExtractedPage | str, tuple[str, ...]]]:
    """:func:`extract_at` for a batch of jobs (one round trip to a worker)."""
    return [extract_at(location, url, rules) for location, url, rules in jobs]


Extraction = tuple[ExtractedPage | str | None, tuple[str, ...]]


class _Batches:
    """Jobs in, (job, extraction) out in submission order, a bounded number of batches ahead."""

    def __init__(self, executor: Executor | None, ahead: int) -> None:
        self.executor = executor
        self.ahead = ahead
        self.batch: list[tuple[CaseJob, ExtractionRules]] = []
        self.pending: deque[
            tuple[list[CaseJob], Future[list[tuple[ExtractedPage | str, tuple[str, ...]]]] | None]
        ] = deque()

    def add(self, job: CaseJob, rules: ExtractionRules) -> Iterator[tuple[CaseJob, Extraction]]:
        self.batch.append((job, rules))
        if len(self.batch) >= BATCH_RECORDS:
            yield from self._submit()

    def _submit(self) -> Iterator[tuple[CaseJob, Extraction]]:
        batch, self.batch = self.batch, []
        if not batch:
            return
        work = [
            (job.read_from, job.url, rules) for job, rules in batch if job.read_from is not None
        ]
        jobs = [job for job, _ in batch]
        if self.executor is None:
            yield from _pair(jobs, extract_batch(work))
            return
        future = self.executor.submit(extract_batch, work) if work else None
        self.pending.append((jobs, future))
        while len(self.pending) > self.ahead:
            yield from self._collect()

    def _collect(self) -> Iterator[tuple[CaseJob, Extraction]]:
        jobs, future = self.pending.popleft()
        yield from _pair(jobs, future.result() if future is not None else [])

    def drain(self) -> Iterator[tuple[CaseJob, Extraction]]:
        yield from self._submit()
        while self.pending:
            yield from self._collect()


def _pair(
    jobs: list[CaseJob], results: list[tuple[ExtractedPage | str, tuple[str, ...]]]
) -> Iterator[tuple[CaseJob, Extraction]]:
    found = iter(results)
    for job in jobs:
        yield job, (next(found) if job.read_from is not None else (None, ()))


# --- the command -------------------------------------------------------------------------------


def replay(
    sources: list[Path],
    archive: Path,
    *,
    workers: int | None = None,
    into: bool = False,
    profiles: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Rebuild (or, *into* an existing archive, add to) text, metadata and catalog of *archive*
    from the archive files of *sources*.

    The files are linked (or copied) into ``archive/warc/<site>/`` and indexed, so the archive
    is whole. *progress* is called with the number of source bytes read so far. Raises
    ReplayError (a usage problem, before anything is written) and ArchiveLockedError.
    """
    files = find_warc_files(sources)
    refuse_archive_holding(files, archive)
    known_profiles = all_profiles(profiles)
    known_profiles += host_only_profiles(files, archive, {p.name for p in known_profiles})
    layout = ArchiveLayout(archive)
    created = not archive.exists()
    if layout.catalog.exists() and not into:
        _refuse_finished_archive(archive)
    archive.mkdir(parents=True, exist_ok=True)
    lock = ArchiveLock(archive)
    lock.acquire()
    session: _Session | None = None
    try:
        catalog = open_catalog(archive)
        command = IMPORT_COMMAND if into else REPLAY_COMMAND
        session = _Session(archive, catalog, known_profiles, command)
        workers = workers or os.cpu_count() or 1
        # Forked (replay runs no reactor); a killed replay takes its workers with it.
        executor = (
            ProcessPoolExecutor(workers, initializer=end_with_process, initargs=(os.getpid(),))
            if workers > 1
            else None
        )
        try:
            session.run(files, _Batches(executor, 2 * workers), progress)
        finally:
            if executor is not None:
                executor.shutdown()
    finally:
        result = session.finish() if session is not None else ReplayResult()
        lock.release()
    if created and not result.summaries:
        # Nothing of a known site was found: leave nothing behind either.
        shutil.rmtree(archive, ignore_errors=True)
    return result


def host_only_profiles(files: list[Path], archive: Path, known: set[str]) -> list[SiteProfile]:
    """Profiles of sites crawled with `fetch --column-url` alone, known only by their host.

    Their WARC files sit in ``warc/<site>/`` of the archive they come from (and the target
    archive's runs name them): the site name gives the host, and the host-only profile
    recognises case pages by the URL shapes of every CMS family, as the crawl did.
    """
    names = {path.parent.name for path in files if path.parent.parent.name == WARC_DIR}
    if ArchiveLayout(archive).catalog.exists():
        catalog = open_catalog(archive, read_only=True)
        try:
            names |= {run.site for run in catalog.runs(1 << 30)}
        finally:
            catalog.close()
    found = []
    for name in sorted(names - known):
        if host_of_site_name(name) is not None:
            found.append(host_profile(name))
    return found


def _refuse_finished_archive(archive: Path) -> None:
    """An archive made only by failed replays may be replayed into again (the rerun goes on
    where the failed one stopped); any other needs ``--into``."""
    catalog = open_catalog(archive, read_only=True)
    try:
        runs = catalog.runs(1 << 30)
    finally:
        catalog.close()
    if all(run.command == REPLAY_COMMAND and run.exit_code != 0 for run in runs):
        return
    raise ReplayError(
        f"{archive} already holds an archive: replay builds a new one; pass an empty or new "
        "--archive folder, or --into to add these captures to it"
    )


class _Session:
    """One replay over one archive: the site runs, the placed files, the order of things."""

    def __init__(
        self, archive: Path, catalog: Catalog, profiles: list[SiteProfile], command: str
    ) -> None:
        self.layout = ArchiveLayout(archive)
        self.catalog = catalog
        self.profiles = profiles
        self.command = command
        self.placement = ArchivePlacement(archive)
        self.runs: dict[str, ArchiveRun] = {}
        self.result = ReplayResult()
        self.host_sites: dict[str, SiteProfile | None] = {}
        # Cases already given a response to extract in this replay: their revisits need none.
        self.extracting: set[CaseKey] = set()
        self.history = VersionHistory(catalog, self.layout)
        self.writer = _Writer(self.layout)
        self.stored = 0
        self.errors: dict[CaseKey, tuple[str, str, str]] = {}  # key: (site, url, reason)
        self.damages: list[tuple[str, str | None]] = []  # (message, archive file kept)
        self.had_versions = bool(catalog.totals().versions)
        self.version_at: dict[CaseKey, str] = {}  # fetched_at of versions made by this replay

    # -- runs -------------------------------------------------------------------------------------

    def site_of(self, url: str) -> SiteProfile | None:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self.host_sites:
            self.host_sites[host] = next((p for p in self.profiles if p.allows(url)), None)
        return self.host_sites[host]

    def run_for(self, profile: SiteProfile) -> ArchiveRun:
        run = self.runs.get(profile.name)
        if run is None:
            run_id = self._unique_run_id(profile.name)
            summary = RunSummary(run_id=run_id, site=profile.name, started_at=utc_now())
            ledger = CaseLedger(
                self.catalog, summary, profile.name, run_id, commit_as_it_goes=False
            )
            run = ArchiveRun(profile, self.layout, self.catalog, ledger, run_id, summary)
            self.catalog.begin_run(run_id, profile.name, self.command, summary.started_at)
            self.runs[profile.name] = run
        return run

    def _unique_run_id(self, site: str) -> str:
        """A new run id; with the site (and a number) when one replay starts several in the
        same second, or an earlier run of this process took it."""
        base = new_run_id()
        taken = {run.id for run in self.catalog.runs(64)} | {
            run.run_id for run in self.runs.values()
        }
        candidate = base if not self.runs else f"{base}-{site}"
        number = 2
        while candidate in taken:
            candidate = f"{base}-{site}-{number}"
            number += 1
        return candidate

    # -- the walk ---------------------------------------------------------------------------------

    def run(
        self, files: list[Path], batches: _Batches, progress: Callable[[int], None] | None
    ) -> None:
        originals: OriginalLookup | None = None
        if self.catalog.capture_count():
            originals = ArchiveOriginals(self.catalog, self.layout).lookup
        sizes = {str(path): path.stat().st_size for path in files}
        done: set[str] = set()
        for item in iter_captures(files, bodies=False, find_original=originals):
            if isinstance(item, Damage):
                self.damaged(item)
                continue
            if progress is not None and item.location.path not in done:
                done.add(item.location.path)
                progress(sum(sizes.get(path, 0) for path in done) - sizes[item.location.path])
            job = self.register(item)
            if job is not None:
                profile = self.runs[job.site].profile
                for finished in batches.add(job, profile.extraction):
                    self.store(*finished)
        for finished in batches.drain():
            self.store(*finished)
        if progress is not None:
            progress(sum(sizes.values()))
        self.writer.record_all(self)
        self.fail_unreached()
        self.catalog.commit()

    def damaged(self, damage: Damage) -> None:
        """Keep the whole records of a damaged file; the run fails naming file and offset."""
        logger.error("%s", damage.message)
        kept = self.placement.keep_whole_records(damage)
        self.damages.append((damage.message, kept))

    def _report_damage(self) -> None:
        """Each damage fails the run of the site whose folder holds the file (else the first)."""
        for message, kept in self.damages:
            self.result.damaged.append(message)
            runs = [
                run
                for run in self.runs.values()
                if kept in self.placement.by_site.get(run.profile.name, [])
            ] or list(self.runs.values())[:1]
            for run in runs[:1]:
                run.summary.fatal.append(message)

    def register(self, item: ArchivedCapture) -> CaseJob | None:
        """Put *item* in the catalog (its file in the archive); a job when it is a case page."""
        profile = self.site_of(item.target_uri)
        if profile is None:
            host = urlsplit(item.target_uri).hostname or item.target_uri
            self.result.other_hosts[host] = self.result.other_hosts.get(host, 0) + 1
            return None
        run = self.run_for(profile)
        name = self.placement.place(item.location, profile.name)
        record_id = archive_record_id(item.record_id, name, item.location)
        status = item.status or 0
        run.summary.count_capture(item.record_type, 0, False)
        record = WarcRecordRef(
            warc_file=name,
            offset=item.location.offset,
            length=item.location.length,
            record_id=record_id,
            record_type=item.record_type,
            warc_date=item.warc_date,
            payload_digest=item.payload_digest or "",
            request_record_id="",
        )
        key = case_key_of(item.target_uri, profile) if item.method == "GET" else None
        capture_id = self.catalog.capture_id(record_id)
        if capture_id is None:
            headers = {name.lower(): value for name, value in item.headers}
            capture_id = self.catalog.add_capture(
                run_id=run.run_id,
                url=item.target_uri,
                method=item.method,
                status=status,
                record=record,
                headers=headers,
            )
        elif key is None or self.history.has_capture_in_versions(key, capture_id, item.warc_date):
            return None  # the same capture is archived already: it adds nothing
        if key is None:
            return None
        if item.missing_original:
            run.summary.warn(item.missing_original)
        read_from = None
        if status == 200 and item.record_type == "response":
            read_from = item.location
            self.extracting.add(key)
        elif status == 200 and item.original is not None and not self._has_version(key):
            read_from = item.original  # a revisit of a page never extracted: its original
            self.extracting.add(key)
        return CaseJob(
            site=profile.name,
            key=key,
            url=item.target_uri,
            status=status,
            record=record,
            capture_id=capture_id,
            content_type=item.header("content-type"),
            read_from=read_from,
            missing_original=item.missing_original,
        )

    def _has_version(self, key: CaseKey) -> bool:
        return key in self.extracting or self.catalog.latest_version(key) is not None

    # -- storing ----------------------------------------------------------------------------------

    def store(self, job: CaseJob, extraction: Extraction) -> None:
        """Decide what *job*'s capture does to its case, as `fetch` does, in time order."""
        run = self.runs[job.site]
        ledger = run.ledger
        page, warnings = extraction
        for warning in warnings:
            run.summary.warn(f"{job.url}: {warning}")
        case = CaseFetched(
            key=job.key,
            url=job.url,
            listing=ListingRecord(job.url, "", None),
            body=b"",  # extracted in a worker already
            content_type=job.content_type,
            capture=Capture(job.capture_id, job.record),
            not_modified=job.status == 304,
        )
        self.writer.record_done(self, key=job.key)
        if job.status in DEAD_STATUSES:
            ledger.dead(job.key, job.url, job.status, case.fetched_at, None)
            return
        if job.status not in (200, 304):
            self.errors[job.key] = (job.site, job.url, f"HTTP {job.status}")
            return
        self.errors.pop(job.key, None)
        ledger.seen_in_archive()
        if self._is_older(job.key, job.record.warc_date):
            # An older capture than the case's latest version: its place is in the history.
            self.history.insert(run, case, page)
            self._count()
            return
        if page is None and ledger.needs_extraction(case):
            reason = job.missing_original or "revisit of a capture that has no extracted version"
            ledger.failed(job.key, job.url, reason, None)
            return
        plan = ledger.decide(case, page)
        if plan is not None:
            self.writer.write(run, plan)
            self.version_at[job.key] = case.fetched_at
        self._count()

    def _is_older(self, key: CaseKey, warc_date: str) -> bool:
        """True when *key*'s latest version was captured after *warc_date*.

        An archive that held no version when the replay began has only the versions made
        since, which are known here: no catalog query per case.
        """
        if self.had_versions:
            return self.history.is_older(key, warc_date)
        latest = self.version_at.get(key)
        return latest is not None and warc_date[:19] + "Z" < latest

    def _count(self) -> None:
        self.stored += 1
        if self.stored % COMMIT_EVERY == 0:
            self.writer.record_all(self)
            self.catalog.commit()

    def fail_unreached(self) -> None:
        """Cases whose every capture was an error (5xx …): failed, as `fetch` recorded them."""
        for key, (site, url, reason) in self.errors.items():
            self.runs[site].ledger.failed(key, url, reason, None)

    # -- the end ----------------------------------------------------------------------------------

    def finish(self) -> ReplayResult:
        """Index the placed files, end every site's run with its report, close the catalog."""
        try:
            self.writer.record_all(self)  # versions whose files are written (a run cut short)
        except Exception:
            logger.exception("writing a case's files failed")
        self.writer.shutdown()
        self._report_damage()
        try:
            for site in sorted(self.placement.by_site):
                ensure_indexes(self.layout.root, site)
        except Exception as exc:  # an index is derived data: the runs still end properly
            logger.exception("indexing failed")
            for run in self.runs.values():
                run.summary.fatal.append(f"indexing the archive's files failed: {exc}")
        try:
            for run in self.runs.values():
                self._end_run(run)
                self.result.summaries.append(run.summary)
            if self.result.other_hosts:
                hosts = ", ".join(sorted(self.result.other_hosts))
                logger.info("captures of hosts no site profile knows, skipped: %s", hosts)
        finally:
            self.catalog.close()
        return self.result

    def _end_run(self, run: ArchiveRun) -> None:
        summary = run.summary
        names = self.placement.by_site.get(run.profile.name, [])
        summary.warc_files = list(names)
        folder = self.layout.warc_dir(run.profile.name)
        summary.warc_bytes = sum(
            (folder / name).stat().st_size for name in names if (folder / name).exists()
        )
        summary.ended_at = utc_now()
        run.finished = True
        self.catalog.end_run(run.run_id, summary.ended_at, summary.exit_code, summary.as_dict())
        write_run_report(self.layout.root, summary)


class _Writer:
    """Writes versions' files in a thread while the next captures are stored.

    A version is recorded in the catalog once its files exist (files first, catalog second),
    and before the same case is looked at again.
    """

    def __init__(self, layout: ArchiveLayout) -> None:
        self.layout = layout
        self.files = ThreadPoolExecutor(1, thread_name_prefix="replay-files")
        self.writing: deque[tuple[CaseLedger, NewVersion, Future[None]]] = deque()

    def write(self, run: ArchiveRun, plan: NewVersion) -> None:
        self.writing.append((run.ledger, plan, self.files.submit(plan.write_files, self.layout)))
        while len(self.writing) > WRITES_AHEAD:
            self._record_first()

    def record_done(self, session: _Session, key: CaseKey) -> None:
        """Record versions already written; all of them up to *key*'s when it has one pending."""
        if any(plan.case.key == key for _, plan, _ in self.writing):
            while self.writing:
                found = self.writing[0][1].case.key == key
                self._record_first()
                if found:
                    break
        while self.writing and self.writing[0][2].done():
            self._record_first()

    def record_all(self, session: _Session) -> None:
        while self.writing:
            self._record_first()

    def _record_first(self) -> None:
        ledger, plan, future = self.writing.popleft()
        future.result()
        ledger.record_version(plan)

    def shutdown(self) -> None:
        self.files.shutdown()


def rebuild_missing_catalog(archive: Path) -> ReplayResult | None:
    """The catalog of an archive whose WARC files are there but whose catalog is gone.

    Without it a run would start blind: fetch everything again and forget the archived
    files. The catalog is rebuilt from them as `replay` does (the files stay where they are).
    Returns None when there is nothing to rebuild.
    """
    layout = ArchiveLayout(archive)
    if layout.catalog.exists():
        return None
    held = [
        path
        for site in layout.warc_sites()
        for path in sorted(layout.warc_dir(site).iterdir())
        if path.is_file() and not path.name.endswith(".open")
    ]
    if not held:
        return None
    logger.warning(
        "%s holds %d WARC files but no catalog: rebuilding the catalog from them first",
        archive,
        len(held),
    )
    # replay reads sources outside the archive: hard links beside it (same file system) give
    # it the files without copying them, and it finds them already in place.
    with tempfile.TemporaryDirectory(prefix=".caseharvest-rebuild-", dir=archive.parent) as tmp:
        for path in held:
            target = Path(tmp) / path.parent.name / path.name
            target.parent.mkdir(exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
        return replay([Path(tmp)], archive)
