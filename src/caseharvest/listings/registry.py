"""``listing_style`` name → listing source class, loaded lazily (as Scrapy's download handlers).

A new CMS family is one module with a ListingSource class, and one line here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caseharvest.listings.base import ColumnScope, ListingSource, SiteScope

LISTING_SOURCES: dict[str, str] = {
    "hanweb-jpage": "caseharvest.listings.hanweb_jpage:HanwebJpageSource",
    "trs-static": "caseharvest.listings.trs_static:TrsStaticSource",
    "hanweb-jpaas": "caseharvest.listings.hanweb_jpaas:HanwebJpaasSource",
    "gd-nfcms": "caseharvest.listings.guangdong_nfcms:GuangdongNfcmsSource",
    "gd-gkmlpt": "caseharvest.listings.guangdong_gkmlpt:GuangdongGkmlptSource",
    "generic": "caseharvest.listings.generic_list:GenericListSource",
    # The family recognised from the column page at crawl time (`fetch --column-url`).
    "auto": "caseharvest.listings.auto_family:AutoFamilySource",
}


class UnknownListingStyleError(LookupError):
    """A profile names a listing style no source implements."""


def listing_styles() -> tuple[str, ...]:
    """Every listing style a profile may name."""
    return tuple(LISTING_SOURCES)


def listing_source(site: SiteScope, column: ColumnScope, style: str) -> ListingSource:
    """A fresh listing source of *style* for one walk of *column*."""
    try:
        path = LISTING_SOURCES[style]
    except KeyError:
        raise UnknownListingStyleError(
            f"unknown listing_style {style!r} (known: {', '.join(LISTING_SOURCES)})"
        ) from None
    module_name, _, class_name = path.partition(":")
    source_class = getattr(importlib.import_module(module_name), class_name)
    source: ListingSource = source_class(site, column)
    return source
