"""Where things live inside an archive folder: the one module that spells its folder names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from caseharvest.model import CaseKey

CATALOG_NAME = "catalog.sqlite3"
WARC_DIR = "warc"
INDEX_DIR = "indexes"
TEXT_DIR = "text"
REPLAY_DIR = "replay"


@dataclass(frozen=True)
class ArchiveLayout:
    """Paths of one archive.

    ``warc/<site>/`` WARC files; ``indexes/<site>/`` their CDXJ; ``text/<site>/<column>/<year>/``
    text and metadata of cases; the catalog, ``runs/`` reports, ``logs/``, ``replay/`` (pywb).
    """

    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / CATALOG_NAME

    @property
    def lock(self) -> Path:
        return self.root / ".caseharvest.lock"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def warc_root(self) -> Path:
        return self.root / WARC_DIR

    def warc_dir(self, site: str) -> Path:
        return self.warc_root / site

    def warc_sites(self) -> list[str]:
        """Sites with a WARC folder, sorted."""
        root = self.warc_root
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def text_dir(self, site: str) -> Path:
        return self.root / TEXT_DIR / site

    def text_paths(
        self, key: CaseKey, published: str | None, version: int | None = None
    ) -> tuple[Path, Path]:
        """The ``.txt`` and ``.json`` of a case; *version* names an older version's files."""
        year = published[:4] if published else "undated"
        stem = key.case_id if version is None else f"{key.case_id}.v{version}"
        folder = self.text_dir(key.site) / key.column / year
        return folder / f"{stem}.txt", folder / f"{stem}.json"

    def legacy_text_paths(
        self, site: str, article_id: str, published: str | None, version: int | None = None
    ) -> tuple[Path, Path]:
        """Where 0.1 kept them: ``text/<site>/<year>/<id>.txt`` (for the upgrade)."""
        year = published[:4] if published else "undated"
        stem = article_id if version is None else f"{article_id}.v{version}"
        folder = self.text_dir(site) / year
        return folder / f"{stem}.txt", folder / f"{stem}.json"
