"""Indexing a WARC file while it is written, a segment at a time, in an indexer process.

Indexing a WARC file once it is closed reads it all again, on the crawl's core, while the
crawl waits: 7 % of a fast crawl's CPU. A fast crawl instead hands each finished stretch of
the file (whole exchanges: the POST bodies appended to index keys need the request record
after its response) to one indexer process as it goes. That process keeps the file's lines
and writes the sorted index when the file is closed: the same lines, in the same order, as
:func:`~caseharvest.archive.warc_index.index_warc_file` gives for the closed file.

The functions below run in the indexer process; they are top-level, for a process pool.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from caseharvest.archive.atomic_files import replaced_on_success
from caseharvest.archive.warc_index import index_path_for

# Each open WARC file's lines so far, by its final path, and the files a segment of which
# could not be indexed (their index would miss lines): this process's only state.
_LINES: dict[Path, list[str]] = {}
_BROKEN: set[Path] = set()


def segment_lines(written: Path, final: Path, start: int, end: int) -> list[str]:
    """CDXJ lines of bytes [*start*, *end*) of a WARC file, offsets counted from its start.

    *written* is the file while it is written (``.open``), *final* its name once closed: the
    file may have been renamed by the time a segment of it is read.
    """
    try:
        source = written.open("rb")
    except FileNotFoundError:
        source = final.open("rb")
    with source:
        source.seek(start)
        data = source.read(end - start)
    if len(data) != end - start:
        raise OSError(f"{final.name}: {end - start} bytes expected at {start}, {len(data)} read")
    from cdxj_indexer.main import CDXJIndexer  # preloaded in the fork server (see INDEXER_MODULES)

    out = io.StringIO()
    indexer = CDXJIndexer(out, [], post_append=True)
    indexer.process_one(io.BytesIO(data), out, final.name)
    lines = []
    for line in out.getvalue().splitlines():
        key, stamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        entry["offset"] = str(int(entry["offset"]) + start)
        lines.append(f"{key} {stamp} {json.dumps(entry)}\n")
    return lines


def add_segment(written: Path, final: Path, start: int, end: int) -> int:
    """Index a segment of *final* and keep its lines; returns how many it had."""
    try:
        lines = segment_lines(written, final, start, end)
    except Exception:
        _BROKEN.add(final)
        raise
    _LINES.setdefault(final, []).extend(lines)
    return len(lines)


def write_index(final: Path) -> Path:
    """The closed file's index, sorted, written atomically; its lines are then forgotten.

    Refused (RuntimeError) when a segment of the file could not be indexed.
    """
    lines = _LINES.pop(final, [])
    if final in _BROKEN:
        _BROKEN.discard(final)
        raise RuntimeError(f"a segment of {final.name} could not be indexed")
    lines.sort()
    target = index_path_for(final)
    target.parent.mkdir(parents=True, exist_ok=True)
    with replaced_on_success(target, sync=True) as temporary:
        temporary.write_text("".join(lines), "utf-8")
    return target
