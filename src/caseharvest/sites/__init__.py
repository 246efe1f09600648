"""Site profiles: one TOML file per site, loaded into a typed :class:`SiteProfile`."""

from __future__ import annotations

from caseharvest.sites.profile import (
    ColumnProfile,
    SiteProfile,
    UnknownSiteError,
    available_sites,
    load_profile,
)

__all__ = ["ColumnProfile", "SiteProfile", "UnknownSiteError", "available_sites", "load_profile"]
