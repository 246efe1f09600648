"""What a listing source is: the protocol every CMS family's module implements.

A listing source turns one column of a site into listing requests, and the answers to them
into listing records. It knows the CMS family's paging and URL shapes and nothing of the
archive, Scrapy or the crawl policy: the column walk (``crawl/column_walk.py``) decides what
to ask for and when to stop, for every source alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from caseharvest.model import CaseKey, ListingRecord


class SiteScope(Protocol):
    """What a listing source knows of its site (a ``sites.SiteProfile`` is one).

    A protocol, not the profile class: listing sources sit below the profiles, which
    validate their ``listing_style`` against the registry here.
    """

    @property
    def name(self) -> str: ...

    @property
    def allowed_hosts(self) -> tuple[str, ...]: ...

    def allows(self, url: str) -> bool: ...


class ColumnScope(Protocol):
    """What a listing source knows of its column (a ``sites.ColumnProfile`` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def case_pattern(self) -> str: ...


class ListingError(Exception):
    """The listing cannot be read; the message names the cause for the user."""


@dataclass(frozen=True)
class ListingRequest:
    """A request for (part of) a listing, in plain values.

    ``state`` is the source's own note of what the request asks for (a page number, a record
    range); it comes back with the answer.
    """

    url: str
    method: str = "GET"
    form: tuple[tuple[str, str], ...] | None = None  # POST form fields, in order
    headers: tuple[tuple[str, str], ...] = ()
    state: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListingAnswer:
    """The answer to a :class:`ListingRequest`, as the source needs it."""

    request: ListingRequest
    url: str  # after redirects
    status: int
    text: str  # decoded body
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names

    def header(self, name: str) -> str | None:
        """A response header, matched case-insensitively."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class ListingPage:
    """What one listing answer holds.

    ``total`` is the number of cases the site says the column has, when it says one.
    ``next`` are the requests that read on from here: empty when this is the end of the listing.
    ``requisites`` are URLs the listing page needs to display (stylesheets, scripts).
    ``note`` is something the user should know (a fallback taken), recorded as a warning.
    """

    records: tuple[ListingRecord, ...]
    total: int | None
    next: tuple[ListingRequest, ...] = ()
    note: str | None = None
    # True when the answer is a step that holds no records by design (a form switch, a
    # redirect to the real listing): an empty step that is not a sign of a broken listing.
    transitional: bool = False


class ListingSource(Protocol):
    """One column's listing, read the way its CMS family serves it.

    A source object lives for one walk of one column: it may keep paging state.
    """

    style: ClassVar[str]  # the profile's ``listing_style`` naming this source
    site: SiteScope
    column: ColumnScope

    def start(self) -> list[ListingRequest]:
        """The first requests of a walk (usually the column page)."""
        ...

    def parse(self, answer: ListingAnswer) -> ListingPage:
        """Records, total and next requests of one answer; raises :class:`ListingError`."""
        ...

    def stalled(self, answer: ListingAnswer) -> list[ListingRequest]:
        """The answer brought no record not seen before: another way to ask, or nothing.

        Sites that ignore a paging parameter answer the same records again; a source that
        knows another request form returns it here (once). An empty list ends the walk.
        """
        ...

    def case_key(self, url: str) -> CaseKey | None:
        """The key of the case at *url*, or None when *url* is not a case page of the column."""
        ...

    def page_size(self) -> int:
        """Records one listing answer usually holds (read-ahead is measured in these)."""
        ...
