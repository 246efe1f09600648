"""Site profiles: TOML files (bundled beside this module, or the user's own) as typed objects.

A profile names a site, the hosts the crawler may fetch, its listing style (the CMS family's
listing source), one or more columns, and the extraction rules of its pages. User profiles live
in a folder named by ``CASEHARVEST_PROFILES`` or ``--profiles DIR``; a user profile of the same
name as a bundled one replaces it.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from caseharvest.extract import ExtractionRules
from caseharvest.listings.base import ListingSource
from caseharvest.listings.registry import listing_source, listing_styles

PROFILES_ENV = "CASEHARVEST_PROFILES"
_SITE_KEYS = {
    "name",
    "title",
    "origin",
    "allowed_hosts",
    "listing_style",
    "column",
    "columns",
    "extract",
    "evidence",
}
_COLUMN_KEYS = {"id", "name", "url", "listing_style", "case_pattern"}


class UnknownSiteError(LookupError):
    """Raised for a site name that has no profile."""


class ProfileError(ValueError):
    """A profile file cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class ColumnProfile:
    """One listing column of a site."""

    id: str
    name: str
    url: str
    listing_style: str = ""  # empty: the site's
    case_pattern: str = ""  # generic listings: a regex case URLs match


@dataclass(frozen=True)
class SiteProfile:
    """Everything the crawler and the extractor need to know about one site."""

    name: str
    title: str
    origin: str
    allowed_hosts: tuple[str, ...]
    listing_style: str
    columns: tuple[ColumnProfile, ...]
    extraction: ExtractionRules = field(default_factory=ExtractionRules)
    evidence: str = ""  # where what the profile says is known from (README's Sites table)
    source_file: str = ""  # the TOML file, for messages

    @property
    def column(self) -> ColumnProfile:
        """The first column (the only one of most profiles)."""
        return self.columns[0]

    def column_by_id(self, column_id: str) -> ColumnProfile:
        """The column called *column_id*; ``ProfileError`` naming the known ones otherwise."""
        for column in self.columns:
            if column.id == column_id:
                return column
        raise ProfileError(
            f"site {self.name!r} has no column {column_id!r}; its columns: "
            + ", ".join(f"{c.id} ({c.name})" for c in self.columns)
        )

    def with_columns(self, columns: tuple[ColumnProfile, ...]) -> SiteProfile:
        """The same site, crawling only *columns*."""
        return SiteProfile(
            name=self.name,
            title=self.title,
            origin=self.origin,
            allowed_hosts=self.allowed_hosts,
            listing_style=self.listing_style,
            columns=columns,
            extraction=self.extraction,
            evidence=self.evidence,
            source_file=self.source_file,
        )

    def listing_source(self, column: ColumnProfile) -> ListingSource:
        """A fresh listing source for one walk of *column* (its style, else the site's)."""
        return listing_source(self, column, column.listing_style or self.listing_style)

    def allows(self, url: str) -> bool:
        """True when *url* is on a host this profile lets the crawler fetch."""
        host = (urlsplit(url).hostname or "").lower()
        return host in self.allowed_hosts

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "profile") -> SiteProfile:
        """Build a profile from a parsed TOML document; errors name *source* and the key."""

        def fail(message: str) -> ProfileError:
            return ProfileError(f"{source}: {message}")

        unknown = sorted(set(data) - _SITE_KEYS)
        if unknown:
            raise fail(
                f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_SITE_KEYS))})"
            )
        for key in ("name", "title", "origin", "allowed_hosts", "listing_style"):
            if key not in data:
                raise fail(f"lacks the key {key!r}")
        hosts = data["allowed_hosts"]
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) for h in hosts):
            raise fail("allowed_hosts must be a non-empty list of host names")
        if "column" in data and "columns" in data:
            raise fail("give either [column] or [[columns]], not both")
        raw_columns = data.get("columns", [data["column"]] if "column" in data else [])
        if not isinstance(raw_columns, list) or not raw_columns:
            raise fail("needs a [column] table or at least one [[columns]] table")
        columns = []
        for index, raw in enumerate(raw_columns):
            where = "column" if "column" in data else f"columns[{index}]"
            if not isinstance(raw, Mapping):
                raise fail(f"{where} must be a table")
            extra = sorted(set(raw) - _COLUMN_KEYS)
            if extra:
                raise fail(f"{where}: unknown key(s) {', '.join(extra)}")
            for key in ("id", "name", "url"):
                if key not in raw:
                    raise fail(f"{where} lacks the key {key!r}")
            columns.append(
                ColumnProfile(
                    id=str(raw["id"]),
                    name=str(raw["name"]),
                    url=str(raw["url"]),
                    listing_style=str(raw.get("listing_style", "")),
                    case_pattern=str(raw.get("case_pattern", "")),
                )
            )
        if len({column.id for column in columns}) != len(columns):
            raise fail("two columns share one id")
        try:
            extraction = ExtractionRules.from_mapping(data.get("extract", {}))
        except (TypeError, ValueError) as exc:
            raise fail(f"[extract]: {exc}") from exc
        profile = cls(
            name=str(data["name"]),
            title=str(data["title"]),
            origin=str(data["origin"]).rstrip("/"),
            allowed_hosts=tuple(h.lower() for h in hosts),
            listing_style=str(data["listing_style"]),
            columns=tuple(columns),
            extraction=extraction,
            evidence=str(data.get("evidence", "")),
            source_file=source,
        )
        if not profile.name or "/" in profile.name or profile.name.startswith("."):
            raise fail(f"name {profile.name!r} cannot name a folder")
        for column in profile.columns:
            style = column.listing_style or profile.listing_style
            if style not in listing_styles():
                raise fail(
                    f"unknown listing_style {style!r} (known: {', '.join(listing_styles())})"
                )
            if not profile.allows(column.url):
                raise fail(f"column {column.id}: URL {column.url} is not on an allowed host")
        return profile


def user_profile_folders(extra: Path | None = None) -> list[Path]:
    """Folders of the user's own profiles: ``--profiles``, then ``$CASEHARVEST_PROFILES``."""
    folders = [extra] if extra is not None else []
    env = os.environ.get(PROFILES_ENV)
    if env:
        folders.extend(Path(part) for part in env.split(os.pathsep) if part)
    return folders


def _bundled() -> dict[str, str]:
    folder = resources.files(__package__)
    return {
        entry.name.removesuffix(".toml"): entry.read_text("utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    }


def _profile_texts(extra: Path | None) -> dict[str, tuple[str, str]]:
    """name → (where, TOML text); user folders win over the bundled profiles."""
    texts = {name: (f"bundled profile {name}.toml", text) for name, text in _bundled().items()}
    for folder in reversed(user_profile_folders(extra)):
        if not folder.is_dir():
            raise ProfileError(f"profiles folder {folder} does not exist")
        for path in sorted(folder.glob("*.toml")):
            texts[path.stem] = (str(path), path.read_text("utf-8"))
    return texts


# Profiles are read again by every lookup (the user may edit them between commands); the
# parse of the same text is kept: profiles are frozen values, and recognising a URL's site
# asks every profile.
@functools.lru_cache(maxsize=256)
def parse_profile(text: str, source: str) -> SiteProfile:
    """A profile from TOML text; ``ProfileError`` names *source* on any problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from exc
    return SiteProfile.from_mapping(data, source)


def available_sites(profiles: Path | None = None) -> list[str]:
    """Names of every profile (bundled and the user's), sorted."""
    return sorted(_profile_texts(profiles))


def load_profile(name: str, profiles: Path | None = None) -> SiteProfile:
    """Load the profile called *name* (the user's, else the bundled one)."""
    texts = _profile_texts(profiles)
    if name not in texts and host_of_site_name(name) is not None:
        # A site crawled by `fetch --column-url` without a profile (replay finds it so).
        return host_profile(name)
    if name not in texts:
        raise UnknownSiteError(
            f"no site profile {name!r}; known sites: {', '.join(sorted(texts))} "
            "(see `caseharvest sites`)"
        )
    source, text = texts[name]
    profile = parse_profile(text, source)
    if profile.name != name:
        raise ProfileError(f"{source}: name {profile.name!r} differs from the file name {name!r}")
    return profile


def load_profile_file(path: Path) -> SiteProfile:
    """A profile from a TOML file anywhere (``--profile FILE``)."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    return parse_profile(text, str(path))


def all_profiles(profiles: Path | None = None) -> list[SiteProfile]:
    """Every profile, loaded (for recognising case URLs in archives of any site)."""
    return [load_profile(name, profiles) for name in available_sites(profiles)]


def profile_for_url(url: str, profiles: Path | None = None) -> SiteProfile | None:
    """The profile whose hosts include *url*'s host (the user's first), or None."""
    for profile in all_profiles(profiles):
        if profile.allows(url):
            return profile
    return None


def rules_for_url(url: str, profiles: Path | None = None) -> ExtractionRules:
    """The extraction rules for a page at *url*: its site's, else the site-neutral defaults."""
    profile = profile_for_url(url, profiles)
    return profile.extraction if profile is not None else ExtractionRules()


# --- sites without a profile: `fetch --column-url URL` ---------------------------------------

# The listing style of a column whose family is recognised from its page at crawl time.
AUTO_STYLE = "auto"
# Rules for a site nobody wrote a profile for: the site-neutral ones, and the download scripts
# of every known family (Hanweb's downfile.jsp, the jpaas gateway's document/download).
FAMILY_RULES = ExtractionRules(attachment_paths=("downfile.jsp", "document/download"))
_HOST_SITE_NAME = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
_HANWEB_COLUMN = re.compile(r"/col/col(\d+)(?:/|$)")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def site_name_of_host(host: str) -> str:
    """The site name of a host without a profile: the host, ``-`` as ``_``.

    WARC file names begin with ``<site>-``: the name must hold no ``-``.
    """
    return host.lower().replace("-", "_")


def host_of_site_name(name: str) -> str | None:
    """The host a profile-less site name stands for, or None when *name* is no such name."""
    return name.replace("_", "-") if _HOST_SITE_NAME.match(name) else None


def column_id_of_url(url: str) -> str:
    """A column id from a column URL: Hanweb's ``colN`` number, else its last folder name."""
    path = urlsplit(url).path
    hanweb = _HANWEB_COLUMN.search(path)
    if hanweb:
        return hanweb.group(1)
    if path.startswith("/gkmlpt/"):
        return "gkmlpt"  # the key column of every gkmlpt post (listings.case_shapes)
    parts = [part for part in path.split("/") if part]
    if parts and "." in parts[-1]:
        parts.pop()  # index.html, list.shtml …
    return _UNSAFE.sub("_", parts[-1]).strip("_.") if parts else "index"


def host_profile(name: str) -> SiteProfile:
    """The profile of a site known only by its host: every column recognised at crawl time."""
    host = host_of_site_name(name)
    if host is None:
        raise UnknownSiteError(f"no site profile {name!r}")
    return SiteProfile(
        name=name,
        title=host,
        origin=f"http://{host}",
        allowed_hosts=(host,),
        listing_style=AUTO_STYLE,
        columns=(ColumnProfile("index", host, f"http://{host}/"),),
        extraction=FAMILY_RULES,
        source_file=f"no profile: the host {host}",
    )


def column_url_profile(
    url: str, *, case_pattern: str = "", site: SiteProfile | None = None
) -> SiteProfile:
    """The profile crawling the column at *url* (``fetch --column-url``).

    *site* (given, or the profile whose hosts include the URL's) names the site and its
    extraction rules; without one the site is named after the host. The column's family is
    recognised from its page at crawl time, unless *case_pattern* asks for the generic list.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProfileError(f"--column-url takes an http(s) URL, got {url!r}")
    if case_pattern:
        try:
            re.compile(case_pattern)
        except re.error as exc:
            raise ProfileError(f"--case-pattern {case_pattern!r} is not a regex: {exc}") from exc
    if site is None:
        site = profile_for_url(url) or host_profile(site_name_of_host(parts.hostname))
    elif not site.allows(url):
        raise ProfileError(
            f"{url} is not on a host of site {site.name!r} ({', '.join(site.allowed_hosts)})"
        )
    for column in site.columns:
        if column.url == url and not case_pattern:
            return site.with_columns((column,))
    column = ColumnProfile(
        id=column_id_of_url(url),
        name=column_id_of_url(url),
        url=url,
        listing_style="generic" if case_pattern else AUTO_STYLE,
        case_pattern=case_pattern,
    )
    return site.with_columns((column,))
