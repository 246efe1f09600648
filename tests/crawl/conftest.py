"""What the crawl's unit tests share: a started run of the Shandong profile, a given pool."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from caseharvest.archive.run import ArchiveRun
from caseharvest.crawl.case_reader import CaseReader
from caseharvest.extract import ExtractionRules
from caseharvest.sites import load_profile


@pytest.fixture
def run(tmp_path: Path) -> Iterator[ArchiveRun]:
    """A run of the Shandong profile started in a new archive (lock held, catalog open)."""
    started = ArchiveRun.start(load_profile("shandong"), tmp_path / "archive")
    yield started
    started.catalog.close()
    if started.lock is not None:
        started.lock.release()


class GivenPoolReader(CaseReader):
    """A reader whose worker pool is the one given (the crawl's readers, as a test sees them)."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        super().__init__(ExtractionRules(), workers=1)
        self.given = pool

    def pool(self) -> ProcessPoolExecutor | None:
        return self.given
