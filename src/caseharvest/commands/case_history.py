"""`caseharvest history` and `diff`: the versions of one case, and what changed between two."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caseharvest.archive.case_files import read_case_text
from caseharvest.archive.catalog import CaptureRow, CaseRow, Catalog, VersionRow
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.upgrade import open_catalog
from caseharvest.model import CaseKey

# What a reader of the case sees change; capture facts (fetched_at, warc_*) change every time.
COMPARED_KEYS = ("title", "published", "source", "attachments", "url")


class CaseNotFoundError(LookupError):
    """The archive holds no case by that URL or key; the message says how to name one."""


class VersionChoiceError(ValueError):
    """--from/--to name a version the case does not have."""


class NothingToCompareError(ValueError):
    """The case has a single version."""


@dataclass(frozen=True)
class VersionEntry:
    """One version of a case and the capture it was extracted from."""

    version: VersionRow
    capture: CaptureRow
    latest: bool

    @property
    def number(self) -> int:
        return self.version.version

    @property
    def title(self) -> str:
        return str(self.version.metadata.get("title") or "")


@dataclass(frozen=True)
class CaseHistory:
    """A case, its versions oldest first, and every capture of its URL."""

    case: CaseRow
    versions: list[VersionEntry]
    captures: list[CaptureRow]


@dataclass(frozen=True)
class MetadataChange:
    """A field of the case's ``.json`` that differs between two versions."""

    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class CaseDiff:
    """Two versions of a case and what changed from the first to the second."""

    case: CaseRow
    old: VersionEntry
    new: VersionEntry
    metadata: list[MetadataChange]
    text: list[str]  # unified diff lines, without line ends


def find_case(catalog: Catalog, ref: str) -> CaseRow:
    """The case named by *ref*: its URL, or ``site/column/id``."""
    if "://" in ref:
        case = catalog.case_by_url(ref)
    else:
        try:
            key = CaseKey.parse(ref)
        except ValueError as exc:
            raise CaseNotFoundError(f"{exc}, or the case's URL") from exc
        case = catalog.case(key)
    if case is None:
        raise CaseNotFoundError(
            f"the archive holds no case {ref}; `caseharvest search` or `export` lists them"
        )
    return case


def _history(catalog: Catalog, case: CaseRow) -> CaseHistory:
    versions = [
        VersionEntry(row, catalog.capture(row.capture_id), row.version == case.latest_version)
        for row in catalog.versions(case.key)
    ]
    return CaseHistory(case, versions, catalog.captures_of(case.url))


def case_history(archive: Path, ref: str) -> CaseHistory:
    """The versions and captures of the case *ref* (a URL or ``site/column/id``)."""
    catalog = open_catalog(archive, read_only=True)
    try:
        return _history(catalog, find_case(catalog, ref))
    finally:
        catalog.close()


def _pick(
    versions: list[VersionEntry], old: int | None, new: int | None
) -> tuple[VersionEntry, VersionEntry]:
    by_number = {entry.number: entry for entry in versions}
    new = new if new is not None else versions[-1].number
    old = old if old is not None else (new - 1 if new > versions[0].number else new)
    for wanted in (old, new):
        if wanted not in by_number:
            have = ", ".join(str(number) for number in by_number)
            raise VersionChoiceError(f"the case has no version {wanted} (it has {have})")
    return by_number[old], by_number[new]


def _text(layout: ArchiveLayout, entry: VersionEntry) -> str:
    older = None if entry.latest else entry.number
    return read_case_text(layout, entry.version.metadata, version=older)


def metadata_changes(old: dict[str, Any], new: dict[str, Any]) -> list[MetadataChange]:
    """The compared fields whose values differ, in :data:`COMPARED_KEYS` order."""
    return [
        MetadataChange(key, old.get(key), new.get(key))
        for key in COMPARED_KEYS
        if old.get(key) != new.get(key)
    ]


def case_diff(archive: Path, ref: str, old: int | None = None, new: int | None = None) -> CaseDiff:
    """What changed in the case *ref* from version *old* to *new* (default: the last two)."""
    catalog = open_catalog(archive, read_only=True)
    try:
        history = _history(catalog, find_case(catalog, ref))
    finally:
        catalog.close()
    if old is None and new is None and len(history.versions) < 2:
        only = history.versions[0] if history.versions else None
        raise NothingToCompareError(
            f"{history.case.key} has only one version"
            + (f" (captured {only.capture.warc_date})" if only else "")
            + ": nothing to compare"
        )
    if not history.versions:
        raise VersionChoiceError(f"{history.case.key} has no archived version")
    before, after = _pick(history.versions, old, new)
    layout = ArchiveLayout(archive)
    label = str(history.case.key)
    text = list(
        difflib.unified_diff(
            _text(layout, before).splitlines(),
            _text(layout, after).splitlines(),
            fromfile=f"{label} v{before.number} ({before.capture.warc_date})",
            tofile=f"{label} v{after.number} ({after.capture.warc_date})",
            lineterm="",
        )
    )
    changes = metadata_changes(before.version.metadata, after.version.metadata)
    return CaseDiff(history.case, before, after, changes, text)
