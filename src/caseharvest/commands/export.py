"""Rows for `caseharvest export`: one per case, the keys of its .json plus its text."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from caseharvest.archive.case_files import METADATA_KEYS, read_case_text
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.upgrade import open_catalog
from caseharvest.model import CaseStatus

EXPORT_KEYS = (*METADATA_KEYS, "withdrawn_at", "text")


def export_rows(
    archive: Path, *, site: str | None = None, all_versions: bool = False
) -> list[dict[str, Any]]:
    """Archived cases, newest publication first, then by URL; latest version unless asked."""
    layout = ArchiveLayout(archive)
    catalog = open_catalog(archive, read_only=True)
    try:
        rows = []
        for case in catalog.iter_cases(site, status=CaseStatus.ARCHIVED):
            if case.metadata is None:
                continue
            versions = (
                [version.metadata for version in catalog.versions(case.key)]
                if all_versions
                else [case.metadata]
            )
            for metadata in versions:
                older = None if metadata["version"] == case.latest_version else metadata["version"]
                rows.append(
                    {
                        **{key: metadata.get(key) for key in METADATA_KEYS},
                        "withdrawn_at": case.withdrawn_at,
                        "text": read_case_text(layout, metadata, version=older),
                    }
                )
    finally:
        catalog.close()
    rows.sort(key=lambda row: (row["url"], row["version"]))
    rows.sort(key=lambda row: row["published"] or "", reverse=True)
    return rows


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """One JSON object per line, UTF-8 text kept readable."""
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> None:
    """CSV with a header; nested values (attachments, extraction) as JSON text."""
    writer = csv.DictWriter(out, fieldnames=list(EXPORT_KEYS), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: json.dumps(value, ensure_ascii=False)
                if isinstance(value, (list, dict))
                else value
                for key, value in row.items()
            }
        )
