"""`caseharvest schedule`: crawls of sites put on Scrapyd nodes, one job per site."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from caseharvest.archive.run_summary import EXIT_FAILED
from caseharvest.cli.group import cli, load_profiles, parse_settings, profiles_option
from caseharvest.sites import available_sites


@cli.command()
@click.argument("sites", nargs=-1)
@click.option(
    "--scrapyd",
    "nodes",
    multiple=True,
    required=True,
    metavar="URL",
    envvar="CASEHARVEST_SCRAPYD",
    help="A Scrapyd node, http://[user:password@]host:6800 (repeatable; default "
    "$CASEHARVEST_SCRAPYD, URLs separated by spaces).",
)
@click.option(
    "--archive-root",
    default="archives",
    show_default=True,
    metavar="DIR",
    help="Where archives live on the nodes: each job writes DIR/SITE. A relative DIR is "
    "inside each Scrapyd's working folder.",
)
@click.option(
    "--project",
    default="caseharvest",
    show_default=True,
    help="The Scrapyd project caseharvest was deployed as (scrapy.cfg's [deploy] project).",
)
@click.option("--column", default=None, metavar="ID", help="Only this column of the SITE.")
@profiles_option()
@click.option("--limit", type=click.IntRange(min=0), default=0, help="Fetch at most N new cases.")
@click.option("--full", is_flag=True, help="Walk the whole listing even if nothing looks new.")
@click.option(
    "--revalidate",
    is_flag=True,
    help="Ask the site whether each known case changed (conditional requests).",
)
@click.option(
    "-s",
    "--set",
    "setting",
    multiple=True,
    metavar="NAME=VALUE",
    help="A Scrapy or CASEHARVEST_* setting for the jobs (Scrapyd's setting=NAME=VALUE).",
)
def schedule(
    sites: tuple[str, ...],
    nodes: tuple[str, ...],
    archive_root: str,
    project: str,
    column: str | None,
    profiles: Path | None,
    limit: int,
    full: bool,
    revalidate: bool,
    setting: tuple[str, ...],
) -> None:
    """Put a crawl of each SITE (default: every configured site) on Scrapyd nodes.

    One job per site, on the node the site hashes to (the same node each time while the nodes
    are the same); a site whose job is pending or running on any node, or whose archive
    another run holds, is skipped. Jobs do what `caseharvest fetch` does; see a job's outcome
    in its log or with `caseharvest status --archive DIR/SITE` on its node.

    Exit codes: 0 every site scheduled or skipped as busy; 1 a node could not be asked or
    refused a job; 2 usage error.
    """
    from caseharvest.commands.schedule import ScheduleRequest, ScrapydError, ScrapydNode
    from caseharvest.commands.schedule import schedule_sites as put_on_nodes

    names = list(sites) or available_sites(profiles)
    chosen = load_profiles(names, profiles, column)
    try:
        scrapyd_nodes = [ScrapydNode(url, project) for text in nodes for url in text.split() if url]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    settings = parse_settings(setting)
    contact = os.environ.get("CASEHARVEST_CONTACT")
    if contact and "CASEHARVEST_CONTACT" not in settings:
        settings["CASEHARVEST_CONTACT"] = contact  # the jobs run with the nodes' environment
    arguments = {
        name: value
        for name, value in (
            ("column", column),
            ("profiles", str(profiles) if profiles else None),
            ("limit", str(limit) if limit else None),
            ("full", "true" if full else None),
            ("revalidate", "true" if revalidate else None),
        )
        if value is not None
    }
    request = ScheduleRequest(
        sites=[profile.name for profile in chosen],
        archive_root=archive_root,
        arguments=arguments,
        settings=settings,
    )
    try:
        decisions = put_on_nodes(request, scrapyd_nodes, datetime.now(UTC))
    except ScrapydError as exc:
        raise click.ClickException(f"{exc}; nothing was scheduled") from exc
    failed = False
    for decision in decisions:
        if decision.job_id is not None:
            click.echo(f"{decision.site}: job {decision.job_id} on {decision.node}")
        elif decision.skipped is not None:
            click.echo(f"{decision.site}: skipped, {decision.skipped}")
        else:
            failed = True
            click.echo(f"error: {decision.site}: {decision.failed}", err=True)
    if failed:
        sys.exit(EXIT_FAILED)
