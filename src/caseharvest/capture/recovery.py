"""Finish WARC files a killed run left open: cut the torn tail, rename, list their records."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from caseharvest.capture.warc_reader import TornTail, WarcRecordInfo, iter_records
from caseharvest.capture.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecoveredFile:
    """What recovery did to one left-over ``.open`` file."""

    path: Path  # final name (or the removed file's name when nothing was whole)
    records: tuple[WarcRecordInfo, ...]
    cut_bytes: int
    reason: str | None
    removed: bool


def recover_open_files(directory: Path) -> list[RecoveredFile]:
    """Close every ``*.warc.gz.open`` file in *directory* after its last whole record pair.

    A file that does not even hold its warcinfo record whole is removed: nothing in it was
    ever committed. Files are never appended to afterwards.
    """
    recovered = []
    for path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        records: list[WarcRecordInfo] = []
        tail: TornTail | None = None
        for item in iter_records(path):
            if isinstance(item, TornTail):
                tail = item
            else:
                records.append(item)
        if records and records[-1].record_type in ("response", "revisit"):
            # Killed between a response and its request record: the pair is incomplete (and
            # was never registered), so it goes too; the case is fetched again next time.
            dropped = records.pop()
            tail = tail or TornTail(dropped.offset, "a response without its request record")
        size = path.stat().st_size
        end = records[-1].offset + records[-1].length if records else 0
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        if not records or records[0].record_type != "warcinfo":
            path.unlink()
            logger.warning("removed %s: no whole record in it (%d bytes)", path.name, size)
            recovered.append(RecoveredFile(final, (), size, tail.reason if tail else None, True))
            continue
        if end < size:
            with path.open("r+b") as handle:
                handle.truncate(end)
                handle.flush()
                os.fsync(handle.fileno())
            logger.warning(
                "cut %d bytes after the last whole record of %s (%s)",
                size - end,
                path.name,
                tail.reason if tail else "trailing bytes",
            )
        os.replace(path, final)
        recovered.append(
            RecoveredFile(final, tuple(records), size - end, tail.reason if tail else None, False)
        )
    return recovered
