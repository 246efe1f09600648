"""Turn a fetched case page into its text and metadata files and its catalog entry."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from caseharvest.archive_run import ArchiveRun, utc_now
from caseharvest.case_files import content_digest, sha256_text, write_case
from caseharvest.extract import ExtractedPage, extract_page
from caseharvest.spiders.column_spider import CaseFetched

logger = logging.getLogger(__name__)


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


class CasePipeline:
    """Extract, write files, then mark the case archived (its WARC records are on disk)."""

    def __init__(self, run: ArchiveRun) -> None:
        self.run = run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CasePipeline:
        run = crawler.settings.get("CASEHARVEST_RUN")
        if run is None:
            raise NotConfigured("the case pipeline runs inside `caseharvest fetch`")
        return cls(run)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, CaseFetched):
            return item
        self.archive_case(item)
        return item

    def archive_case(self, case: CaseFetched) -> None:
        """Everything that happens to one fetched case page."""
        run, summary = self.run, self.run.summary
        is_revisit = case.capture.record.record_type == "revisit"
        if (case.not_modified or is_revisit) and run.catalog.latest_version(
            run.profile.name, case.url
        ):
            # Same bytes as the archived version (304, or identical payload): same content.
            summary.unchanged += 1
            self._note(case, "archived", None)
            return
        try:
            page = extract_page(
                case.body, case.url, rules=run.profile.extraction, content_type=case.content_type
            )
        except Exception as exc:  # a broken page must not stop the run; it is reported
            logger.exception("extraction failed for %s", case.url)
            summary.fail(case.url, f"extraction failed: {type(exc).__name__}: {exc}")
            self._note(case, "failed", f"extraction failed: {exc}")
            return
        for warning in page.warnings:
            summary.warn(f"{case.url}: {warning}")
        if page.confidence != "high":
            summary.warn(
                f"{case.url}: body found by {page.method} (low confidence): the page template "
                "may have changed; check the profile's body rules"
            )
        catalog = run.catalog
        latest = catalog.latest_version(run.profile.name, case.url)
        version = latest[1]["version"] + 1 if latest else 1
        metadata = case_metadata(run, case, page, version)
        digest = content_digest(page.text, metadata)
        if latest is not None and latest[0] == digest:
            summary.unchanged += 1  # a new capture of the same content is not a new version
        else:
            # Files first, catalog second: a crash in between leaves files that the next run
            # rewrites, never a catalog version without its files.
            write_case(run.layout, metadata, page.text, latest[1] if latest else None)
            catalog.add_version(
                site=run.profile.name,
                url=case.url,
                capture_id=case.capture.capture_id,
                content_sha256=digest,
                text_sha256=metadata["text_sha256"],
                metadata=metadata,
            )
            if latest is None:
                summary.new += 1
            else:
                summary.revised += 1
        self._note(case, "archived", None)

    def _note(self, case: CaseFetched, status: str, reason: str | None) -> None:
        self.run.catalog.note_case(
            site=self.run.profile.name,
            url=case.url,
            article_id=case.article_id,
            column_id=self.run.profile.column.id,
            status=status,
            reason=reason,
            run_id=self.run.run_id,
            at=utc_now(),
            listing_title=case.listing.title,
            listing_date=case.listing.date,
        )
        self.run.catalog.commit()
