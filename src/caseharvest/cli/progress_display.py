"""The live progress line of a crawl on a terminal, drawn by tqdm.

Cases done out of cases to fetch (the total grows as the listing is read), with requests,
errors, the rate and an estimate of the time left. Shown only on a terminal and without -q:
cron mails and log files get none of it.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tqdm import tqdm

from caseharvest.archive.run_summary import RunSummary

FALLBACK_WIDTH = 100
FALLBACK_ROWS = 24


def _terminal_width(stream: TextIO) -> int:
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return 0
    return size.columns if size.lines else 0


class CrawlProgress:
    """Fed the run's summary twice a second by the crawl (``run_fetch(progress=…)``)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.bar: tqdm | None = None

    def __call__(self, summary: RunSummary) -> None:
        done = (
            summary.new
            + summary.revised
            + summary.unchanged
            + len(summary.dead)
            + len(summary.withdrawn)
            + len(summary.failed)
        )
        # Cases this run fetches: listed and not already archived, plus revalidations.
        total = max(done, summary.listed - summary.known - summary.skipped_by_limit)
        total += summary.revalidated
        if self.bar is None:
            width = _terminal_width(self.stream)
            self.bar = tqdm(
                total=total or None,
                desc=summary.site,
                unit="case",
                file=self.stream,
                # A terminal that reports no size (a fresh pseudo-terminal) would get an
                # empty line from tqdm (no room for the bar): a fixed size instead.
                ncols=None if width else FALLBACK_WIDTH,
                nrows=None if width else FALLBACK_ROWS,
                dynamic_ncols=bool(width),
                leave=True,
            )
        if total and total != self.bar.total:
            self.bar.total = total
        self.bar.set_postfix(requests=summary.requests, errors=len(summary.failed), refresh=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """End the line (the summary follows on the next one)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
