"""Which case a URL is: asked of the listing sources of a profile's columns."""

from __future__ import annotations

import functools

from caseharvest.listings.base import ListingSource
from caseharvest.model import CaseKey
from caseharvest.sites.profile import SiteProfile


@functools.lru_cache(maxsize=64)
def _sources(profile: SiteProfile) -> tuple[ListingSource, ...]:
    return tuple(profile.listing_source(column) for column in profile.columns)


def case_key_of(url: str, profile: SiteProfile) -> CaseKey | None:
    """The key of the case at *url* when one of *profile*'s columns has such case pages."""
    if not profile.allows(url):
        return None
    for source in _sources(profile):
        key = source.case_key(url)
        if key is not None:
            return key
    return None
