"""The text and metadata files of a case: ``<ARTID>.txt`` / ``.json``, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from caseharvest.archive.layout import ArchiveLayout

# The order of keys in every case's .json (and in export rows, before `text`).
METADATA_KEYS = (
    "url",
    "site",
    "column",
    "article_id",
    "version",
    "title",
    "published",
    "source",
    "attachments",
    "fetched_at",
    "warc_file",
    "warc_offset",
    "text_sha256",
    "extraction",
)


def sha256_text(text: str) -> str:
    """Hex SHA-256 of the UTF-8 text, as recorded in ``text_sha256``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_digest(text: str, metadata: Mapping[str, Any]) -> str:
    """What decides a new version: the text and the extracted metadata, not the capture."""
    essence = {
        "text": text,
        **{key: metadata.get(key) for key in ("title", "published", "source", "attachments")},
    }
    return hashlib.sha256(
        json.dumps(essence, ensure_ascii=False, sort_keys=True).encode("utf-8")
    ).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write *data* to *path* via a temporary file and a rename: never a half-written file.

    No fsync: a killed process never leaves a partial file this way, and syncing every text
    file cost more than the rest of storing a case. After a power loss, `verify` finds any
    file that did not reach the disk and `replay` rebuilds it from the WARC files.
    """
    # A fixed temporary name (one writer per archive holds its lock) is much cheaper than
    # mkstemp's random names, and two files are written per case.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_case(
    layout: ArchiveLayout,
    metadata: Mapping[str, Any],
    text: str,
    previous: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write a case's latest version; an earlier latest version moves to ``<ARTID>.v<N>.*``."""
    site, article_id = metadata["site"], metadata["article_id"]
    if previous is not None:
        old_txt, old_json = layout.text_paths(site, previous.get("published"), article_id)
        kept_txt, kept_json = layout.text_paths(
            site, previous.get("published"), article_id, version=int(previous["version"])
        )
        for source, target in ((old_txt, kept_txt), (old_json, kept_json)):
            if source.exists():
                os.replace(source, target)
    txt, meta = layout.text_paths(site, metadata.get("published"), article_id)
    write_atomically(txt, text.encode("utf-8"))  # exact bytes: text_sha256 is their digest
    document = {key: metadata.get(key) for key in METADATA_KEYS}
    write_atomically(meta, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode())
    return txt, meta


def read_case_text(
    layout: ArchiveLayout, metadata: Mapping[str, Any], version: int | None = None
) -> str:
    """The stored text of a case (latest, or an older *version*)."""
    txt, _ = layout.text_paths(
        metadata["site"], metadata.get("published"), metadata["article_id"], version=version
    )
    return txt.read_bytes().decode("utf-8")
