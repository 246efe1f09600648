"""Load the hand-checked extraction gold set in tests/gold/.

Each page is three files sharing a stem `NN-slug`: the page bytes as served (`.html`), the
gold clean text (`.txt`, UTF-8, one paragraph or table row per line) and the gold metadata
(`.json`). Used by tests/test_extract_gold.py and bench/extract_quality.py.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from caseharvest.extract.quality import PageFields

GOLD_DIR = Path(__file__).resolve().parent / "gold"

_STEM = re.compile(r"^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")
_SUFFIXES = (".html", ".txt", ".json")
_REQUIRED_KEYS = (
    "url",
    "content_type",
    "title",
    "published",
    "source",
    "attachments",
    "template",
    "notes",
)


@dataclass(frozen=True)
class GoldAttachment:
    """An attachment link the page offers, with its absolute URL."""

    name: str
    url: str


@dataclass(frozen=True)
class GoldPage:
    """One gold page: what the server sent and what a careful human keeps of it."""

    stem: str
    html: bytes
    url: str
    content_type: str
    text: str
    title: str
    published: str
    source: str | None
    attachments: tuple[GoldAttachment, ...]
    template: str
    notes: str

    def fields(self) -> PageFields:
        """The gold body text and metadata in the form the scorer takes."""
        return PageFields(
            text=self.text, title=self.title, published=self.published, source=self.source
        )


def _load_page(directory: Path, stem: str) -> GoldPage:
    meta: dict[str, Any] = json.loads((directory / f"{stem}.json").read_text(encoding="utf-8"))
    missing = [key for key in _REQUIRED_KEYS if key not in meta]
    if missing:
        raise ValueError(f"gold page {stem}: {stem}.json lacks {', '.join(missing)}")
    # Fails loudly on a malformed date instead of letting every comparison fail later.
    date.fromisoformat(meta["published"])
    # The .txt ends with one newline like any text file; it is not part of the gold text.
    text = (directory / f"{stem}.txt").read_text(encoding="utf-8").removesuffix("\n")
    return GoldPage(
        stem=stem,
        html=(directory / f"{stem}.html").read_bytes(),
        url=meta["url"],
        content_type=meta["content_type"],
        text=text,
        title=meta["title"],
        published=meta["published"],
        source=meta["source"],
        attachments=tuple(
            GoldAttachment(name=item["name"], url=item["url"]) for item in meta["attachments"]
        ),
        template=meta["template"],
        notes=meta["notes"],
    )


def load_gold_set(directory: Path = GOLD_DIR) -> list[GoldPage]:
    """Load every gold page in `directory` in stem order; ValueError names an incomplete page."""
    stems = sorted({path.stem for path in directory.iterdir() if path.suffix in _SUFFIXES})
    pages = []
    for stem in stems:
        if not _STEM.match(stem):
            raise ValueError(f"gold file name {stem!r} is not NN-slug")
        absent = [
            stem + suffix for suffix in _SUFFIXES if not (directory / (stem + suffix)).is_file()
        ]
        if absent:
            raise ValueError(f"gold page {stem}: missing {', '.join(absent)}")
        pages.append(_load_page(directory, stem))
    return pages
