"""`caseharvest replay`: rebuild text, metadata and catalog from WARC files alone.

The main process walks each file's CDXJ index in file order and hands batches of record
locations to worker processes, which read, decode and extract them; results come back in
order and are stored one by one, so the output is the same for any number of workers, all
cores work, and memory stays flat however many WARC files are read.
"""

from __future__ import annotations

import logging
import os
import shutil
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
from caseharvest.archive.case_store import (
    Capture,
    CaseFetched,
    NewVersion,
    extract_case,
    needs_extraction,
    note_case,
    plan_case,
    record_version,
)
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.run import ArchiveRun, utc_now
from caseharvest.archive.run_summary import RunSummary
from caseharvest.archive.warc_index import current_index, ensure_indexes, index_path_for
from caseharvest.capture.warc_writer import WrittenRecord, warc_file_pattern
from caseharvest.extract import ExtractedPage
from caseharvest.listings.hanweb_jpage import DEAD_STATUSES, ListingRecord, article_ids
from caseharvest.sites import SiteProfile, UnknownSiteError, load_profile

logger = logging.getLogger(__name__)

BATCH_RECORDS = 32  # records per job: fewer round trips to the workers
WRITES_AHEAD = 32  # cases whose files may be in the making at once
COMMIT_EVERY = 256  # cases per catalog transaction


class ReplayError(ValueError):
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


def find_warc_files(sources: list[Path]) -> list[Path]:
    """WARC files named by *sources* (files, or folders searched recursively), in write order."""
    found: dict[Path, None] = {}
    for source in sources:
        if source.is_dir():
            found.update(dict.fromkeys(sorted(source.rglob("*.warc.gz"))))
        elif source.is_file():
            found[source] = None
        else:
            raise ReplayError(f"{source}: no such file or folder")
    if not found:
        raise ReplayError("no .warc.gz files in the given sources")
    # File names carry the write time and the serial: sort on those, not on the folder.
    return sorted(found, key=lambda path: path.name.split("-")[1:3])


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
    return method == "GET" and article_ids(url) is not None and profile.allows(url)


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


def refuse_archive_holding(files: list[Path], archive: Path) -> None:
    """Raise when the *archive* folder holds one of *files*: it would read what it writes."""
    target = archive.resolve()
    for path in files:
        if target == path.resolve() or target in path.resolve().parents:
            raise ReplayError(
                f"--archive {archive} holds the source {path}: use another --archive folder"
            )


def link_into_archive(files: list[Path], archive: Path, site: str) -> None:
    """Make *files* part of *archive* (``warc/<site>/``): hard links, else copies.

    A file's current CDXJ index comes along, so it is not indexed again.
    """
    refuse_archive_holding(files, archive)
    folder = ArchiveLayout(archive).warc_dir(site)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        linked = folder / path.name
        index = current_index(path)
        _link_or_copy(path, linked)
        if index is not None:
            target = index_path_for(linked)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(index, target)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # same bytes, no second copy on disk
    except OSError:
        shutil.copy2(source, target)


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
    link_into_archive(files, archive, profile.name)
    with ArchiveLock(archive):
        run = ArchiveRun.open(profile, archive, command="replay")
        try:
            executor = ProcessPoolExecutor(workers) if workers > 1 else None
            try:
                _Replay(run).replay(files, _Batches(executor, 2 * workers, profile), progress)
            finally:
                if executor is not None:
                    executor.shutdown()
            run.summary.warc_files = [path.name for path in files]
            ensure_indexes(archive, profile.name)
            run.finish()
        finally:
            run.catalog.close()
    return run.summary


class _Replay:
    """Stores records in file order, deciding versions as `fetch` did.

    A thread creates the text files (slow on some disks; the syscalls release the GIL) while
    the next records are stored; a version is recorded once its files exist, and before the
    same case is looked at again.
    """

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run
        run.commit_each_case = False
        self.errors: dict[str, str] = {}
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

    def record_written(self, wait_for: int = 0, url: str | None = None) -> None:
        """Record the versions whose files are written: the first *wait_for* for sure, all of
        them up to *url*'s, and any others already done."""
        while self.writing:
            case, plan, future = self.writing[0]
            if wait_for <= 0 and not future.done() and url is None:
                return
            future.result()
            self.writing.popleft()
            record_version(self.run, case, plan)
            wait_for -= 1
            if url is not None and case.url == url:
                url = None

    def store(self, record: ReplayedRecord) -> None:
        run, summary, catalog, profile = (
            self.run,
            self.run.summary,
            self.run.catalog,
            self.run.profile,
        )
        summary.requests += 1
        summary.records[record.record_type] = summary.records.get(record.record_type, 0) + 1
        written = WrittenRecord(
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
        ids = article_ids(record.url)
        if record.method != "GET" or ids is None or not profile.allows(record.url):
            return
        case = CaseFetched(
            url=record.url,
            article_id=ids[1],
            column_id=ids[0],
            listing=ListingRecord(record.url, "", None),
            body=b"",  # extracted in a worker already
            content_type=record.headers.get("content-type"),
            capture=Capture(capture_id, written),
            not_modified=record.status == 304,
        )
        if record.status in DEAD_STATUSES:
            if catalog.latest_version(profile.name, case.url):
                catalog.set_withdrawn(profile.name, case.url, case.fetched_at)
            else:
                summary.dead[case.url] = f"HTTP {record.status}"
                note_case(run, case, "dead", f"HTTP {record.status}")
            return
        if record.status not in (200, 304):
            self.errors[case.url] = f"HTTP {record.status}"
            return
        self.errors.pop(case.url, None)
        summary.listed += 1
        if any(pending.url == case.url for pending, _, _ in self.writing):
            self.record_written(url=case.url)
        if record.page is None and needs_extraction(run, case):
            # A revisit whose original never made a version (e.g. its extraction failed).
            reason = "revisit of a capture that has no extracted version"
            summary.fail(case.url, reason)
            note_case(run, case, "failed", reason)
            return
        plan = plan_case(run, case, record.page)
        if plan is not None:
            self.writing.append((case, plan, self.files.submit(plan.write_files, run.layout)))
        self.record_written(wait_for=len(self.writing) - WRITES_AHEAD)
        self.stored += 1
        if self.stored % COMMIT_EVERY == 0:
            catalog.commit()

    def fail_unreached(self) -> None:
        """Cases whose every capture was an error (5xx …): failed, as `fetch` recorded them."""
        run, profile = self.run, self.run.profile
        for url, reason in self.errors.items():
            ids = article_ids(url)
            assert ids is not None
            run.summary.fail(url, reason)
            run.catalog.note_case(
                site=profile.name,
                url=url,
                article_id=ids[1],
                column_id=profile.column.id,
                status="failed",
                reason=reason,
                run_id=run.run_id,
                at=utc_now(),
            )
