"""A pywb collection over an archive: a config and a replay index, and no copy of any WARC.

``<archive>/replay/config.yaml`` names one collection whose index is
``<archive>/replay/index.cdxj`` (the merged CDXJ index, with 304 revisits pointing at the
capture they revalidated) and whose archive paths are the ``warc/<site>/`` folders, so pywb
reads the WARC files where they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from caseharvest.archive.atomic_files import write_atomically
from caseharvest.archive.layout import REPLAY_DIR, WARC_DIR
from caseharvest.archive.warc_index import merged_index, warc_files, write_replay_index

COLLECTION = "caseharvest"


class NothingToServeError(ValueError):
    """The archive holds no closed WARC file."""


@dataclass(frozen=True)
class PywbCollection:
    """What ``wayback`` needs: the folder to run in (it reads ``config.yaml`` there)."""

    root: Path
    name: str
    config: Path
    index: Path
    archive_paths: tuple[Path, ...]


def collection_config(index: Path, archive_paths: tuple[Path, ...]) -> dict[str, object]:
    """pywb's configuration for one collection over *archive_paths*."""
    return {
        "collections": {
            COLLECTION: {
                "index_paths": str(index),
                # pywb joins a path prefix and the index's bare file name: keep the slash.
                "archive_paths": [f"{path}/" for path in archive_paths],
            }
        },
        # Frameless replay: the archived page is the document itself (no banner frame around
        # it), so a browser, or a headless one dumping the DOM, sees the page at its URL.
        "framed_replay": False,
        "enable_memento": True,
    }


def prepare_collection(archive: Path) -> PywbCollection:
    """Write (or refresh) the pywb collection of *archive*; returns where it is."""
    archive = archive.resolve()
    warcs = warc_files(archive)
    if not warcs:
        raise NothingToServeError(
            f"{archive} holds no closed WARC file under {WARC_DIR}/; run `caseharvest fetch "
            f"--archive {archive}` first"
        )
    root = archive / REPLAY_DIR
    index = write_replay_index(merged_index(archive), root / "index.cdxj")
    archive_paths = tuple(sorted({warc.parent for warc in warcs}))
    config = root / "config.yaml"
    # JSON is YAML: no quoting rules to get wrong for paths.
    text = "# Written by `caseharvest serve`; rewritten at every start.\n" + json.dumps(
        collection_config(index, archive_paths), indent=2
    )
    write_atomically(config, (text + "\n").encode("utf-8"))
    return PywbCollection(root, COLLECTION, config, index, archive_paths)
