"""What happens to a fetched case page, whoever fetched it: `fetch`'s pipeline or `replay`.

Extraction, then files, then the catalog: a case counts as archived only after its WARC
records are on disk (the caller guarantees that) and its files are written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from caseharvest.archive.case_files import content_digest, sha256_text, write_case
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.run import ArchiveRun
from caseharvest.capture.warc_writer import WrittenRecord
from caseharvest.extract import ExtractedPage, ExtractionRules, extract_page
from caseharvest.listings.hanweb_jpage import ListingRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Capture:
    """A WARC record the catalog knows, as the spider and the case store see it."""

    capture_id: int
    record: WrittenRecord


@dataclass(frozen=True)
class CaseFetched:
    """A case page as fetched (or read back from a WARC file)."""

    url: str
    article_id: str
    column_id: str
    listing: ListingRecord
    body: bytes
    content_type: str | None
    capture: Capture
    not_modified: bool = False  # a 304 to a conditional request: nothing to extract

    @property
    def fetched_at(self) -> str:
        """When the page was fetched: its WARC-Date, to the second (replay gives the same)."""
        return self.capture.record.warc_date[:19] + "Z"

    @property
    def same_as_archived(self) -> bool:
        """The server said 304, or sent the payload of the URL's archived capture."""
        return self.not_modified or self.capture.record.record_type == "revisit"


def extract_case(
    body: bytes, url: str, content_type: str | None, rules: ExtractionRules
) -> ExtractedPage | str:
    """The extracted page, or the reason extraction failed (a broken page never stops a run).

    A top-level function of plain values, so a process pool can run it.
    """
    try:
        return extract_page(body, url, rules=rules, content_type=content_type)
    except Exception as exc:
        logger.exception("extraction failed for %s", url)
        return f"extraction failed: {type(exc).__name__}: {exc}"


def case_metadata(
    run: ArchiveRun, case: CaseFetched, page: ExtractedPage, version: int
) -> dict[str, Any]:
    """The ``.json`` document of one version of a case."""
    record = case.capture.record
    return {
        "url": case.url,
        "site": run.profile.name,
        "column": run.profile.column.id,
        "article_id": case.article_id,
        "version": version,
        "title": page.title,
        "published": page.published,
        "source": page.source,
        "attachments": [{"name": a.name, "url": a.url} for a in page.attachments],
        "fetched_at": case.fetched_at,
        "warc_file": record.warc_file,
        "warc_offset": record.offset,
        "text_sha256": sha256_text(page.text),
        "extraction": {"method": page.method, "confidence": page.confidence},
    }


@dataclass(frozen=True)
class NewVersion:
    """Files to write, then a version to record: what storing a changed case takes."""

    metadata: dict[str, Any]
    text: str
    previous: dict[str, Any] | None
    digest: str

    def write_files(self, layout: ArchiveLayout) -> None:
        """The case's text and metadata files (any thread: files only, no catalog)."""
        write_case(layout, self.metadata, self.text, self.previous)


def plan_case(
    run: ArchiveRun, case: CaseFetched, page: ExtractedPage | str | None
) -> NewVersion | None:
    """Record a case that needs no files (failed, unchanged), or say which files to write.

    *page* is None when the caller skipped extraction because the case is unchanged
    (:attr:`CaseFetched.same_as_archived` and a version exists). When this returns a
    :class:`NewVersion`, write its files, then call :func:`record_version`: files first,
    catalog second, so a crash in between leaves files the next run rewrites, never a
    catalog version without its files.
    """
    summary, site = run.summary, run.profile.name
    latest = run.catalog.latest_version(site, case.url)
    if page is None:
        if latest is None:
            raise ValueError(f"{case.url}: no archived version to call unchanged")
        summary.unchanged += 1
        note_case(run, case, "archived", None)
        return None
    if isinstance(page, str):
        summary.fail(case.url, page)
        note_case(run, case, "failed", page)
        return None
    for warning in page.warnings:
        summary.warn(f"{case.url}: {warning}")
    if page.confidence != "high":
        summary.warn(
            f"{case.url}: body found by {page.method} (low confidence): the page template "
            "may have changed; check the profile's body rules"
        )
    version = latest[1]["version"] + 1 if latest else 1
    metadata = case_metadata(run, case, page, version)
    digest = content_digest(page.text, metadata)
    if latest is not None and latest[0] == digest:
        summary.unchanged += 1  # a new capture of the same content is not a new version
        note_case(run, case, "archived", None)
        return None
    return NewVersion(metadata, page.text, latest[1] if latest else None, digest)


def record_version(run: ArchiveRun, case: CaseFetched, plan: NewVersion) -> None:
    """After its files are written: the new version and the archived case, in the catalog."""
    run.catalog.add_version(
        site=run.profile.name,
        url=case.url,
        capture_id=case.capture.capture_id,
        content_sha256=plan.digest,
        text_sha256=plan.metadata["text_sha256"],
        metadata=plan.metadata,
    )
    if plan.previous is None:
        run.summary.new += 1
    else:
        run.summary.revised += 1
    note_case(run, case, "archived", None)


def store_case(run: ArchiveRun, case: CaseFetched, page: ExtractedPage | str | None) -> None:
    """Record one fetched case: a new version, an unchanged one, or a failure."""
    plan = plan_case(run, case, page)
    if plan is not None:
        plan.write_files(run.layout)
        record_version(run, case, plan)


def needs_extraction(run: ArchiveRun, case: CaseFetched) -> bool:
    """False when the page is byte-identical to an archived version (nothing can change)."""
    return not (case.same_as_archived and run.catalog.latest_version(run.profile.name, case.url))


def note_case(run: ArchiveRun, case: CaseFetched, status: str, reason: str | None) -> None:
    """The case's catalog row, committed unless the run commits in batches."""
    run.catalog.note_case(
        site=run.profile.name,
        url=case.url,
        article_id=case.article_id,
        column_id=run.profile.column.id,
        status=status,
        reason=reason,
        run_id=run.run_id,
        at=case.fetched_at,
        listing_title=case.listing.title,
        listing_date=case.listing.date,
    )
    if run.commit_each_case:
        run.catalog.commit()
