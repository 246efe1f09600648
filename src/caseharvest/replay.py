"""`caseharvest replay`: rebuild text, metadata and catalog from WARC files alone.

Reading is one streaming pass in file order; extraction runs in a process pool over a bounded
window of pages, and results are stored in capture order, so the output is the same however
many workers run and memory stays flat however many WARC files are read.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeadersParser

from caseharvest.archive_layout import ArchiveLayout
from caseharvest.archive_lock import ArchiveLock
from caseharvest.archive_run import ArchiveRun, utc_now
from caseharvest.capture.warc_writer import WrittenRecord, warc_file_pattern
from caseharvest.case_store import (
    Capture,
    CaseFetched,
    extract_case,
    needs_extraction,
    note_case,
    store_case,
)
from caseharvest.extract import ExtractedPage, ExtractionRules
from caseharvest.run_summary import RunSummary
from caseharvest.sites import SiteProfile, UnknownSiteError, load_profile
from caseharvest.spiders.column_spider import DEAD_STATUSES, article_ids
from caseharvest.spiders.hanweb_jpage import ListingRecord
from caseharvest.warc_index import ensure_indexes

logger = logging.getLogger(__name__)


_HTTP_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)


class ReplayError(ValueError):
    """The sources or the target archive cannot be used; the message says why."""


@dataclass(frozen=True)
class ReplayedResponse:
    """A response or revisit record read back, with what its request record said."""

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
    request_record_id: str
    headers: dict[str, str]
    body: bytes  # content-decoded, as Scrapy hands a body to the spider


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


def read_responses(path: Path) -> Iterator[ReplayedResponse]:
    """Response and revisit records of one file, each with its request's method.

    Records are read without warcio's HTTP parsing, which then runs for responses only: a
    request record needs just its first word, and parsing every head was a fifth of replay.
    """
    pending: dict[str, Any] | None = None
    with path.open("rb") as stream:
        records = ArchiveIterator(stream, no_record_parse=True)
        for record in records:
            kind = record.rec_type
            if kind in ("response", "revisit"):
                record.http_headers = _HTTP_PARSER.parse(record.raw_stream)
                http = record.http_headers
                body = record.content_stream().read() if kind == "response" else b""
                fields = record.rec_headers
                pending = {
                    "warc_file": path.name,
                    "offset": records.get_record_offset(),
                    "url": fields.get_header("WARC-Target-URI"),
                    "status": int(http.get_statuscode() or 0),
                    "record_type": kind,
                    "record_id": fields.get_header("WARC-Record-ID"),
                    "warc_date": fields.get_header("WARC-Date"),
                    "payload_digest": fields.get_header("WARC-Payload-Digest"),
                    "headers": {name.lower(): value for name, value in http.headers},
                    "body": body,
                }
                records.read_to_end(record)
                pending["length"] = records.get_record_length()
            elif kind == "request" and pending is not None:
                concurrent = record.rec_headers.get_header("WARC-Concurrent-To")
                if concurrent == pending["record_id"]:
                    method = record.raw_stream.readline().split(b" ", 1)[0]
                    yield ReplayedResponse(
                        method=method.decode("ascii", "replace"),
                        request_record_id=record.rec_headers.get_header("WARC-Record-ID"),
                        **pending,
                    )
                pending = None


def refuse_archive_holding(files: list[Path], archive: Path) -> None:
    """Raise when the *archive* folder holds one of *files*: it would read what it writes."""
    target = archive.resolve()
    for path in files:
        if target == path.resolve() or target in path.resolve().parents:
            raise ReplayError(
                f"--archive {archive} holds the source {path}: use another --archive folder"
            )


def link_into_archive(files: list[Path], archive: Path, site: str) -> None:
    """Make *files* part of *archive* (``warc/<site>/``): hard links, else copies."""
    refuse_archive_holding(files, archive)
    folder = ArchiveLayout(archive).warc_dir(site)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        linked = folder / path.name
        if linked.exists():
            continue
        try:
            os.link(path, linked)  # same bytes, no second copy on disk
        except OSError:
            shutil.copy2(path, linked)


class _Window:
    """Submit extraction jobs, hand back results in submission order, never too many ahead."""

    def __init__(self, executor: Executor | None, size: int) -> None:
        self.executor = executor
        self.size = size
        self.pending: deque[tuple[CaseFetched, Future[ExtractedPage | str] | None]] = deque()

    def submit(
        self, case: CaseFetched, rules: ExtractionRules | None
    ) -> Iterator[tuple[CaseFetched, ExtractedPage | str | None]]:
        future = None
        if rules is not None:
            if self.executor is None:
                done: Future[ExtractedPage | str] = Future()
                done.set_result(extract_case(case.body, case.url, case.content_type, rules))
                future = done
            else:
                future = self.executor.submit(
                    extract_case, case.body, case.url, case.content_type, rules
                )
        self.pending.append((case, future))
        while len(self.pending) > self.size:
            yield self._pop()

    def drain(self) -> Iterator[tuple[CaseFetched, ExtractedPage | str | None]]:
        while self.pending:
            yield self._pop()

    def _pop(self) -> tuple[CaseFetched, ExtractedPage | str | None]:
        case, future = self.pending.popleft()
        return case, future.result() if future is not None else None


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
                _replay_files(run, files, _Window(executor, size=8 * workers), progress)
            finally:
                if executor is not None:
                    executor.shutdown()
            run.summary.warc_files = [path.name for path in files]
            ensure_indexes(archive, profile.name)
            run.finish()
        finally:
            run.catalog.close()
    return run.summary


def _replay_files(
    run: ArchiveRun, files: list[Path], window: _Window, progress: Callable[[int], None] | None
) -> None:
    summary, catalog, profile = run.summary, run.catalog, run.profile
    done_bytes = 0
    seen: set[str] = set()
    errors: dict[str, str] = {}
    for path in files:
        for response in read_responses(path):
            summary.requests += 1
            summary.records[response.record_type] = summary.records.get(response.record_type, 0) + 1
            capture_id = catalog.add_capture(
                run_id=run.run_id,
                url=response.url,
                method=response.method,
                status=response.status,
                record_type=response.record_type,
                record_id=response.record_id,
                warc_date=response.warc_date,
                warc_file=response.warc_file,
                warc_offset=response.offset,
                warc_length=response.length,
                payload_digest=response.payload_digest,
                content_type=response.headers.get("content-type"),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )
            ids = article_ids(response.url)
            if response.method != "GET" or ids is None or not profile.allows(response.url):
                continue
            case = _case(response, capture_id, ids)
            if response.status in DEAD_STATUSES:
                if case.url in seen or catalog.latest_version(profile.name, case.url):
                    catalog.set_withdrawn(profile.name, case.url, case.fetched_at)
                else:
                    summary.dead[case.url] = f"HTTP {response.status}"
                    note_case(run, case, "dead", f"HTTP {response.status}")
                continue
            if response.status not in (200, 304):
                errors[case.url] = f"HTTP {response.status}"
                continue
            errors.pop(case.url, None)
            seen.add(case.url)
            summary.listed += 1
            rules = None if case.same_as_archived else profile.extraction
            for done, page in window.submit(case, rules):
                _store(run, done, page)
        done_bytes += path.stat().st_size
        if progress is not None:
            progress(done_bytes)
    for done, page in window.drain():
        _store(run, done, page)
    for url, reason in errors.items():
        if url not in seen:
            ids = article_ids(url)
            assert ids is not None
            summary.fail(url, reason)
            catalog.note_case(
                site=profile.name,
                url=url,
                article_id=ids[1],
                column_id=profile.column.id,
                status="failed",
                reason=reason,
                run_id=run.run_id,
                at=utc_now(),
            )
    catalog.commit()


def _case(response: ReplayedResponse, capture_id: int, ids: tuple[str, str]) -> CaseFetched:
    record = WrittenRecord(
        warc_file=response.warc_file,
        offset=response.offset,
        length=response.length,
        record_id=response.record_id,
        record_type=response.record_type,
        warc_date=response.warc_date,
        payload_digest=response.payload_digest or "",
        request_record_id=response.request_record_id,
    )
    return CaseFetched(
        url=response.url,
        article_id=ids[1],
        column_id=ids[0],
        listing=ListingRecord(response.url, "", None),
        body=response.body,
        content_type=response.headers.get("content-type"),
        capture=Capture(capture_id, record),
        not_modified=response.status == 304,
    )


def _store(run: ArchiveRun, case: CaseFetched, page: ExtractedPage | str | None) -> None:
    if page is None and needs_extraction(run, case):
        # A revisit whose original never made a version (e.g. its extraction failed then).
        run.summary.fail(case.url, "revisit of a capture that has no extracted version")
        note_case(run, case, "failed", "revisit of a capture that has no extracted version")
        return
    store_case(run, case, page)
