"""The site-neutral vocabulary every part of caseharvest speaks.

This module is the bottom of the house: it imports nothing of caseharvest, and everything may
import it. A listing source produces :class:`ListingRecord` values and :class:`CaseKey` values;
the archive records :class:`CaseStatus` values and :class:`WarcRecordRef` locations; the crawl
and `replay` hand :class:`Capture` values to the ledger.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

# A case page answering these is a dead link (first time) or withdrawn (known case).
DEAD_STATUSES = (404, 410)


def utc_now() -> str:
    """Current time as UTC ISO 8601 with a ``Z``, seconds precision."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CaseStatus(StrEnum):
    """What the archive holds of a case (the catalog's ``cases.status``)."""

    ARCHIVED = "archived"  # at least one version extracted from an archived capture
    DEAD = "dead"  # answered 404/410 before anything was archived
    FAILED = "failed"  # listed, but no usable capture; ``reason`` says why


class CaseOutcome(StrEnum):
    """What storing a fetched case page came to (the ledger counts each)."""

    NEW = "new"
    REVISED = "revised"
    UNCHANGED = "unchanged"


# Slots: a run holds a key and a listing record for every case of a column (tens of
# thousands); without a __dict__ each takes a third of the memory.
@dataclass(frozen=True, order=True, slots=True)
class CaseKey:
    """Who a case is: the site, the column that lists it, and the site's id for it.

    Two columns of one site may publish the same id; the key keeps them apart.
    """

    site: str
    column: str
    case_id: str

    def __post_init__(self) -> None:
        # A crawl keeps every case's key, and each parse of a URL or catalog row makes new
        # strings: one copy of a site's and a column's name serves them all.
        object.__setattr__(self, "site", sys.intern(self.site))
        object.__setattr__(self, "column", sys.intern(self.column))

    def __str__(self) -> str:
        return f"{self.site}/{self.column}/{self.case_id}"

    @classmethod
    def parse(cls, text: str) -> CaseKey:
        """``site/column/id`` back into a key; ``ValueError`` for anything else."""
        parts = text.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"a case key looks like SITE/COLUMN/ID, got {text!r}")
        return cls(*parts)


@dataclass(frozen=True, slots=True)
class ListingRecord:
    """One entry of a column's listing: where the case is and what the listing says of it."""

    url: str
    title: str
    date: str | None  # YYYY-MM-DD, when the listing shows one


@dataclass(frozen=True, slots=True)
class WarcRecordRef:
    """Where a written (or read back) WARC record is, and what identifies it."""

    warc_file: str  # file name, relative to the site's WARC folder
    offset: int  # of the record's gzip member
    length: int  # compressed length of the member
    record_id: str
    record_type: str  # response | revisit
    warc_date: str
    payload_digest: str
    request_record_id: str


@dataclass(frozen=True, slots=True)
class Capture:
    """A WARC record the catalog knows: its catalog id and where it is."""

    capture_id: int
    record: WarcRecordRef

    @property
    def fetched_at(self) -> str:
        """When it was fetched: its WARC-Date to the second (replay gives the same)."""
        return self.record.warc_date[:19] + "Z"
