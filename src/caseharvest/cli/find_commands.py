"""Commands for finding and comparing cases: `search`, `reindex`, `history`, `diff`,
`report`, `browse`."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import click

from caseharvest.archive.run_summary import EXIT_LOCKED
from caseharvest.cli.group import archive_option, cli, existing_archive

HIGHLIGHT = {"bold": True, "fg": "red"}


def _say(message: str) -> None:
    click.echo(message, err=True)


def _catalog_problems() -> tuple[type[Exception], ...]:
    from caseharvest.archive.catalog import CatalogError
    from caseharvest.archive.schema import SchemaError

    return CatalogError, SchemaError


def _date_option(name: str, help_text: str) -> Any:
    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from caseharvest.commands.search import DateError, check_date

        if value is None:
            return None
        try:
            return check_date(value)
        except DateError as exc:
            raise click.BadParameter(str(exc)) from exc

    return click.option(name, default=None, metavar="DATE", callback=check, help=help_text)


def _styled(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    out, at = [], 0
    for start, end in spans:
        out += [text[at:start], click.style(text[start:end], **HIGHLIGHT)]  # type: ignore[arg-type]
        at = end
    out.append(text[at:])
    return "".join(out)


@cli.command()
@click.argument("query")
@archive_option()
@click.option("--site", default=None, help="Only this site's cases.")
@click.option("--column", default=None, help="Only this column's cases (its id).")
@_date_option("--since", "Only cases published on or after DATE (YYYY[-MM[-DD]]).")
@_date_option("--until", "Only cases published on or before DATE (YYYY[-MM[-DD]]).")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Show at most N cases (0: all).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
)
def search(
    query: str,
    archive: Path,
    site: str | None,
    column: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Full-text search of every case's latest title and text, best match first.

    QUERY holds words, all of which must occur (招商 飞地); "quoted phrases" match exactly;
    AND, OR, NOT and parentheses combine them. Words match inside longer words, as Chinese
    needs. A run of four or more Chinese characters also finds cases holding its
    two-character pieces apart, after those holding it whole. No match prints nothing.
    """
    from caseharvest.archive.search_index import SearchFilters
    from caseharvest.archive.search_query import QuerySyntaxError
    from caseharvest.commands.search import search_archive, write_csv, write_jsonl

    filters = SearchFilters(site=site, column=column, since=since, until=until)
    try:
        hits = search_archive(existing_archive(archive), query, filters, limit, report=_say)
    except QuerySyntaxError as exc:
        raise click.UsageError(f"QUERY: {exc}") from exc
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    if fmt == "table":
        for number, hit in enumerate(hits, 1):
            gone = f"  (withdrawn {hit.withdrawn_at})" if hit.withdrawn_at else ""
            click.echo(
                f"{number}. {hit.published or 'undated'}  {hit.key}  "
                f"{_styled(hit.title.text, hit.title.spans)}{gone}"
            )
            click.echo(f"   {_styled(hit.snippet.text, hit.snippet.spans)}")
            click.echo(f"   {hit.url}")
        return
    if not hits:
        return
    buffer = io.StringIO(newline="")
    (write_csv if fmt == "csv" else write_jsonl)(hits, buffer)
    # Bytes, so the encoding (and the CSV's BOM) does not depend on the terminal's locale.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    click.echo(buffer.getvalue().encode(encoding), nl=False)


@cli.command()
@archive_option()
def reindex(archive: Path) -> None:
    """Rebuild the full-text index of `search` from the archive's text files."""
    from caseharvest.archive.lock import ArchiveLockedError
    from caseharvest.commands.search import reindex_archive

    try:
        stats = reindex_archive(existing_archive(archive))
    except ArchiveLockedError as exc:
        click.echo(f"caseharvest: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    missing = len(stats.missing_text)
    click.echo(
        f"indexed {stats.cases} cases"
        + (
            f"; {missing} text files missing (indexed by title; run `caseharvest verify`)"
            if missing
            else ""
        )
    )


def _where(site: str, capture: Any) -> str:
    return f"warc/{site}/{capture.warc_file} @ {capture.warc_offset}"


@cli.command()
@click.argument("case")
@archive_option()
def history(case: str, archive: Path) -> None:
    """List the versions of CASE (its URL, or SITE/COLUMN/ID) and every capture of its page."""
    from caseharvest.commands.case_history import CaseNotFoundError, case_history

    try:
        found = case_history(existing_archive(archive), case)
    except CaseNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    row = found.case
    gone = f"  withdrawn {row.withdrawn_at}" if row.withdrawn_at else ""
    click.echo(f"{row.key}  {row.url}  ({row.status}){gone}")
    for entry in found.versions:
        latest = " (latest)" if entry.latest else ""
        click.echo(
            f"  v{entry.number}{latest}  captured {entry.capture.warc_date}  "
            f"{_where(row.site, entry.capture)} ({entry.capture.record_type})  {entry.title}"
        )
    if not found.versions:
        click.echo("  no version archived" + (f": {row.reason}" if row.reason else ""))
    click.echo(f"captures of the page ({len(found.captures)}):")
    for capture in found.captures:
        click.echo(
            f"  {capture.warc_date}  {capture.method} {capture.status} {capture.record_type}  "
            f"{_where(row.site, capture)}"
        )


_DIFF_COLOURS = {"+": "green", "-": "red", "@": "cyan"}


@cli.command()
@click.argument("case")
@archive_option()
@click.option("--from", "old", type=click.IntRange(min=1), default=None, help="Older version N.")
@click.option("--to", "new", type=click.IntRange(min=1), default=None, help="Newer version M.")
def diff(case: str, archive: Path, old: int | None, new: int | None) -> None:
    """Show what changed in CASE (its URL, or SITE/COLUMN/ID) between two versions.

    Metadata changes first, then the text as a unified diff (one paragraph per line);
    by default the last two versions.
    """
    from caseharvest.commands.case_history import (
        CaseNotFoundError,
        NothingToCompareError,
        VersionChoiceError,
        case_diff,
    )

    try:
        found = case_diff(existing_archive(archive), case, old, new)
    except NothingToCompareError as exc:
        _say(str(exc))
        return
    except VersionChoiceError as exc:
        raise click.UsageError(str(exc)) from exc
    except CaseNotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    site = found.case.site
    click.echo(f"{found.case.key}  {found.case.url}")
    for entry in (found.old, found.new):
        click.echo(
            f"  v{entry.number}  captured {entry.capture.warc_date}  {_where(site, entry.capture)}"
        )
    if found.metadata:
        click.echo("metadata:")
        for change in found.metadata:
            click.echo(f"  {change.key}: {change.old!r} → {change.new!r}")
    else:
        click.echo("metadata: unchanged")
    if not found.text:
        click.echo("text: unchanged")
    for line in found.text:
        colour = _DIFF_COLOURS.get(line[:1]) if not line.startswith(("+++", "---")) else None
        click.echo(click.style(line, fg=colour) if colour else line)


@cli.command()
@archive_option()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="Where to write the page.",
)
def report(archive: Path, output: Path) -> None:
    """Write one self-contained HTML page about the archive: cases published per month, each
    run's new, revised, withdrawn and failed cases, archive size, latest cases, last run's
    problems. It opens offline (no CDN)."""
    from caseharvest.commands.report import write_report

    try:
        data = write_report(existing_archive(archive), output)
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {output}: {data.cases} cases, {len(data.runs)} runs", err=True)


@cli.command()
@archive_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8001,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--serve-url",
    default="http://127.0.0.1:8080/caseharvest/",
    show_default=True,
    help="Where `caseharvest serve` replays the archive: case rows link to their pages there.",
)
def browse(archive: Path, host: str, port: int, serve_url: str) -> None:
    """Browse the catalog in Datasette until interrupted (Ctrl-C): cases with full-text
    search and facets by site, column, year and source; versions, captures and runs."""
    from caseharvest.commands.browse import BrowseError, browse_archive

    def announce(url: str) -> None:
        click.echo(f"Datasette shows the catalog at {url}catalog")
        click.echo(f"cases: {url}catalog/case_search")
        click.echo("Ctrl-C stops it.")

    try:
        code = browse_archive(
            existing_archive(archive), host=host, port=port, serve_url=serve_url, announce=announce
        )
    except BrowseError as exc:
        raise click.ClickException(str(exc)) from exc
    except _catalog_problems() as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)
