"""Which case a URL is: asked of the listing sources of a profile's columns."""

from __future__ import annotations

import functools

from caseharvest.listings.base import ListingSource
from caseharvest.listings.registry import listing_source
from caseharvest.model import CaseKey
from caseharvest.sites import SiteProfile


@functools.lru_cache(maxsize=64)
def _sources(profile: SiteProfile) -> tuple[ListingSource, ...]:
    return tuple(listing_source(profile, column) for column in profile.columns)


def case_key_of(url: str, profile: SiteProfile) -> CaseKey | None:
    """The key of the case at *url* when one of *profile*'s columns has such case pages."""
    if not profile.allows(url):
        return None
    for source in _sources(profile):
        key = source.case_key(url)
        if key is not None:
            return key
    return None
