"""Commands over an archive: `export`, `serve`, `replay`, `status`, `verify`, `sites`."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLockedError
from caseharvest.archive.run_summary import EXIT_FAILED, EXIT_LOCKED
from caseharvest.cli.group import (
    archive_option,
    cli,
    existing_archive,
    open_archive_catalog,
    print_summary,
    profiles_option,
    report_failure,
)
from caseharvest.sites import (
    ProfileError,
    available_sites,
    load_profile,
)


@cli.command()
@archive_option()
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
        _export_wacz(existing_archive(archive), wacz, site, output)
        return
    rows = export_rows(existing_archive(archive), site=site, all_versions=all_versions)
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
@archive_option()
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

    archive = existing_archive(archive)
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


@cli.command()
@archive_option()
@profiles_option()
def sites(archive: Path, profiles: Path | None) -> None:
    """List the site profiles, bundled and your own (with the cases --archive holds of each)."""
    from caseharvest.model import CaseStatus

    counts: dict[str, int] = {}
    if ArchiveLayout(archive).catalog.exists():
        catalog = open_archive_catalog(archive)
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
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@archive_option()
@click.option(
    "--into",
    is_flag=True,
    help="Add the captures to the existing --archive (older captures become older versions; "
    "captures it holds add nothing) instead of building a new archive.",
)
@profiles_option()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Extraction processes (default: one per core).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def replay(
    sources: tuple[Path, ...],
    archive: Path,
    into: bool,
    profiles: Path | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Rebuild text, metadata and catalog in --archive from web archive files, offline.

    SOURCES are WARC, ARC or WACZ files, whoever wrote them (caseharvest, wget, Heritrix,
    warcio, Browsertrix …), or folders holding them (e.g. archive/warc). Case pages of every
    known site profile are recognised in them; the files are linked (else copied) into the
    archive and indexed.
    """
    from caseharvest.archive.source_files import SourceError, find_warc_files
    from caseharvest.commands.replay import replay as run_replay

    if into and not ArchiveLayout(archive).catalog.exists():
        raise click.UsageError(f"--into adds to an existing archive; {archive} holds none")
    try:
        total = sum(path.stat().st_size for path in find_warc_files(list(sources)))
        if not quiet and sys.stderr.isatty():
            with click.progressbar(length=total, label="replaying", file=sys.stderr) as bar:
                read = [0]

                def advance(done: int) -> None:
                    bar.update(done - read[0])
                    read[0] = done

                result = run_replay(
                    list(sources),
                    archive,
                    workers=workers,
                    into=into,
                    profiles=profiles,
                    progress=advance,
                )
        else:
            result = run_replay(
                list(sources), archive, workers=workers, into=into, profiles=profiles
            )
    except SourceError as exc:
        raise click.UsageError(str(exc)) from exc
    except ArchiveLockedError as exc:
        click.echo(f"caseharvest: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except OSError as exc:
        raise click.ClickException(f"replay stopped: {exc}") from exc
    for summary in result.summaries:
        if not quiet:
            print_summary(summary)
        report_failure(summary)
    if not result.summaries:
        for damage in result.damaged:
            click.echo(f"error: {damage}", err=True)
        if not result.damaged:
            click.echo("error: no capture of a known site's pages in the sources", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(result.exit_code)


@cli.command()
@archive_option()
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

    catalog = open_archive_catalog(archive)
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
@archive_option()
def verify(archive: Path) -> None:
    """Check every WARC file, catalog entry and text file; exit 1 listing any problem."""
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError
    from caseharvest.commands.verify import verify_archive

    try:
        problems, counts = verify_archive(existing_archive(archive))
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if counts.get("run_in_progress"):
        click.echo(
            f"a run is in progress: {counts['in_progress']} captures in the WARC file it is "
            "writing were not checked (verify again after the run)",
            err=True,
        )
    click.echo(
        f"checked {counts['warc_files']} WARC files, {counts['captures']} catalog captures, "
        f"{counts['text_files']} text files: "
        + (f"{len(problems)} problems" if problems else "all good")
    )
    if problems:
        raise SystemExit(EXIT_FAILED)
