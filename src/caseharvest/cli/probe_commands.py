"""Commands that look before a crawl: `probe` (one column) and `extract` (one page)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from caseharvest.cli.group import cli, profiles_option
from caseharvest.sites import ProfileError, SiteProfile, UnknownSiteError


def _contact() -> str:
    from caseharvest.commands.probe import DEFAULT_CONTACT

    return os.environ.get("CASEHARVEST_CONTACT") or DEFAULT_CONTACT


def _site(site: str | None, profile: Path | None, profiles: Path | None) -> SiteProfile | None:
    from caseharvest.sites import load_profile, load_profile_file

    if site and profile:
        raise click.UsageError("give --site NAME or --profile FILE, not both")
    try:
        if profile is not None:
            return load_profile_file(profile)
        return load_profile(site, profiles) if site else None
    except (UnknownSiteError, ProfileError) as exc:
        raise click.UsageError(str(exc)) from exc


@cli.command()
@click.argument("url")
@click.option("--site", default=None, metavar="NAME", help="The profile naming this site.")
@click.option(
    "--case-pattern",
    "case_pattern",
    default="",
    metavar="REGEX",
    help="The case links are those matching REGEX (generic list).",
)
@profiles_option()
def probe(url: str, site: str | None, case_pattern: str, profiles: Path | None) -> None:
    """Show what caseharvest recognises of the column at URL, and a profile to save.

    It reads the column's first listing page and one sample case (a few requests; nothing is
    archived). `http_proxy`/`https_proxy` are honoured.
    """
    from functools import partial

    from caseharvest.commands.probe import ProbeError, http_fetch, probe_column

    named = _site(site, None, profiles)
    try:
        report = probe_column(
            url,
            case_pattern=case_pattern,
            site=named,
            fetcher=partial(http_fetch, contact=_contact()),
        )
    except ProfileError as exc:
        raise click.UsageError(str(exc)) from exc
    except ProbeError as exc:
        raise click.ClickException(str(exc)) from exc
    family = report.family
    click.echo(f"column:   {url}")
    click.echo(f"site:     {report.profile.name}")
    click.echo(f"family:   {family.name} (listing style {family.style})")
    click.echo(f"          recognised by {family.evidence}")
    click.echo("requests:")
    for line in report.requests:
        click.echo(f"  {line}")
    total = report.total if report.total is not None else "not given"
    more = "further pages follow" if report.has_next else "no further page"
    click.echo(f"records on the first page: {len(report.records)} (total {total}; {more})")
    for record in report.records[:5]:
        click.echo(f"  {record.date or '----------'}  {record.title}  {record.url}")
    if report.sample is None:
        click.echo("sample case: none could be read")
    else:
        sample = report.sample
        click.echo(f"sample case: {report.sample_url}")
        click.echo(f"  title:     {sample.title}")
        click.echo(f"  published: {sample.published}")
        click.echo(f"  source:    {sample.source}")
        click.echo(
            f"  text:      {len(sample.text)} characters ({sample.method}, {sample.confidence})"
        )
        for attachment in sample.attachments:
            click.echo(f"  attachment: {attachment.name}  {attachment.url}")
    click.echo("")
    click.echo("# ---- profile ----")
    click.echo(report.profile_toml(), nl=False)
    if not report.records:
        raise click.ClickException("no listing records on the column's first page")


@cli.command()
@click.argument("page")
@click.option("--url", default=None, help="The URL the saved PAGE was served at.")
@click.option("--site", default=None, metavar="NAME", help="Use this site profile's rules.")
@click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Use the rules of this profile file.",
)
@profiles_option()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def extract(
    page: str,
    url: str | None,
    site: str | None,
    profile: Path | None,
    profiles: Path | None,
    fmt: str,
) -> None:
    """Show what would be stored for one PAGE (a saved HTML file or an http(s) URL).

    The rules come from --profile/--site, else the profile of the page's site, else the
    site-neutral rules with every known family's download scripts.
    """
    from functools import partial

    from caseharvest.commands.probe import (
        ProbeError,
        http_fetch,
        page_metadata,
        read_page,
        rules_for_page,
    )
    from caseharvest.extract import extract_page
    from caseharvest.extract.decoding import decode_document

    named = _site(site, profile, profiles)
    try:
        body, page_url, content_type = read_page(
            page, url, fetcher=partial(http_fetch, contact=_contact())
        )
    except ProbeError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = rules_for_page(
        page_url if url or page.startswith(("http://", "https://")) else None,
        named,
        decode_document(body, content_type).text,
    )
    extracted = extract_page(body, page_url, rules=chosen.rules, content_type=content_type)
    metadata = page_metadata(extracted, page_url, chosen.site)
    if fmt == "json":
        click.echo(json.dumps(metadata, ensure_ascii=False, indent=2))
        return
    click.echo(f"rules:       {chosen.origin}")
    click.echo(f"title:       {extracted.title}")
    click.echo(f"published:   {extracted.published}")
    click.echo(f"source:      {extracted.source}")
    click.echo(f"extraction:  {extracted.method} ({extracted.confidence})")
    for attachment in extracted.attachments:
        click.echo(f"attachment:  {attachment.name}  {attachment.url}")
    for warning in extracted.warnings:
        click.echo(f"warning:     {warning}")
    click.echo("")
    click.echo(extracted.text)
