"""`caseharvest verify`: the archive is whole and says what it holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from caseharvest.archive.case_files import METADATA_KEYS
from caseharvest.archive.catalog import VersionRow
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLock
from caseharvest.archive.source_files import is_caseharvest_file, read_foreign_file
from caseharvest.archive.upgrade import open_catalog
from caseharvest.archive.warc_index import warc_files
from caseharvest.capture.conformance import check_warc_file
from caseharvest.capture.warc_writer import OPEN_SUFFIX


def verify_archive(archive: Path) -> tuple[list[str], dict[str, int]]:
    """(problems, counts checked). No problems means every check passed.

    Checks every WARC file (digests and the project's conformance checks), the catalog's own
    consistency, that every capture in the catalog points at a record with its id, and that
    every text file of every version matches its recorded sha256 and every ``.json`` file the
    version the catalog holds.
    """
    layout = ArchiveLayout(archive)
    problems: list[str] = []
    counts = {"warc_files": 0, "captures": 0, "text_files": 0}
    offsets: dict[str, dict[int, str]] = {}
    warc_root = ArchiveLayout(archive).warc_root
    # A run in progress writes its WARC file and commits as it goes: what it has open is not
    # damage, and is left for a verify after the run.
    running = ArchiveLock(archive).held_by() is not None
    being_written = set()
    for path in sorted(warc_root.glob(f"*/*.warc.gz{OPEN_SUFFIX}")):
        if running:
            being_written.add(path.name.removesuffix(OPEN_SUFFIX))
        else:
            problems.append(
                f"{path.name}: left open by an interrupted run (the next `fetch` recovers it)"
            )
    counts["in_progress"] = 0
    counts["run_in_progress"] = int(running)
    for path in warc_files(archive):
        counts["warc_files"] += 1
        offsets[path.name] = {}
        if not is_caseharvest_file(path):  # another tool's file, replayed: readable is enough
            unreadable, offsets[path.name] = read_foreign_file(path)
            problems.extend(unreadable)
            continue
        problems.extend(check_warc_file(path, offsets[path.name]))
    catalog = open_catalog(archive, read_only=True)  # verify reads; it never writes
    try:
        problems.extend(f"catalog: {line}" for line in catalog.quick_check())
        for capture in catalog.captures():
            if capture.warc_file in being_written:
                counts["in_progress"] += 1
                continue
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
        for case in catalog.iter_cases():
            for version in catalog.versions(case.key):
                counts["text_files"] += 1
                problems.extend(
                    _check_version_files(layout, case.url, case.latest_version, version)
                )
    finally:
        catalog.close()
    return problems, counts


def _check_version_files(
    layout: ArchiveLayout, url: str, latest: int, version: VersionRow
) -> list[str]:
    """Problems with the ``.txt`` and ``.json`` of one version of a case."""
    metadata = version.metadata
    older = None if version.version == latest else version.version
    txt, meta = layout.text_paths(version.key, metadata.get("published"), older)
    if not txt.exists() or not meta.exists():
        return [f"{url} version {version.version}: {txt.name} or {meta.name} is missing"]
    problems = []
    digest = hashlib.sha256(txt.read_bytes()).hexdigest()
    if digest != version.text_sha256:
        problems.append(f"{txt}: sha256 {digest} differs from the recorded {version.text_sha256}")
    try:
        document = json.loads(meta.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return [*problems, f"{meta}: not a readable JSON document ({exc})"]
    expected = {key: metadata.get(key) for key in METADATA_KEYS}
    if document != expected:
        differing = sorted(k for k in METADATA_KEYS if document.get(k) != expected.get(k))
        problems.append(
            f"{meta}: differs from the catalog's version {version.version} in "
            + ", ".join(differing or ["its keys"])
        )
    return problems
