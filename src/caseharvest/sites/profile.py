"""Load site profiles (data files beside this module) into typed objects."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from caseharvest.extract import ExtractionRules

LISTING_STYLES = ("hanweb-jpage",)


class UnknownSiteError(LookupError):
    """Raised for a site name that has no profile."""


@dataclass(frozen=True)
class ColumnProfile:
    """One listing column of a site."""

    id: str
    name: str
    url: str


@dataclass(frozen=True)
class SiteProfile:
    """Everything the crawler and the extractor need to know about one site."""

    name: str
    title: str
    origin: str
    allowed_hosts: tuple[str, ...]
    listing_style: str
    column: ColumnProfile
    extraction: ExtractionRules = field(default_factory=ExtractionRules)

    def allows(self, url: str) -> bool:
        """True when *url* is on a host this profile lets the crawler fetch."""
        host = (urlsplit(url).hostname or "").lower()
        return host in self.allowed_hosts

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> SiteProfile:
        """Build a profile from the parsed TOML table, with clear errors for bad data."""
        try:
            column = ColumnProfile(
                id=str(data["column"]["id"]),
                name=str(data["column"]["name"]),
                url=str(data["column"]["url"]),
            )
            profile = cls(
                name=str(data["name"]),
                title=str(data["title"]),
                origin=str(data["origin"]).rstrip("/"),
                allowed_hosts=tuple(str(h).lower() for h in data["allowed_hosts"]),
                listing_style=str(data["listing_style"]),
                column=column,
                extraction=ExtractionRules.from_mapping(data.get("extract", {})),
            )
        except KeyError as exc:
            raise ValueError(f"site profile lacks the key {exc.args[0]!r}") from exc
        if profile.listing_style not in LISTING_STYLES:
            raise ValueError(
                f"site {profile.name!r}: unknown listing_style {profile.listing_style!r} "
                f"(known: {', '.join(LISTING_STYLES)})"
            )
        if not profile.allows(profile.column.url):
            raise ValueError(f"site {profile.name!r}: column URL is not on an allowed host")
        return profile


def available_sites() -> list[str]:
    """Names of every bundled site profile, sorted."""
    folder = resources.files(__package__)
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def load_profile(name: str) -> SiteProfile:
    """Load the bundled profile called *name*."""
    if name not in available_sites():
        raise UnknownSiteError(
            f"no site profile {name!r}; known sites: {', '.join(available_sites())} "
            "(see `caseharvest sites`)"
        )
    text = resources.files(__package__).joinpath(f"{name}.toml").read_text("utf-8")
    return SiteProfile.from_mapping(tomllib.loads(text))
