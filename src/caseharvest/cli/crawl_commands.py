"""Commands that crawl: `fetch` (a site, or an archive with --from-warc) and `demo`."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from caseharvest.archive.layout import ArchiveLayout
from caseharvest.archive.lock import ArchiveLockedError
from caseharvest.archive.run_summary import EXIT_FAILED, EXIT_LOCKED
from caseharvest.cli.group import (
    DEMO_ARCHIVE,
    DEMO_DESCRIPTION,
    archive_option,
    cli,
    load_profiles,
    parse_settings,
    print_summary,
    profiles_option,
    report_failure,
    setup_console_logging,
)
from caseharvest.cli.progress_display import CrawlProgress
from caseharvest.sites import (
    SiteProfile,
    load_profile,
)


@cli.command()
@click.argument("sites", nargs=-1)
@archive_option()
@click.option("--column", default=None, metavar="ID", help="Only this column of the SITE.")
@click.option(
    "--column-url",
    "column_url",
    default=None,
    metavar="URL",
    help="Archive the column at URL, of any site: its CMS family is recognised from the page "
    "(the site is named after the host unless a profile names it).",
)
@click.option(
    "--case-pattern",
    "case_pattern",
    default=None,
    metavar="REGEX",
    help="With --column-url: the case links are those matching REGEX (generic list walk).",
)
@profiles_option()
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
    column_url: str | None,
    case_pattern: str | None,
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
    """Archive every case of each SITE's columns (default: shandong), or of --column-url.

    Exit codes: 0 every listed case archived (or recorded as a dead link); 1 the run failed
    (causes listed); 2 usage error; 75 another run holds the archive; 130/143 stopped by a
    signal, with WARC files closed properly.
    """
    overrides = parse_settings(setting)
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
    if column_url is not None:
        chosen = [_column_url_profile(column_url, case_pattern, sites, profiles)]
    elif case_pattern is not None:
        raise click.UsageError("--case-pattern goes with --column-url URL")
    else:
        chosen = load_profiles(sites, profiles, column)
    exit_code = _fetch(
        chosen,
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


def _column_url_profile(
    url: str, case_pattern: str | None, sites: Sequence[str], profiles: Path | None
) -> SiteProfile:
    """The profile of ``fetch [SITE] --column-url URL``; mistakes are usage errors."""
    from caseharvest.sites.profile import ProfileError, column_url_profile

    if len(sites) > 1:
        raise click.UsageError("--column-url crawls one column: name at most one SITE")
    named = load_profiles(sites, profiles)[0] if sites else None
    try:
        return column_url_profile(url, case_pattern=case_pattern or "", site=named)
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from exc


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
    setup_console_logging(quiet, verbose)
    if not run_options.get("from_warc"):
        _rebuild_missing_catalog(archive)
    progress = CrawlProgress() if not quiet and sys.stderr.isatty() else None
    try:
        summary = run_fetch(
            profiles[0],
            archive,
            overrides=overrides,
            progress=progress,
            **run_options,
        )
    except FetchUsageError as exc:
        raise click.UsageError(str(exc)) from exc
    except ArchiveLockedError as exc:
        click.echo(f"caseharvest: {exc}", err=True)
        return EXIT_LOCKED
    except (CatalogError, SchemaError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if progress is not None:
            progress.close()
    if not quiet:
        print_summary(summary)
    report_failure(summary)
    return summary.exit_code


def _rebuild_missing_catalog(archive: Path) -> None:
    """WARC files without their catalog: rebuilt from them, never a blind start."""
    from caseharvest.archive.lock import ArchiveLockedError
    from caseharvest.commands.replay import rebuild_missing_catalog

    try:
        result = rebuild_missing_catalog(archive)
    except ArchiveLockedError:
        return  # the run itself says who holds the archive
    if result is not None:
        for summary in result.summaries:
            click.echo(
                f"rebuilt the catalog of {archive} from its WARC files: {summary.new} cases "
                f"of {summary.site}",
                err=True,
            )


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
@click.option(
    "--archive",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEMO_ARCHIVE,
    show_default=True,
    help="Archive folder of the demo (never $CASEHARVEST_ARCHIVE: the content is synthetic).",
)
@click.option(
    "--site",
    "site",
    default="shandong",
    show_default=True,
    metavar="NAME",
    help="Which replica to crawl (see `python -m caseharvest.replica --help`).",
)
@click.option(
    "--cases",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Cases in the replica's column.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def demo(archive: Path, site: str, cases: int, quiet: bool) -> None:
    """Crawl a bundled offline replica of a site (one per CMS family) through the real URLs."""
    from caseharvest.replica import SITES, ReplicaConfig, ReplicaServer, build_site

    if site not in SITES:
        raise click.UsageError(f"no replica {site!r}; choose one of {', '.join(SITES)}")
    profile = _demo_profile(SITES[site].column_url)
    replica = (
        ReplicaServer(ReplicaConfig(cases=cases))
        if site == "shandong"
        else ReplicaServer(sites=[build_site(site, cases=cases)])
    )
    with replica:
        # The replica is an HTTP proxy (https through CONNECT): the crawl uses the site's real
        # URLs, served locally.
        os.environ["http_proxy"] = os.environ["https_proxy"] = replica.proxy_url
        for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY", "HTTPS_PROXY"):
            os.environ.pop(name, None)
        if not quiet:
            host = profile.allowed_hosts[0]
            click.echo(f"replica of {host} ({SITES[site].description}) on {replica.proxy_url}")
        overrides = {
            # Politeness protects real sites; the local replica needs no delay.
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_ENABLED": "False",
            "CASEHARVEST_WARCINFO_DESCRIPTION": DEMO_DESCRIPTION,
        }
        exit_code = _fetch([profile], archive, overrides, quiet=quiet)
    if not quiet:
        layout = ArchiveLayout(archive)
        click.echo("")
        click.echo(f"WARC files:   {layout.warc_dir(profile.name)}")
        click.echo(f"clean text:   {layout.text_dir(profile.name)}")
        click.echo(f"catalog:      {layout.catalog}")
        click.echo(
            f"export:       caseharvest export --archive {archive} --format csv -o cases.csv"
        )
    sys.exit(exit_code)


def _demo_profile(column_url: str) -> SiteProfile:
    """The bundled profile (and column) crawling a replica's column."""
    from urllib.parse import urldefrag

    from caseharvest.sites import available_sites

    for name in available_sites():
        profile = load_profile(name)
        for column in profile.columns:
            if urldefrag(column.url)[0] == column_url:
                return profile.with_columns((column,))
    # A replica no bundled profile covers: its column is recognised at crawl time.
    from caseharvest.sites.profile import column_url_profile

    return column_url_profile(column_url)
