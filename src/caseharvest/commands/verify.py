"""`caseharvest verify`: the archive is whole and says what it holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

from caseharvest.archive.catalog import Catalog
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.capture.conformance import check_warc_file
from caseharvest.capture.warc_writer import OPEN_SUFFIX


def verify_archive(archive: Path) -> tuple[list[str], dict[str, int]]:
    """(problems, counts checked). No problems means every check passed.

    Checks every WARC file (digests and the project's conformance checks), that every capture
    in the catalog points at a record with its id, and that every text file of every version
    matches its recorded sha256.
    """
    layout = ArchiveLayout(archive)
    problems: list[str] = []
    counts = {"warc_files": 0, "captures": 0, "text_files": 0}
    offsets: dict[str, dict[int, str]] = {}
    warc_root = archive / "warc"
    for path in sorted(warc_root.glob(f"*/*.warc.gz{OPEN_SUFFIX}")):
        problems.append(
            f"{path.name}: left open by an interrupted run (the next `fetch` recovers it)"
        )
    for path in sorted(warc_root.glob("*/*.warc.gz")):
        counts["warc_files"] += 1
        offsets[path.name] = {}
        problems.extend(check_warc_file(path, offsets[path.name]))
    catalog = Catalog(layout.catalog)
    try:
        for capture in catalog.captures():
            counts["captures"] += 1
            found = offsets.get(capture.warc_file)
            if found is None:
                problems.append(
                    f"catalog capture {capture.id} ({capture.url}): WARC file "
                    f"{capture.warc_file} is missing"
                )
            elif found.get(capture.warc_offset) != capture.record_id:
                problems.append(
                    f"catalog capture {capture.id} ({capture.url}): no record "
                    f"{capture.record_id} at offset {capture.warc_offset} of "
                    f"{capture.warc_file}"
                )
        for case in catalog.cases():
            for metadata in catalog.versions(case.site, case.url):
                counts["text_files"] += 1
                older = None if metadata["version"] == case.latest_version else metadata["version"]
                txt, meta = layout.text_paths(
                    case.site, metadata.get("published"), metadata["article_id"], older
                )
                if not txt.exists() or not meta.exists():
                    problems.append(
                        f"{case.url} version {metadata['version']}: {txt.name} or "
                        f"{meta.name} is missing"
                    )
                    continue
                digest = hashlib.sha256(txt.read_bytes()).hexdigest()
                if digest != metadata["text_sha256"]:
                    problems.append(
                        f"{txt}: sha256 {digest} differs from the recorded "
                        f"{metadata['text_sha256']}"
                    )
    finally:
        catalog.close()
    return problems, counts
