"""Where things live inside an archive folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from caseharvest.archive.catalog import CATALOG_NAME


@dataclass(frozen=True)
class ArchiveLayout:
    """Paths of one archive: ``warc/<site>/``, ``text/<site>/<year>/``, catalog, runs, logs."""

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

    def warc_dir(self, site: str) -> Path:
        return self.root / "warc" / site

    def text_dir(self, site: str) -> Path:
        return self.root / "text" / site

    def text_paths(
        self, site: str, published: str | None, article_id: str, version: int | None = None
    ) -> tuple[Path, Path]:
        """The ``.txt`` and ``.json`` of a case; *version* names an older version's files."""
        year = published[:4] if published else "undated"
        stem = article_id if version is None else f"{article_id}.v{version}"
        folder = self.text_dir(site) / year
        return folder / f"{stem}.txt", folder / f"{stem}.json"
