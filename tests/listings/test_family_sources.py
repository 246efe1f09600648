"""The listing sources of each CMS family and the family recognition, on replica pages.

Each source is driven the way the column walk drives it (start → answers → parse/stalled),
with answers fetched from a replica in this process: no crawl, no Scrapy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from caseharvest.listings.base import ListingAnswer, ListingPage, ListingRequest
from caseharvest.listings.families import recognize
from caseharvest.listings.generic_list import next_page
from caseharvest.listings.html_items import parse_html
from caseharvest.listings.registry import listing_source
from caseharvest.replica import (
    FamilySite,
    GenericConfig,
    GenericSite,
    GkmlptConfig,
    GkmlptSite,
    HanwebVariantConfig,
    HanwebVariantSite,
    JpaasConfig,
    JpaasSite,
    NfcmsConfig,
    NfcmsSite,
    ReplicaServer,
    TrsSite,
)
from caseharvest.replica.hanweb_variants import JIANGXI_CONFIG
from caseharvest.replica.registry import FUJIAN_TRS, HUBEI_TRS
from caseharvest.sites.profile import column_url_profile
from tests.replica.client import get


def answer_of(server: ReplicaServer, request: ListingRequest) -> ListingAnswer:
    body = None
    if request.form is not None:
        from urllib.parse import urlencode

        body = urlencode(list(request.form)).encode()
    reply = get(server, request.url, method=request.method, body=body)
    text = reply.content.decode("gb18030" if b"charset=gbk" in reply.content[:400] else "utf-8")
    headers = {k.lower(): v for k, v in reply.headers}
    return ListingAnswer(request, request.url, reply.status, text, headers)


def walk(server: ReplicaServer, source: Any) -> tuple[list[str], list[ListingPage]]:
    """Every record URL a whole walk reads, as ColumnWalk asks (stalled forms included)."""
    urls: list[str] = []
    pages: list[ListingPage] = []
    queue = list(source.start())
    while queue:
        request = queue.pop(0)
        answer = answer_of(server, request)
        page = source.parse(answer)
        pages.append(page)
        fresh = [r.url for r in page.records if r.url not in urls]
        if page.records and not fresh:
            queue.extend(source.stalled(answer))
            continue
        urls.extend(fresh)
        queue.extend(page.next)
        assert len(pages) < 60, "runaway walk"
    return urls, pages


def source_for(site: FamilySite, column_url: str | None = None, **kwargs: str) -> Any:
    url = column_url or site.column_url
    profile = column_url_profile(url, **kwargs)
    column = profile.column
    return listing_source(profile, column, recognize(get_page(site, url), url).style)


_PAGES: dict[str, str] = {}


def get_page(site: FamilySite, url: str) -> str:
    return _PAGES[url]


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ReplicaServer] = []

    def start(site: FamilySite, column_url: str | None = None) -> ReplicaServer:
        server = ReplicaServer(sites=[site]).start()
        servers.append(server)
        url = (column_url or site.column_url).split("#")[0]
        answer = answer_of(server, ListingRequest(url))
        _PAGES[column_url or site.column_url] = answer.text
        return server

    yield start
    for server in servers:
        server.stop()


FAMILIES = {
    "trs-createPageHTML": (
        lambda: TrsSite(dataclasses.replace(FUJIAN_TRS, cases=23, per_page=5)),
        "trs-static",
    ),
    "trs-countPage-gbk": (
        lambda: TrsSite(dataclasses.replace(HUBEI_TRS, cases=23, per_page=5)),
        "trs-static",
    ),
    "hanweb-twin-units-page-only": (
        lambda: HanwebVariantSite(HanwebVariantConfig(cases=23, per_page=3, group_size=2)),
        "hanweb-jpage",
    ),
    "hanweb-jiangxi": (
        lambda: HanwebVariantSite(dataclasses.replace(JIANGXI_CONFIG, cases=23, per_page=3)),
        "hanweb-jpage",
    ),
    "jpaas": (lambda: JpaasSite(JpaasConfig(cases=23, page_size=5)), "hanweb-jpaas"),
    "nfcms": (lambda: NfcmsSite(NfcmsConfig(cases=23, per_page=5)), "gd-nfcms"),
    "generic": (lambda: GenericSite(GenericConfig(cases=23, per_page=5)), "generic"),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_is_recognised_and_walked_whole_in_listing_order(serve: Any, name: str) -> None:
    make, style = FAMILIES[name]
    site = make()
    server = serve(site)
    assert recognize(_PAGES[site.column_url], site.column_url).style == style
    source = source_for(site)
    urls, pages = walk(server, source)
    # Every listed case once, in the site's order: pinned items first, twin units once, no
    # group skipped when the dataproxy ignores the record range.
    assert urls == [case.url for case in site.listed()]
    assert all(source.case_key(url) is not None for url in urls)
    titles = {r.url: (r.title, r.date) for page in pages for r in page.records}
    assert all(titles[c.url] == (c.title, c.published) for c in site.listed())


def test_gkmlpt_category_from_the_fragment_and_a_clear_error_without_one(serve: Any) -> None:
    site = GkmlptSite(GkmlptConfig(cases=130))
    url = f"{site.column_url}#2947"
    server = serve(site, url)
    assert recognize(_PAGES[url], url).style == "gd-gkmlpt"
    urls, pages = walk(server, source_for(site, url))
    assert urls == [case.url for case in site.listed()] and pages[1].total == 130
    bare = listing_source(
        column_url_profile(site.column_url), column_url_profile(site.column_url).column, "gd-gkmlpt"
    )
    with pytest.raises(Exception, match=r"#2947 开发区典型案例 \(130\)"):
        bare.parse(answer_of(server, bare.start()[0]))


def test_hanweb_uid_page_num_pages_are_walked(serve: Any) -> None:
    site = HanwebVariantSite(dataclasses.replace(JIANGXI_CONFIG, cases=11, per_page=4))
    url = f"{site.column_url}?uid={site.config.unitid}&pageNum=1"
    server = serve(site, url)
    source = source_for(site, url)
    assert source.style == "hanweb-jpage"
    urls, pages = walk(server, source)
    assert urls == [case.url for case in site.listed()] and len(pages) == 3
    assert pages[0].total == 11


def test_generic_next_page_by_text_number_or_parameter() -> None:
    base = "http://example.gov.cn/list?cat=3&pageIndex=2"
    by_text = parse_html('<a href="?cat=3&pageIndex=3">下一页</a>')
    by_text.make_links_absolute(base)
    assert next_page(by_text, base, 2) == "http://example.gov.cn/list?cat=3&pageIndex=3"
    numbered = parse_html('<a href="list_2.html">2</a><a href="list_3.html">3</a>')
    numbered.make_links_absolute("http://example.gov.cn/list_2.html")
    assert next_page(numbered, "http://example.gov.cn/list_2.html", 2).endswith("list_3.html")
    last = parse_html('<a href="list_1.html">1</a><span>下一页</span>')
    assert next_page(last, "http://example.gov.cn/list_2.html", 2) is None
