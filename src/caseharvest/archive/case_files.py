"""The text and metadata files of a case: ``<id>.txt`` / ``.json``, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from caseharvest.archive.atomic_files import write_atomically
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.model import CaseKey

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


def metadata_key(metadata: Mapping[str, Any]) -> CaseKey:
    """The case key a ``.json`` document names (its ``article_id`` is the case id)."""
    return CaseKey(str(metadata["site"]), str(metadata["column"]), str(metadata["article_id"]))


def write_case(
    layout: ArchiveLayout,
    metadata: Mapping[str, Any],
    text: str,
    previous: Mapping[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write a case's latest version; an earlier latest version moves to ``<id>.v<N>.*``."""
    key = metadata_key(metadata)
    if previous is not None:
        old_txt, old_json = layout.text_paths(key, previous.get("published"))
        kept_txt, kept_json = layout.text_paths(
            key, previous.get("published"), version=int(previous["version"])
        )
        for source, target in ((old_txt, kept_txt), (old_json, kept_json)):
            if source.exists():
                os.replace(source, target)
    txt, meta = layout.text_paths(key, metadata.get("published"))
    write_atomically(txt, text.encode("utf-8"))  # exact bytes: text_sha256 is their digest
    document = {key: metadata.get(key) for key in METADATA_KEYS}
    write_atomically(meta, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode())
    return txt, meta


def read_case_text(
    layout: ArchiveLayout, metadata: Mapping[str, Any], version: int | None = None
) -> str:
    """The stored text of a case (latest, or an older *version*)."""
    txt, _ = layout.text_paths(metadata_key(metadata), metadata.get("published"), version=version)
    return txt.read_bytes().decode("utf-8")
