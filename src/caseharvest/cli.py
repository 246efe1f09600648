"""The `caseharvest` command: options become settings, results become messages and exit codes."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from caseharvest import __version__
from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLockedError
from caseharvest.archive.run_summary import EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE, RunSummary
from caseharvest.sites import (
    ProfileError,
    SiteProfile,
    UnknownSiteError,
    available_sites,
    load_profile,
)

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_ARCHIVE = "archive"
DEMO_ARCHIVE = "archive-demo"
DEMO_DESCRIPTION = (
    "SYNTHETIC CONTENT: served by caseharvest's bundled offline replica of the site "
    "(`caseharvest demo`), not captured from the real site."
)


def _archive_option(default: str = DEFAULT_ARCHIVE) -> Callable[[F], F]:
    return click.option(
        "--archive",
        type=click.Path(file_okay=False, path_type=Path),
        default=lambda: os.environ.get("CASEHARVEST_ARCHIVE") or default,
        show_default=f"$CASEHARVEST_ARCHIVE, else ./{default}",
        help="Archive folder (WARC files, text, catalog).",
    )


def _existing_archive(archive: Path) -> Path:
    if not ArchiveLayout(archive).catalog.exists():
        raise click.ClickException(
            f"{archive} holds no caseharvest archive (no catalog.sqlite3); "
            "run `caseharvest fetch --archive DIR` first, or pass the right --archive"
        )
    return archive


def _profiles_option() -> Callable[[F], F]:
    return click.option(
        "--profiles",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="A folder of your own site profiles (*.toml), besides $CASEHARVEST_PROFILES.",
    )


def _profiles(
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


def _open_catalog(archive: Path, *, read_only: bool = True) -> Any:
    """The archive's catalog for a command; damage and version problems become messages."""
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError
    from caseharvest.archive.upgrade import open_catalog

    try:
        return open_catalog(_existing_archive(archive), read_only=read_only)
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc


def _parse_settings(pairs: Sequence[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-s takes NAME=VALUE, got {pair!r}")
        settings[name.strip()] = value
    return settings


def _setup_console_logging(quiet: bool, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logging.getLogger().addHandler(handler)


def _progress_line(summary: RunSummary) -> None:
    done = summary.new + summary.revised + summary.unchanged + len(summary.dead)
    line = (
        f"\r{summary.site}: listed {summary.listed}/{summary.total_record or '?'}  "
        f"archived {done}  failed {len(summary.failed)}  requests {summary.requests}  "
        f"{summary.response_bytes / 1e6:.1f} MB"
    )
    click.echo(line.ljust(100), nl=False, err=True)


def _print_summary(summary: RunSummary) -> None:
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


def _report_failure(summary: RunSummary) -> None:
    for cause in summary.causes():
        click.echo(f"error: {cause}", err=True)
    if summary.signal is not None:
        click.echo(f"stopped by signal {summary.signal}; WARC files closed", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="caseharvest")
def cli() -> None:
    """Archive case columns of Chinese provincial commerce sites as WARC and clean text."""


@cli.command()
@click.argument("sites", nargs=-1)
@_archive_option()
@click.option("--column", default=None, metavar="ID", help="Only this column of the SITE.")
@_profiles_option()
@click.option("--limit", type=click.IntRange(min=0), default=0, help="Fetch at most N new cases.")
@click.option("--full", is_flag=True, help="Walk the whole listing even if nothing looks new.")
@click.option(
    "--revalidate",
    is_flag=True,
    help="Ask the site whether each known case changed (conditional requests).",
)
@click.option(
    "--from-warc",
    "from_warc",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Answer every request from these WARC files or folders, not the network (repeatable).",
)
@click.option(
    "--at",
    "at",
    default=None,
    metavar="TIMESTAMP",
    help="With --from-warc: the captures current at this time (YYYYMMDDhhmmss or a "
    "prefix); default the latest.",
)
@click.option(
    "-s",
    "--set",
    "setting",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy or CASEHARVEST_* setting, as `scrapy crawl -s`.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (for cron).")
@click.option("-v", "--verbose", is_flag=True, help="Log every request to the terminal.")
def fetch(
    sites: tuple[str, ...],
    archive: Path,
    column: str | None,
    profiles: Path | None,
    limit: int,
    full: bool,
    revalidate: bool,
    from_warc: tuple[Path, ...],
    at: str | None,
    setting: tuple[str, ...],
    quiet: bool,
    verbose: bool,
) -> None:
    """Archive every case of each SITE's columns (default: shandong).

    Exit codes: 0 every listed case archived (or recorded as a dead link); 1 the run failed
    (causes listed); 2 usage error; 75 another run holds the archive; 130/143 stopped by a
    signal, with WARC files closed properly.
    """
    overrides = _parse_settings(setting)
    if (
        not quiet
        and not from_warc
        and not (os.environ.get("CASEHARVEST_CONTACT") or "CASEHARVEST_CONTACT" in overrides)
    ):
        click.echo(
            "note: set CASEHARVEST_CONTACT (e.g. mailto:you@example.org) so the site can reach "
            "whoever runs this crawl; it goes into the User-Agent and the WARC files",
            err=True,
        )
    if "CASEHARVEST_ARCHIVE" in overrides:
        archive = Path(overrides.pop("CASEHARVEST_ARCHIVE"))
    if at and not from_warc:
        raise click.UsageError("--at picks captures for --from-warc; add --from-warc SOURCE")
    exit_code = _fetch(
        _profiles(sites, profiles, column),
        archive,
        overrides,
        quiet=quiet,
        verbose=verbose,
        limit=limit,
        full=full,
        revalidate=revalidate,
        from_warc=list(from_warc),
        at=at,
    )
    sys.exit(exit_code)


def _fetch(
    profiles: Sequence[SiteProfile],
    archive: Path,
    overrides: dict[str, str],
    *,
    quiet: bool = False,
    verbose: bool = False,
    **run_options: Any,
) -> int:
    """Run one fetch (options as :func:`caseharvest.crawl.runner.run_fetch` takes them)."""
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError
    from caseharvest.crawl.runner import FetchUsageError, run_fetch

    if len(profiles) > 1:
        # Scrapy's reactor runs once per process: each site crawls in a child process of its
        # own, one after the other; the worst exit code is the command's.
        context = multiprocessing.get_context("fork")
        codes = []
        for profile in profiles:
            child = context.Process(
                target=_fetch_in_child,
                args=(profile, archive, overrides, quiet, verbose, run_options),
            )
            child.start()
            child.join()
            codes.append(child.exitcode if child.exitcode is not None else EXIT_FAILED)
        return max(codes)
    _setup_console_logging(quiet, verbose)
    show_progress = not quiet and sys.stderr.isatty()
    try:
        summary = run_fetch(
            profiles[0],
            archive,
            overrides=overrides,
            progress=_progress_line if show_progress else None,
            **run_options,
        )
    except FetchUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except ArchiveLockedError as exc:
        click.echo(f"caseharvest: {exc}", err=True)
        return EXIT_LOCKED
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc
    if show_progress:
        click.echo("", err=True)
    if not quiet:
        _print_summary(summary)
    _report_failure(summary)
    return summary.exit_code


@cli.command()
@_archive_option()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--site", default=None, help="Only this site's cases.")
@click.option("--all-versions", is_flag=True, help="Every version of each case, not the latest.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--wacz",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Instead of rows, package the WARC files, their index and a page per case as WACZ.",
)
def export(
    archive: Path,
    fmt: str,
    site: str | None,
    all_versions: bool,
    output: Path | None,
    wacz: Path | None,
) -> None:
    """Print one row per archived case: its metadata and clean text, newest first."""
    from caseharvest.commands.export import export_rows, write_csv, write_jsonl

    if wacz is not None:
        _export_wacz(_existing_archive(archive), wacz, site, output)
        return
    rows = export_rows(_existing_archive(archive), site=site, all_versions=all_versions)
    write: Callable[[list[dict[str, Any]], IO[str]], None] = (
        write_csv if fmt == "csv" else write_jsonl
    )
    # A BOM lets spreadsheet software open the CSV's Chinese text as UTF-8.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    if output is None:
        buffer = io.StringIO(newline="")
        write(rows, buffer)
        # Bytes, so the encoding (and the CSV's BOM) does not depend on the terminal's locale.
        click.echo(buffer.getvalue().encode(encoding), nl=False)
    else:
        with output.open("w", encoding=encoding, newline="") as out:
            write(rows, out)
        click.echo(f"wrote {len(rows)} cases to {output}", err=True)


def _export_wacz(archive: Path, wacz: Path, site: str | None, output: Path | None) -> None:
    from caseharvest.commands.wacz_export import NothingToExportError, write_wacz

    if output is not None:
        raise click.UsageError("--wacz writes a package, not rows: drop -o/--output")
    try:
        summary = write_wacz(archive, wacz, site=site)
    except NothingToExportError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"wrote {wacz}: {summary.warc_files} WARC files, {summary.pages} pages, "
        f"{summary.index_lines} index lines",
        err=True,
    )


@cli.command()
@_archive_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8080,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--pywb",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    metavar="PATH",
    help="pywb's `wayback` command, or the venv holding it (default: on PATH, else set up "
    "once in ~/.cache/caseharvest/tools-venv).",
)
def serve(archive: Path, host: str, port: int, pywb: Path | None) -> None:
    """Browse the archive through pywb until interrupted (Ctrl-C).

    pywb runs from its own environment, as a subprocess: it would break Scrapy's Brotli
    decoding if both shared one.
    """
    from caseharvest.commands.serve.pywb_collection import NothingToServeError, prepare_collection
    from caseharvest.commands.serve.tools_venv import ToolsSetupError, resolve_tool
    from caseharvest.commands.serve.wayback_server import (
        ArchivedPage,
        WaybackServer,
        WaybackStartError,
        serve_archive,
    )

    def announce(server: WaybackServer, pages: list[ArchivedPage]) -> None:
        click.echo(f"pywb serves the archive at {server.base_url}")
        for page in pages:
            click.echo(f"column page of {page.site}: {page.replay_url}")
        click.echo("Ctrl-C stops it.")

    archive = _existing_archive(archive)
    try:
        # The collection first: an archive with nothing to serve needs no pywb set up.
        collection = prepare_collection(archive)
        wayback = resolve_tool("wayback", pywb, report=lambda m: click.echo(m, err=True))
        code = serve_archive(
            archive, wayback, host=host, port=port, announce=announce, collection=collection
        )
    except (NothingToServeError, ToolsSetupError, WaybackStartError) as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


def _fetch_in_child(
    profile: SiteProfile,
    archive: Path,
    overrides: dict[str, str],
    quiet: bool,
    verbose: bool,
    run_options: dict[str, Any],
) -> None:
    sys.exit(_fetch([profile], archive, overrides, quiet=quiet, verbose=verbose, **run_options))


@cli.command()
@_archive_option()
@_profiles_option()
def sites(archive: Path, profiles: Path | None) -> None:
    """List the site profiles, bundled and your own (with the cases --archive holds of each)."""
    from caseharvest.model import CaseStatus

    counts: dict[str, int] = {}
    if ArchiveLayout(archive).catalog.exists():
        catalog = _open_catalog(archive)
        try:
            for case in catalog.iter_cases(status=CaseStatus.ARCHIVED):
                counts[case.site] = counts.get(case.site, 0) + 1
        finally:
            catalog.close()
    try:
        names = available_sites(profiles)
        loaded = [load_profile(name, profiles) for name in names]
    except ProfileError as exc:
        raise click.ClickException(str(exc)) from exc
    for profile in loaded:
        for column in profile.columns:
            click.echo(
                f"{profile.name}\t{profile.title}\tcolumn {column.id} {column.name}\t"
                f"{column.listing_style or profile.listing_style}\t{column.url}\t"
                f"{counts.get(profile.name, 0)} cases in {archive}"
            )


@cli.command()
@_archive_option(DEMO_ARCHIVE)
@click.option(
    "--cases",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Cases in the replica's column.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def demo(archive: Path, cases: int, quiet: bool) -> None:
    """Crawl the bundled offline replica of the Shandong column through the real URLs."""
    from caseharvest.replica import ReplicaConfig, ReplicaServer

    with ReplicaServer(ReplicaConfig(cases=cases)) as replica:
        # The replica is an HTTP proxy: the crawl uses the site's real URLs, served locally.
        os.environ["http_proxy"] = replica.proxy_url
        for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
            os.environ.pop(name, None)
        if not quiet:
            click.echo(f"replica of commerce.shandong.gov.cn serving on {replica.proxy_url}")
        overrides = {
            # Politeness protects real sites; the local replica needs no delay.
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_ENABLED": "False",
            "CASEHARVEST_WARCINFO_DESCRIPTION": DEMO_DESCRIPTION,
        }
        exit_code = _fetch([load_profile("shandong")], archive, overrides, quiet=quiet)
    if not quiet:
        layout = ArchiveLayout(archive)
        click.echo("")
        click.echo(f"WARC files:   {layout.warc_dir('shandong')}")
        click.echo(f"clean text:   {layout.text_dir('shandong')}")
        click.echo(f"catalog:      {layout.catalog}")
        click.echo(
            f"export:       caseharvest export --archive {archive} --format csv -o cases.csv"
        )
    sys.exit(exit_code)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_archive_option()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Extraction processes (default: one per core).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def replay(sources: tuple[Path, ...], archive: Path, workers: int | None, quiet: bool) -> None:
    """Rebuild text, metadata and catalog in --archive from WARC files, offline.

    SOURCES are WARC files or folders holding them (e.g. archive/warc).
    """
    from caseharvest.archive.lock import ArchiveLockedError
    from caseharvest.archive.source_files import SourceError, find_warc_files
    from caseharvest.commands.replay import replay as run_replay

    try:
        total = sum(path.stat().st_size for path in find_warc_files(list(sources)))
        if not quiet and sys.stderr.isatty():
            with click.progressbar(length=total, label="replaying", file=sys.stderr) as bar:
                read = [0]

                def advance(done: int) -> None:
                    bar.update(done - read[0])
                    read[0] = done

                summary = run_replay(list(sources), archive, workers=workers, progress=advance)
        else:
            summary = run_replay(list(sources), archive, workers=workers)
    except SourceError as exc:
        raise click.UsageError(str(exc)) from exc
    except ArchiveLockedError as exc:
        click.echo(f"caseharvest: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    if not quiet:
        _print_summary(summary)
    _report_failure(summary)
    sys.exit(summary.exit_code)


@cli.command()
@_archive_option()
@click.option(
    "-n",
    "--runs",
    "count",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many of the latest runs to show.",
)
def status(archive: Path, count: int) -> None:
    """Show the latest runs and the archive's totals; exit 1 when the last run failed."""
    from caseharvest.archive.lock import ArchiveLock

    catalog = _open_catalog(archive)
    try:
        runs, totals = catalog.runs(count), catalog.totals()
    finally:
        catalog.close()
    running = ArchiveLock(archive).held_by()
    header = (
        "run",
        "started",
        "ended",
        "exit",
        "new",
        "revised",
        "unchanged",
        "failed",
        "requests",
    )
    rows = []
    for run in runs:
        summary = run.summary or {}
        if run.exit_code is None:
            outcome = "running" if running and run is runs[0] else "killed"
        else:
            outcome = str(run.exit_code)
        rows.append(
            (
                run.id,
                run.started_at,
                run.ended_at or "-",
                outcome,
                *(str(summary.get(key, "-")) for key in ("new", "revised", "unchanged")),
                str(len(summary.get("failed", {})) if summary else "-"),
                str(summary.get("requests", "-")),
            )
        )
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        click.echo(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        )
    click.echo("")
    click.echo(
        f"archive {archive}: {totals.archived} cases archived, {totals.dead} dead links, "
        f"{totals.failed} failed, {totals.versions} versions, {totals.captures} "
        f"captures in {totals.warc_files} WARC files"
    )
    if running:
        click.echo(f"a run is in progress: {running}")
    last = rows[0][3] if rows else "0"
    if last not in ("0", "running"):
        raise SystemExit(EXIT_FAILED)


@cli.command()
@_archive_option()
def verify(archive: Path) -> None:
    """Check every WARC file, catalog entry and text file; exit 1 listing any problem."""
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError
    from caseharvest.commands.verify import verify_archive

    try:
        problems, counts = verify_archive(_existing_archive(archive))
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    click.echo(
        f"checked {counts['warc_files']} WARC files, {counts['captures']} catalog captures, "
        f"{counts['text_files']} text files: "
        + (f"{len(problems)} problems" if problems else "all good")
    )
    if problems:
        raise SystemExit(EXIT_FAILED)


def main(args: Sequence[str] | None = None) -> None:
    """Entry point of the console script and of ``python -m caseharvest``."""
    try:
        cli.main(args=args, prog_name="caseharvest", standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover - interactive
        sys.exit(130)


__all__ = ["EXIT_FAILED", "EXIT_USAGE", "cli", "main"]
