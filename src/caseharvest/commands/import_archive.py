"""What adding captures to a live archive takes (`replay --into`), beyond a fresh replay.

- Revisits whose original is already in the archive are resolved there
  (:class:`ArchiveOriginals`: by ``WARC-Refers-To``, else the URL's latest response with the
  same payload digest).
- A capture older than a case's latest version belongs in the case's history
  (:class:`VersionHistory`): when its content is new to the history around its date it becomes
  a version of its own, numbered in time order, and the versions after it move up one number
  (their text, captures and files stay; ``<ID>.txt``/``.json`` remain the latest). Content the
  history already holds at that time adds nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from caseharvest.archive.atomic_files import write_atomically
from caseharvest.archive.case_files import METADATA_KEYS, content_digest, read_case_text
from caseharvest.archive.case_store import CaseFetched, case_metadata
from caseharvest.archive.catalog import CaptureRow, Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.run import ArchiveRun
from caseharvest.archive.search_index import index_case
from caseharvest.capture.http_capture import Capture as ArchivedCapture
from caseharvest.capture.http_capture import read_capture
from caseharvest.capture.record_framing import GZIP_MEMBER, PLAIN, RecordLocation
from caseharvest.extract import ExtractedPage
from caseharvest.model import CaseKey, CaseStatus

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"


class ArchiveOriginals:
    """Finds a revisit's original among the captures an archive already holds."""

    def __init__(self, catalog: Catalog, layout: ArchiveLayout) -> None:
        self.catalog = catalog
        self.layout = layout
        self.paths: dict[str, Path | None] = {}

    def lookup(self, revisit: ArchivedCapture) -> ArchivedCapture | None:
        """An ``OriginalLookup`` hook for ``archive_walk.iter_captures``."""
        row = self._row(revisit)
        if row is None:
            return None
        location = self.location(row)
        if location is None:
            return None
        try:
            return read_capture(location)
        except (OSError, ValueError) as exc:
            logger.warning("original of %s unreadable: %s", revisit.target_uri, exc)
            return None

    def _row(self, revisit: ArchivedCapture) -> CaptureRow | None:
        if revisit.refers_to:
            capture_id = self.catalog.capture_id(revisit.refers_to)
            if capture_id is not None:
                return self.catalog.capture(capture_id)
        url = revisit.refers_to_target_uri or revisit.target_uri
        latest = self.catalog.latest_original(url, revisit.method)
        if latest is not None and _same_digest(latest.payload_digest, revisit.payload_digest):
            return latest
        return None

    def location(self, row: CaptureRow) -> RecordLocation | None:
        """Where the archive's copy of a registered capture is."""
        if row.warc_file not in self.paths:
            found = sorted(self.layout.warc_root.glob(f"*/{row.warc_file}"))
            self.paths[row.warc_file] = found[0] if found else None
        path = self.paths[row.warc_file]
        if path is None:
            return None
        with path.open("rb") as stream:
            framing = GZIP_MEMBER if stream.read(2) == _GZIP_MAGIC else PLAIN
        return RecordLocation(str(path), row.warc_offset, row.warc_length, framing)


def _same_digest(ours: str | None, theirs: str | None) -> bool:
    if not ours or not theirs:
        return False
    algorithm, _, value = ours.partition(":")
    other_algorithm, _, other_value = theirs.partition(":")
    return algorithm.lower() == other_algorithm.lower() and value.upper() == other_value.upper()


class VersionHistory:
    """A case's versions in time order, for captures that come after later ones were archived."""

    def __init__(self, catalog: Catalog, layout: ArchiveLayout) -> None:
        self.catalog = catalog
        self.layout = layout

    def _latest_date(self, key: CaseKey) -> str | None:
        latest = self.catalog.latest_version(key)
        if latest is None:
            return None
        return str(latest.metadata.get("fetched_at") or "") or None

    def is_older(self, key: CaseKey, warc_date: str) -> bool:
        """True when the case's latest version was captured after *warc_date*."""
        latest = self._latest_date(key)
        return latest is not None and _second(warc_date) < latest

    def has_capture_in_versions(self, key: CaseKey, capture_id: int, warc_date: str) -> bool:
        """For a capture registered before: True when its case needs nothing more from it.

        A replay that failed may have registered a capture without storing its case; a rerun
        stores it then. Once the case has a version at least as new, or is recorded dead,
        the capture has been dealt with.
        """
        case = self.catalog.case(key)
        if case is None:
            return False
        if case.status is CaseStatus.DEAD:
            return True
        latest = self._latest_date(key)
        return latest is not None and latest >= _second(warc_date)

    def insert(self, run: ArchiveRun, case: CaseFetched, page: ExtractedPage | str | None) -> None:
        """Put an older capture's page among the case's versions, in time order."""
        if page is None:
            return  # a revisit: its content is what the archive already holds
        if isinstance(page, str):
            run.summary.warn(f"{case.url} (capture of {case.fetched_at}): {page}")
            return
        versions = self.catalog.versions(case.key)
        at = case.fetched_at
        before = [v for v in versions if str(v.metadata.get("fetched_at")) <= at]
        after = versions[len(before) :]
        metadata = case_metadata(case, page, len(before) + 1)
        digest = content_digest(page.text, metadata)
        neighbours = [*before[-1:], *after[:1]]
        if any(v.content_sha256 == digest for v in neighbours):
            return  # the history already holds this content at that time
        for warning in page.warnings:
            run.summary.warn(f"{case.url}: {warning}")
        latest_number = versions[-1].version
        texts = {v.version: self._text(v.metadata, v.version, latest_number) for v in after}
        history: list[tuple[int, str, str, Mapping[str, Any]]] = [
            (v.capture_id, v.content_sha256, v.text_sha256, v.metadata) for v in before
        ]
        history.append((case.capture.capture_id, digest, metadata["text_sha256"], metadata))
        newest = len(versions) + 1
        # Files first, catalog second: the moved versions' files from the highest number down.
        moved = []
        for number, version in enumerate(after, start=len(before) + 2):
            moved.append(({**version.metadata, "version": number}, version))
        for new_metadata, version in reversed(moved):
            self._write(
                new_metadata, texts[version.version], latest=new_metadata["version"] == newest
            )
        self._write(metadata, page.text, latest=False)
        history.extend((v.capture_id, v.content_sha256, v.text_sha256, m) for m, v in moved)
        self.catalog.replace_versions(case.key, history)
        # The latest version got a new number: the search index holds its metadata too.
        latest_metadata = moved[-1][0] if moved else metadata
        latest_text = texts[moved[-1][1].version] if moved else page.text
        index_case(self.catalog, case.key, latest_metadata, latest_text, defer=True)
        run.ledger.older_version_inserted(case, len(before) + 1, newest)

    def _text(self, metadata: Mapping[str, Any], version: int, latest: int) -> str:
        return read_case_text(self.layout, metadata, None if version == latest else version)

    def _write(self, metadata: Mapping[str, Any], text: str, *, latest: bool) -> None:
        key = CaseKey(str(metadata["site"]), str(metadata["column"]), str(metadata["article_id"]))
        older = None if latest else int(metadata["version"])
        txt, meta = self.layout.text_paths(key, metadata.get("published"), older)
        write_atomically(txt, text.encode("utf-8"))
        document = {name: metadata.get(name) for name in METADATA_KEYS}
        write_atomically(meta, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode())


def _second(warc_date: str) -> str:
    """A WARC-Date as `fetched_at` is written: to the second, with a ``Z``."""
    return warc_date[:19] + "Z"
