"""The `caseharvest` command: options become calls, results become messages and exit codes.

One module per family of commands; importing them registers their commands on the group.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from caseharvest.archive.run_summary import EXIT_FAILED, EXIT_USAGE
from caseharvest.cli import (  # noqa: F401  (registers commands)
    archive_commands,
    crawl_commands,
    find_commands,
    probe_commands,
    schedule_commands,
)
from caseharvest.cli.group import cli


def main(args: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of ``python -m caseharvest``."""
    try:
        cli.main(args=args, prog_name="caseharvest", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)


__all__ = ["EXIT_FAILED", "EXIT_USAGE", "cli", "main"]
