"""`caseharvest replay`: rebuild text, metadata and catalog from WARC files alone.

The main process walks each file's CDXJ index in file order and hands batches of record
locations to worker processes, which read, decode and extract them; results come back in
order and are stored one by one, so the output is the same for any number of workers, all
cores work, and memory stays flat however many WARC files are read.
"""

from __future__ import annotations

import logging
import os
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer
from warcio.archiveiterator import ArchiveIterator

from caseharvest.archive.capture_index import parse_cdxj_line
from caseharvest.archive.case_store import CaseFetched, NewVersion, extract_case
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.source_files import (
    SourceError,
    find_warc_files,
    link_into_archive,
    refuse_archive_holding,
)
from caseharvest.archive.warc_index import current_index, ensure_indexes
from caseharvest.capture.warc_writer import warc_file_pattern
from caseharvest.extract import ExtractedPage
from caseharvest.model import DEAD_STATUSES, Capture, CaseKey, ListingRecord, WarcRecordRef
from caseharvest.sites import SiteProfile, UnknownSiteError, load_profile
from caseharvest.sites.case_urls import case_key_of

logger = logging.getLogger(__name__)

BATCH_RECORDS = 32  # records per job: fewer round trips to the workers
WRITES_AHEAD = 32  # cases whose files may be in the making at once
COMMIT_EVERY = 256  # cases per catalog transaction


class ReplayError(SourceError):
    """The sources or the target archive cannot be used; the message says why."""


@dataclass(frozen=True)
class ReplayedRecord:
    """A response or revisit record read back; for a case page, its extraction too."""

    warc_file: str
    offset: int
    length: int
    url: str
    method: str
    status: int
    record_type: str
    record_id: str
    warc_date: str
    payload_digest: str | None
    headers: dict[str, str]
    page: ExtractedPage | str | None  # None: not a case page, or nothing to extract


def site_of(path: Path) -> SiteProfile:
    """The site profile whose files these are (``<site>-<timestamp>-<serial>-<host>``)."""
    site = path.name.split("-", 1)[0]
    if not warc_file_pattern(site).match(path.name):
        raise ReplayError(f"{path.name}: not named like a caseharvest WARC file")
    try:
        return load_profile(site)
    except UnknownSiteError as exc:
        raise ReplayError(f"{path.name}: {exc}") from exc


# Where a record is: offset, length, and the method of its request. Plain tuples, as one file
# can hold tens of thousands of records.
Location = tuple[int, int, str]


def index_entries(path: Path) -> list[Location]:
    """Response and revisit records of one WARC file, in file order, from its CDXJ index.

    The file's own index in its archive is used when current; otherwise the file is indexed
    into a temporary folder (sources are never written to).
    """
    index = current_index(path)
    with tempfile.TemporaryDirectory(prefix="caseharvest-replay-") as folder:
        if index is None:
            index = Path(folder) / "index.cdxj"
            CDXJIndexer(str(index), [str(path)], post_append=True).process_all()
        with index.open(encoding="utf-8") as lines:
            entries = [
                (entry.offset, entry.length, entry.method)
                for line in lines
                if (entry := parse_cdxj_line(line))
            ]
    return sorted(entries)


def _is_case(url: str, method: str, profile: SiteProfile) -> bool:
    return method == "GET" and case_key_of(url, profile) is not None


def read_batch(path: Path, entries: list[Location], profile: SiteProfile) -> list[ReplayedRecord]:
    """Read the records at *entries* of *path*; extract the case pages among them.

    Runs in a worker process: reading, decoding and extraction are most of replay's work.
    """
    records = []
    with path.open("rb") as stream:
        for offset, length, method in entries:
            stream.seek(offset)
            member = zlib.decompress(stream.read(length), zlib.MAX_WBITS | 16)
            record = next(iter(ArchiveIterator(BytesIO(member), check_digests=False)))
            fields, http = record.rec_headers, record.http_headers
            status = int(http.get_statuscode() or 0)
            page: ExtractedPage | str | None = None
            headers = {name.lower(): value for name, value in http.headers}
            url = fields.get_header("WARC-Target-URI")
            if record.rec_type == "response" and status == 200 and _is_case(url, method, profile):
                body = record.content_stream().read()
                page = extract_case(body, url, headers.get("content-type"), profile.extraction)
            records.append(
                ReplayedRecord(
                    warc_file=path.name,
                    offset=offset,
                    length=length,
                    url=url,
                    method=method,
                    status=status,
                    record_type=record.rec_type,
                    record_id=fields.get_header("WARC-Record-ID"),
                    warc_date=fields.get_header("WARC-Date"),
                    payload_digest=fields.get_header("WARC-Payload-Digest"),
                    headers=headers,
                    page=page,
                )
            )
    return records


class _Batches:
    """Submit batches, hand back their records in submission order, a bounded number ahead."""

    def __init__(self, executor: Executor | None, ahead: int, profile: SiteProfile) -> None:
        self.executor = executor
        self.ahead = ahead
        self.profile = profile
        self.pending: deque[Future[list[ReplayedRecord]]] = deque()

    def submit(self, path: Path, entries: list[Location]) -> Iterator[ReplayedRecord]:
        if self.executor is None:
            yield from read_batch(path, entries, self.profile)
            return
        self.pending.append(self.executor.submit(read_batch, path, entries, self.profile))
        while len(self.pending) > self.ahead:
            yield from self.pending.popleft().result()

    def drain(self) -> Iterator[ReplayedRecord]:
        while self.pending:
            yield from self.pending.popleft().result()


def replay(
    sources: list[Path],
    archive: Path,
    *,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunSummary:
    """Rebuild text files, metadata and catalog in *archive* from the WARC files of *sources*.

    The WARC files are linked (or copied) into ``archive/warc/<site>/`` so the new archive is
    whole. *progress* is called with the number of WARC bytes read so far.
    """
    files = find_warc_files(sources)
    refuse_archive_holding(files, archive)
    layout = ArchiveLayout(archive)
    if layout.catalog.exists():
        raise ReplayError(
            f"{archive} already holds an archive: replay builds a new one; "
            "pass an empty or new --archive folder"
        )
    profiles = {path: site_of(path) for path in files}
    if len({profile.name for profile in profiles.values()}) != 1:
        raise ReplayError("replay one site at a time: the sources hold several sites' files")
    profile = next(iter(profiles.values()))
    workers = workers or os.cpu_count() or 1
    run = ArchiveRun.start(
        profile, archive, command="replay", commit_each_case=False, recover=False
    )
    try:
        link_into_archive(files, archive, profile.name)
        executor = ProcessPoolExecutor(workers) if workers > 1 else None
        try:
            _Replay(run).replay(files, _Batches(executor, 2 * workers, profile), progress)
        finally:
            if executor is not None:
                executor.shutdown()
        run.summary.warc_files = [path.name for path in files]
        ensure_indexes(archive, profile.name)
    finally:
        run.finish()
    return run.summary


class _Replay:
    """Stores records in file order, deciding versions as `fetch` did.

    A thread creates the text files (slow on some disks; the syscalls release the GIL) while
    the next records are stored; a version is recorded once its files exist, and before the
    same case is looked at again.
    """

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run
        self.ledger = run.ledger
        self.errors: dict[CaseKey, tuple[str, str]] = {}
        self.files = ThreadPoolExecutor(1, thread_name_prefix="replay-files")
        self.writing: deque[tuple[CaseFetched, NewVersion, Future[None]]] = deque()
        self.stored = 0

    def replay(
        self, files: list[Path], batches: _Batches, progress: Callable[[int], None] | None
    ) -> None:
        done_bytes = 0
        for path in files:
            entries = index_entries(path)
            for start in range(0, len(entries), BATCH_RECORDS):
                for record in batches.submit(path, entries[start : start + BATCH_RECORDS]):
                    self.store(record)
            done_bytes += path.stat().st_size
            if progress is not None:
                progress(done_bytes)
        for record in batches.drain():
            self.store(record)
        self.record_written(wait_for=len(self.writing))
        self.files.shutdown()
        self.fail_unreached()
        self.run.catalog.commit()

    def record_written(self, wait_for: int = 0, key: CaseKey | None = None) -> None:
        """Record the versions whose files are written: the first *wait_for* for sure, all of
        them up to *key*'s, and any others already done."""
        while self.writing:
            case, plan, future = self.writing[0]
            if wait_for <= 0 and not future.done() and key is None:
                return
            future.result()
            self.writing.popleft()
            self.ledger.record_version(plan)
            wait_for -= 1
            if key is not None and case.key == key:
                key = None

    def store(self, record: ReplayedRecord) -> None:
        run, catalog, profile = self.run, self.run.catalog, self.run.profile
        run.summary.count_capture(record.record_type, 0, False)
        written = WarcRecordRef(
            warc_file=record.warc_file,
            offset=record.offset,
            length=record.length,
            record_id=record.record_id,
            record_type=record.record_type,
            warc_date=record.warc_date,
            payload_digest=record.payload_digest or "",
            request_record_id="",
        )
        capture_id = catalog.add_capture(
            run_id=run.run_id,
            url=record.url,
            method=record.method,
            status=record.status,
            record=written,
            headers=record.headers,
        )
        key = case_key_of(record.url, profile) if record.method == "GET" else None
        if key is None:
            return
        ledger = self.ledger
        case = CaseFetched(
            key=key,
            url=record.url,
            listing=ListingRecord(record.url, "", None),
            body=b"",  # extracted in a worker already
            content_type=record.headers.get("content-type"),
            capture=Capture(capture_id, written),
            not_modified=record.status == 304,
        )
        if record.status in DEAD_STATUSES:
            ledger.dead(key, case.url, record.status, case.fetched_at, None)
            return
        if record.status not in (200, 304):
            self.errors[key] = (case.url, f"HTTP {record.status}")
            return
        self.errors.pop(key, None)
        ledger.seen_in_archive()
        if any(pending.key == key for pending, _, _ in self.writing):
            self.record_written(key=key)
        if record.page is None and ledger.needs_extraction(case):
            # A revisit whose original never made a version (e.g. its extraction failed).
            ledger.failed(key, case.url, "revisit of a capture that has no extracted version", None)
            return
        plan = ledger.decide(case, record.page)
        if plan is not None:
            self.writing.append((case, plan, self.files.submit(plan.write_files, run.layout)))
        self.record_written(wait_for=len(self.writing) - WRITES_AHEAD)
        self.stored += 1
        if self.stored % COMMIT_EVERY == 0:
            catalog.commit()

    def fail_unreached(self) -> None:
        """Cases whose every capture was an error (5xx …): failed, as `fetch` recorded them."""
        for key, (url, reason) in self.errors.items():
            self.ledger.failed(key, url, reason, None)
