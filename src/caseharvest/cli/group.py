"""The `caseharvest` click group, and the option helpers every command module shares."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from caseharvest import __version__
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.run_summary import REPORTED_AT_THE_END_FLAG, RunSummary
from caseharvest.sites import (
    ProfileError,
    SiteProfile,
    UnknownSiteError,
    load_profile,
)

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_ARCHIVE = "archive"
DEMO_ARCHIVE = "archive-demo"
DEMO_DESCRIPTION = (
    "SYNTHETIC CONTENT: served by caseharvest's bundled offline replica of the site "
    "(`caseharvest demo`), not captured from the real site."
)


def archive_option(default: str = DEFAULT_ARCHIVE) -> Callable[[F], F]:
    return click.option(
        "--archive",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("CASEHARVEST_ARCHIVE") or default,
        show_default=f"$CASEHARVEST_ARCHIVE, else ./{default}",
        help="Archive folder (WARC files, text, catalog).",
    )


def existing_archive(archive: Path) -> Path:
    layout = ArchiveLayout(archive)
    if not layout.catalog.exists():
        if layout.warc_sites():
            raise click.ClickException(
                f"{archive} holds WARC files but no catalog.sqlite3: the next `caseharvest "
                f"fetch --archive {archive}` rebuilds it from them (or `caseharvest replay "
                f"{layout.warc_root} --archive NEW` builds a new archive)"
            )
        raise click.ClickException(
            f"{archive} holds no caseharvest archive (no catalog.sqlite3); "
            "run `caseharvest fetch --archive DIR` first, or pass the right --archive"
        )
    return archive


def profiles_option() -> Callable[[F], F]:
    return click.option(
        "--profiles",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="A folder of your own site profiles (*.toml), besides $CASEHARVEST_PROFILES.",
    )


def load_profiles(
    names: Sequence[str], profiles: Path | None = None, column: str | None = None
) -> list[SiteProfile]:
    try:
        loaded = [load_profile(name, profiles) for name in (names or ("shandong",))]
        if column is not None:
            if len(loaded) != 1:
                raise click.UsageError("--column picks a column of one site: name one SITE")
            loaded = [loaded[0].with_columns((loaded[0].column_by_id(column),))]
    except (UnknownSiteError, ProfileError) as exc:
        raise click.UsageError(str(exc)) from exc
    return loaded


def open_archive_catalog(archive: Path, *, read_only: bool = True) -> Any:
    """The archive's catalog for a command; damage and version problems become messages."""
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError
    from caseharvest.archive.upgrade import open_catalog

    try:
        return open_catalog(existing_archive(archive), read_only=read_only)
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc


def parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-s takes NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


class _OneLineFormatter(logging.Formatter):
    """Messages only: tracebacks belong in the run's log file, not on the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        # A copy: the run's log file, another handler, still gets the traceback.
        bare = logging.makeLogRecord(
            {**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None}
        )
        return super().format(bare)


def _ours_or_verbose(verbose: bool) -> Callable[[logging.LogRecord], bool]:
    """Our own messages; Scrapy's and Twisted's only with -v (their errors repeat ours)."""

    def keep(record: logging.LogRecord) -> bool:
        if getattr(record, REPORTED_AT_THE_END_FLAG, False):
            return False  # printed once with the run's other causes when it ends
        return (
            verbose or record.name.startswith("caseharvest") or record.levelno >= logging.CRITICAL
        )

    return keep


def setup_console_logging(quiet: bool, verbose: bool) -> None:
    """The terminal: one line per message, no tracebacks (the log file has everything)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(_OneLineFormatter("%(levelname)s: %(message)s"))
    handler.addFilter(_ours_or_verbose(verbose))
    logging.getLogger().addHandler(handler)


def print_summary(summary: RunSummary) -> None:
    rows = [
        ("cases listed", f"{summary.listed} (totalrecord {summary.total_record})"),
        ("new", summary.new),
        ("revised", summary.revised),
        ("unchanged", summary.unchanged),
        ("known, not fetched", summary.known),
        ("dead links (404/410)", len(summary.dead)),
        ("failed", len(summary.failed)),
        ("skipped by --limit", summary.skipped_by_limit),
        ("attachments", summary.attachments),
        ("page requisites", summary.requisites),
        ("requests", summary.requests),
        ("bytes received", f"{summary.response_bytes:,}"),
        ("WARC records", ", ".join(f"{k} {v}" for k, v in sorted(summary.records.items()))),
        ("WARC files", f"{len(summary.warc_files)} ({summary.warc_bytes:,} bytes)"),
    ]
    width = max(len(label) for label, _ in rows)
    click.echo(f"run {summary.run_id} ({summary.site})")
    for label, value in rows:
        click.echo(f"  {label.ljust(width)}  {value}")
    for name in summary.warc_files:
        click.echo(f"    {name}")
    for url, reason in summary.dead.items():
        click.echo(f"  dead: {url} ({reason})")
    for miss in summary.misses:
        click.echo(f"  not in the archive: {miss}")
    for message in summary.warnings:
        click.echo(f"  warning: {message}")


# More cases than this failing for one reason are reported in one line (the run report
# lists every URL).
MANY_FAILURES = 5


def report_failure(summary: RunSummary) -> None:
    """Each cause on one line; many cases failing for one reason make one line, not many."""
    by_reason: dict[str, list[str]] = {}
    for url, reason in summary.failed.items():
        by_reason.setdefault(reason, []).append(url)
    for cause in summary.fatal:
        click.echo(f"error: {cause}", err=True)
    for reason, urls in by_reason.items():
        if len(urls) > MANY_FAILURES:
            click.echo(f"error: {len(urls)} cases, e.g. {urls[0]}: {reason}", err=True)
        else:
            for url in urls:
                click.echo(f"error: {url}: {reason}", err=True)
    for miss in summary.misses:
        click.echo(f"error: not in the archive: {miss}", err=True)
    if summary.signal is not None:
        if summary.warc_left_open:
            state = (
                f"WARC file(s) {', '.join(summary.warc_left_open)} left open: the next run "
                "recovers them"
            )
        else:
            state = "WARC files closed"
        click.echo(f"stopped by signal {summary.signal}; {state}", err=True)


class _Group(click.Group):
    """The command group; archive and profile problems become messages, never tracebacks.

    Every command opens catalogs, profiles and folders the user named; whatever of those
    turns out damaged, too new or unwritable is reported in one line (exit 1, or 2 for a
    folder the user cannot write), here, for every command alike.
    """

    def invoke(self, ctx: click.Context) -> Any:
        from caseharvest.archive.catalog import CatalogError
        from caseharvest.archive.schema import SchemaError

        try:
            return super().invoke(ctx)
        except (CatalogError, SchemaError, ProfileError) as exc:
            raise click.ClickException(str(exc)) from exc
        except PermissionError as exc:
            where = exc.filename or "a file of the archive"
            raise click.UsageError(
                f"cannot write {where}: permission denied (pick an --archive folder you can "
                "write to)"
            ) from exc


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="caseharvest")
def cli() -> None:
    """Archive case columns of Chinese provincial commerce sites as WARC and clean text."""
