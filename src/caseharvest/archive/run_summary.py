"""What one run did, counted as it goes; the CLI prints it and the run report stores it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Log records of a cause the command prints itself when the run ends (``extra=`` of a log
# call): the terminal shows each cause once; the run's log file has it where it happened.
REPORTED_AT_THE_END_FLAG = "reported_at_the_end"
REPORTED_AT_THE_END = {REPORTED_AT_THE_END_FLAG: True}

# Exit codes, documented in README ("Exit codes").
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


@dataclass
class RunSummary:
    """Counters and findings of one run."""

    run_id: str = ""
    site: str = ""
    started_at: str = ""
    ended_at: str = ""
    listed: int = 0
    total_record: int | None = None
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    known: int = 0
    revalidated: int = 0
    withdrawn: list[str] = field(default_factory=list)
    full_walk: bool = False
    full_walk_columns: list[str] = field(default_factory=list)
    skipped_by_limit: int = 0
    dead: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    fatal: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    response_bytes: int = 0
    warc_bytes: int = 0
    records: dict[str, int] = field(default_factory=dict)
    warc_files: list[str] = field(default_factory=list)
    attachments: int = 0
    misses: list[str] = field(default_factory=list)  # `--from-warc`: not in the archive
    requisites: int = 0
    signal: int | None = None
    warc_left_open: list[str] = field(default_factory=list)  # `.open` files when the run ended

    def fail(self, url: str, reason: str) -> None:
        """Record a case or resource that could not be archived."""
        self.failed[url] = reason

    def count_capture(self, record_type: str | None, body_bytes: int, with_request: bool) -> None:
        """One answer received (and, with a *record_type*, archived as that record type)."""
        self.requests += 1
        self.response_bytes += body_bytes
        if record_type is not None:
            self.records[record_type] = self.records.get(record_type, 0) + 1
        if with_request:
            self.records["request"] = self.records.get("request", 0) + 1

    def warn(self, message: str) -> None:
        """Record something a user should look at, without failing the run."""
        if message not in self.warnings:
            self.warnings.append(message)

    @property
    def exit_code(self) -> int:
        """0 when everything listed was archived or recorded dead; 1 otherwise; signals win."""
        if self.signal is not None:
            return EXIT_SIGINT if self.signal == 2 else EXIT_SIGTERM
        if self.fatal or self.failed or self.misses:
            return EXIT_FAILED
        return EXIT_OK

    def causes(self) -> list[str]:
        """Every reason the run failed, one line each."""
        return [
            *self.fatal,
            *(f"{url}: {reason}" for url, reason in self.failed.items()),
            *(f"not in the archive: {miss}" for miss in self.misses),
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the run report and the catalog."""
        return {**asdict(self), "exit_code": self.exit_code}
