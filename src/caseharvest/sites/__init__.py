"""Site profiles: one TOML file per site, loaded into a typed :class:`SiteProfile`."""

from __future__ import annotations

from caseharvest.sites.profile import (
    ColumnProfile,
    ProfileError,
    SiteProfile,
    UnknownSiteError,
    all_profiles,
    available_sites,
    load_profile,
    load_profile_file,
    profile_for_url,
    rules_for_url,
    user_profile_folders,
)

__all__ = [
    "ColumnProfile",
    "ProfileError",
    "SiteProfile",
    "UnknownSiteError",
    "all_profiles",
    "available_sites",
    "load_profile",
    "load_profile_file",
    "profile_for_url",
    "rules_for_url",
    "user_profile_folders",
]
