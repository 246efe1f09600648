"""A fetched case page and what storing it takes, whoever fetched it: `fetch` or `replay`.

Extraction, then files, then the catalog: a case counts as archived only after its WARC
records are on disk (the caller guarantees that) and its files are written. What the case's
state becomes is the ledger's decision (``archive/ledger.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from caseharvest.archive.case_files import sha256_text, write_case
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.extract import ExtractedPage, ExtractionRules, read_page
from caseharvest.extract.page_links import PageLinks
from caseharvest.model import Capture, CaseKey, ListingRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseFetched:
    """A case page as fetched (or read back from a WARC file)."""

    key: CaseKey
    url: str
    listing: ListingRecord
    body: bytes
    content_type: str | None
    capture: Capture
    not_modified: bool = False  # a 304 to a conditional request: nothing to extract

    @property
    def fetched_at(self) -> str:
        """When the page was fetched: its WARC-Date, to the second (replay gives the same)."""
        return self.capture.fetched_at

    @property
    def same_as_archived(self) -> bool:
        """The server said 304, or sent the payload of the URL's archived capture."""
        return self.not_modified or self.capture.record.record_type == "revisit"


NO_DOCUMENT = "the page holds no HTML document"


@dataclass(frozen=True)
class CaseReading:
    """One read of a fetched case page: the links to archive with it and its extraction."""

    links: PageLinks
    page: ExtractedPage | str | None  # None: not extracted (unchanged); str: why it failed


def read_case(
    body: bytes,
    url: str,
    content_type: str | None,
    rules: ExtractionRules,
    extract: bool = True,
    links: bool = True,
) -> CaseReading:
    """The page's links (with *links*) and its extraction (with *extract*), from one parse.

    A page that breaks the reader, or holds no HTML document, fails its case with the reason
    (a broken page never stops a run). A top-level function of plain values, so a process
    pool can run it.
    """
    no_links = PageLinks(requisites=(), attachments=())
    try:
        read = read_page(
            body, url, rules=rules, content_type=content_type, links=links, extract=extract
        )
    except Exception as exc:
        logger.exception("reading the page failed for %s", url)
        return CaseReading(no_links, f"extraction failed: {type(exc).__name__}: {exc}")
    if not read.document:
        return CaseReading(no_links, NO_DOCUMENT)
    return CaseReading(read.links, read.page)


def extract_case(
    body: bytes, url: str, content_type: str | None, rules: ExtractionRules
) -> ExtractedPage | str:
    """The extracted page, or why the case fails: :func:`read_case` without the links, so
    that replay decides each page as fetch does."""
    page = read_case(body, url, content_type, rules, links=False).page
    assert page is not None  # extraction was asked for
    return page


def case_metadata(case: CaseFetched, page: ExtractedPage, version: int) -> dict[str, Any]:
    """The ``.json`` document of one version of a case."""
    record = case.capture.record
    return {
        "url": case.url,
        "site": case.key.site,
        "column": case.key.column,
        "article_id": case.key.case_id,
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

    case: CaseFetched
    metadata: dict[str, Any]
    text: str
    previous: dict[str, Any] | None
    digest: str

    def write_files(self, layout: ArchiveLayout) -> None:
        """The case's text and metadata files (any thread: files only, no catalog)."""
        write_case(layout, self.metadata, self.text, self.previous)
