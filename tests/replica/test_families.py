"""The CMS-family replicas, driven over HTTP through the proxy (https through CONNECT + TLS)."""

from __future__ import annotations

import dataclasses
import html
import json
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import lxml.html
import pytest

from caseharvest.replica import (
    SITES,
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
    TrsConfig,
    TrsSite,
    build_site,
    load_exchanges,
)
from caseharvest.replica.__main__ import main as replica_main
from caseharvest.replica.hanweb_variants import JIANGXI_CONFIG
from caseharvest.replica.jpaas import UNIT_PATH
from tests.replica.client import get, trusting

DATAPROXY = "/module/web/jpage/dataproxy.jsp"

# One small site of each family, with the quirks the tests look for.
FAMILY_SITES: dict[str, Callable[[], FamilySite]] = {
    "trs": lambda: TrsSite(TrsConfig(cases=30)),
    "hanweb": lambda: HanwebVariantSite(HanwebVariantConfig(cases=30, per_page=5)),
    "jpaas": lambda: JpaasSite(JpaasConfig(cases=30)),
    "nfcms": lambda: NfcmsSite(NfcmsConfig(cases=30)),
    "gkmlpt": lambda: GkmlptSite(GkmlptConfig(cases=30)),
    "generic": lambda: GenericSite(GenericConfig(cases=30)),
}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ReplicaServer]]:
    """One running replica per family, shared by the read-only tests."""
    running = {name: ReplicaServer(sites=[make()]).start() for name, make in FAMILY_SITES.items()}
    yield running
    for server in running.values():
        server.stop()


def page_text(body: str) -> str:
    """Visible text of a page, whitespace removed, for "is this line on the page" checks."""
    return "".join(lxml.html.document_fromstring(body).text_content().split())


def read_all(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def squeeze(line: str) -> str:
    return "".join(line.split())


# ---------------------------------------------------------------- every family


def test_registry_names_build_their_column_urls_and_serve_them() -> None:
    assert {"fujian-trs", "jiangsu", "zhejiang", "guangdong", "guangdong-gkmlpt", "anhui"} <= set(
        SITES
    )
    for name, entry in SITES.items():
        site = entry.build(cases=6)
        assert site.column_url == entry.column_url, name
        with ReplicaServer(sites=[site]) as server:
            answer = get(server, entry.column_url)
            assert answer.status == 200, name
            assert get(server, urljoin(entry.column_url, "/robots.txt")).status == 200
    with pytest.raises(KeyError, match="fujian-trs"):
        build_site("nowhere")


def test_family_name_starts_one_site() -> None:
    with ReplicaServer(family="zhejiang") as server:
        assert isinstance(server.site, JpaasSite) and server.sites == [server.site]
        assert get(server, server.site.column_url).status == 200
    with pytest.raises(ValueError):
        ReplicaServer(sites=[], family=None)


@pytest.mark.parametrize("family", FAMILY_SITES)
def test_content_is_deterministic_per_seed(family: str) -> None:
    first, second = FAMILY_SITES[family](), FAMILY_SITES[family]()
    assert [(c.url, c.text, c.attachments) for c in first.cases] == [
        (c.url, c.text, c.attachments) for c in second.cases
    ]
    # Gold values are complete: an ISO date, a title, text lines without chrome.
    for case in first.cases:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", case.published) and case.title
        assert all(line == line.strip() and line for line in case.paragraphs)
        for marker in ("索引号", "发布机构", "成文日期", "分享到", "打印", "来源："):
            assert marker not in case.text, (family, marker)


def test_guessed_shapes_vary_with_the_seed() -> None:
    shapes = {dataclasses.astuple(TrsSite(TrsConfig(cases=3, seed=s)).shape) for s in range(12)}
    for position in range(6):
        assert len({shape[position] for shape in shapes}) > 1, position
    sizes = {JpaasSite(JpaasConfig(cases=3, seed=s)).page_size for s in range(12)}
    tags = {JpaasSite(JpaasConfig(cases=3, seed=s)).list_tag for s in range(12)}
    assert len(sizes) > 1 and len(tags) > 1
    assert (
        len({HanwebVariantSite(HanwebVariantConfig(cases=3, seed=s)).per_page for s in range(9)})
        > 1
    )
    assert len({NfcmsSite(NfcmsConfig(cases=3, seed=s)).absolute_hrefs for s in range(9)}) == 2


@pytest.mark.parametrize("family", FAMILY_SITES)
def test_every_article_shows_its_gold_values(
    servers: dict[str, ReplicaServer], family: str
) -> None:
    server = servers[family]
    site: FamilySite = server.site
    live = [c for c in site.cases if c.status == 200 and not c.flaky]
    templates = {c.template for c in live}
    assert templates == set(site.templates()), family
    seen: set[str] = set()
    for case in live:
        if case.template in seen and not case.attachments:
            continue
        seen.add(case.template)
        answer = get(server, case.url)
        assert answer.status == 200, case.url
        encoding = "gb18030" if case.encoding == "gb18030" else "utf-8"
        body = answer.text(encoding)
        shown = page_text(body)
        assert squeeze(case.title) in shown
        for line in case.paragraphs:
            for cell in line.split("\t"):
                assert squeeze(cell) in shown, (case.url, cell)
        links = {
            (a.text_content().strip(), urljoin(case.url, a.get("href", "")))
            for a in lxml.html.document_fromstring(body).iter("a")
        }
        for name, url in case.attachments:
            assert (name, url) in links, (case.url, name)
            download = get(server, url)
            assert download.status == 200 and download.content[:2] in (b"%P", b"PK"), url


@pytest.mark.parametrize("family", FAMILY_SITES)
def test_common_http_habits(family: str) -> None:
    with ReplicaServer(sites=[FAMILY_SITES[family]()]) as server:
        site: FamilySite = server.site
        dead = next(c for c in site.cases if c.status == 404)
        assert get(server, dead.url).status == 404
        flaky = next(c for c in site.cases if c.flaky)
        first = get(server, flaky.url)
        assert first.status == 503 and first.header("Retry-After") == "1"
        assert get(server, flaky.url).status == 200
        chunked = next(c for c in site.cases if c.chunked)
        server.clear_log()
        assert get(server, chunked.url).status == 200
        assert ("Transfer-Encoding", "chunked") in server.exchanges()[-1].response_headers
        plain = next(c for c in site.cases if c.status == 200 and not c.flaky and not c.gzip)
        answer = get(server, plain.url)
        etag, modified = answer.header("ETag"), answer.header("Last-Modified")
        assert etag and modified
        assert get(server, plain.url, headers={"If-None-Match": etag}).status == 304
        assert get(server, plain.url, headers={"If-Modified-Since": modified}).status == 304
        zipped = next(c for c in site.cases if c.gzip)
        compressed = get(server, zipped.url, headers={"Accept-Encoding": "gzip"})
        assert compressed.header("Content-Encoding") == "gzip"
        assert (compressed.header("ETag") or "").startswith('W/"')
        listing = get(server, site.column_url, headers={"Accept-Encoding": "gzip"})
        assert listing.status == 200 and len(listing.header_values("Set-Cookie")) >= 2
        assert listing.header("Content-Encoding") == "gzip"
        assert get(server, urljoin(site.column_url, "/no/such/page.html")).status == 404


@pytest.mark.parametrize("family", FAMILY_SITES)
def test_add_cases_and_revise(family: str) -> None:
    with ReplicaServer(sites=[FAMILY_SITES[family]()]) as server:
        site: FamilySite = server.site
        newest_before = max(c.published for c in site.cases)
        added = site.add_cases(2)
        unpinned = [c for c in site.listed() if not c.pinned]
        assert unpinned[:2] == added and all(c.published > newest_before for c in added)
        for case in added:
            assert get(server, case.url).status == 200
        target = next(c for c in site.cases if c.status == 200 and not c.flaky and not c.gzip)
        before = get(server, target.url)
        revised = site.revise(target.article_id)
        assert revised.revision == 2 and revised.text != target.text
        after = get(server, target.url, headers={"If-None-Match": before.header("ETag") or ""})
        assert after.status == 200 and after.header("ETag") != before.header("ETag")
        encoding = "gb18030" if revised.encoding == "gb18030" else "utf-8"
        new_lines = set(revised.paragraphs) - set(target.paragraphs)
        assert all(squeeze(line) in page_text(after.text(encoding)) for line in new_lines)


# ---------------------------------------------------------------- https through CONNECT


def test_connect_tunnels_tls_with_a_certificate_for_the_host() -> None:
    with ReplicaServer(sites=[NfcmsSite(NfcmsConfig(cases=5))]) as server:
        answer = get(server, server.site.column_url)  # verified against the replica CA
        assert answer.status == 200
        connect, inner = server.exchanges()[-2:]
        assert (connect.method, connect.target, connect.status) == (
            "CONNECT",
            "com.gd.gov.cn:443",
            200,
        )
        assert inner.url == server.site.column_url and inner.on_site
        assert inner.response_body == answer.body
        # A certificate for another name fails verification: the leaf names the CONNECT host.
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        raw.sendall(b"CONNECT com.gd.gov.cn:443 HTTP/1.1\r\nHost: com.gd.gov.cn:443\r\n\r\n")
        assert raw.recv(4096).startswith(b"HTTP/1.1 200 ")
        with pytest.raises(ssl.SSLCertVerificationError):
            trusting(server).wrap_socket(raw, server_hostname="www.gd.gov.cn")
        raw.close()


def test_connect_refusals_and_plain_http_of_an_https_site() -> None:
    with ReplicaServer(
        sites=[NfcmsSite(NfcmsConfig(cases=5)), TrsSite(TrsConfig(cases=5))]
    ) as server:
        for target, status in (("swt.fujian.gov.cn:443", 405), ("www.example.com:443", 403)):
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            raw.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
            assert raw.recv(4096).startswith(f"HTTP/1.1 {status} ".encode()), target
            raw.close()
        http_url = server.site.column_url.replace("https://", "http://")
        assert get(server, http_url).status == 200  # the gov cloud answers http too
        assert get(server, server.sites[1].column_url).status == 200  # two hosts, one server


def test_https_origin_port_serves_sites_by_sni(tmp_path: Any) -> None:
    log = tmp_path / "log.jsonl"
    sites = [GkmlptSite(GkmlptConfig(cases=5)), HanwebVariantSite(HanwebVariantConfig(cases=5))]
    with ReplicaServer(sites=sites, log_path=log) as server:
        assert server.https_origin and server.ca_cert_path and server.ca_cert_path.is_file()
        for host, path in (
            ("com.gd.gov.cn", "/gkmlpt/index"),
            ("doc.jiangsu.gov.cn", "/robots.txt"),
        ):
            with socket.create_connection(("127.0.0.1", server.https_port or 0), timeout=10) as raw:
                tls = trusting(server).wrap_socket(raw, server_hostname=host)
                tls.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
                )
                wire = read_all(tls)
                assert wire.startswith(b"HTTP/1.1 200 OK\r\n"), host
        logged = load_exchanges(log)
        assert [e.url for e in logged] == [
            "https://com.gd.gov.cn/gkmlpt/index",
            "https://doc.jiangsu.gov.cn/robots.txt",
        ]
        assert wire.endswith(logged[-1].response_body)
    assert not server.ca_cert_path.exists()  # key material removed at stop


def test_stop_ends_idle_tls_tunnels() -> None:
    server = ReplicaServer(sites=[NfcmsSite(NfcmsConfig(cases=5))]).start()
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    raw.sendall(b"CONNECT com.gd.gov.cn:443 HTTP/1.1\r\n\r\n")
    raw.recv(4096)
    tls = trusting(server).wrap_socket(raw, server_hostname="com.gd.gov.cn")
    tls.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: com.gd.gov.cn\r\n\r\n")
    assert tls.recv(65536).startswith(b"HTTP/1.1 200")
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive(), "stop() hung on an idle keep-alive tunnel"
    tls.close()


# ---------------------------------------------------------------- A. TRS WCM


def trs_items(body: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="([^"]+)" target="_blank" title="([^"]+)"', body)


def test_trs_pages_walk_the_whole_column_with_pinned_items_first() -> None:
    config = TrsConfig(cases=47, per_page=10, ext="htm", page_name="index", pager="createPageHTML")
    with ReplicaServer(sites=[TrsSite(config)]) as server:
        site: TrsSite = server.site
        first = get(server, site.column_url).text()
        assert trs_items(first) == trs_items(get(server, site.column_url + "index.htm").text())
        count = int(re.search(r'createPageHTML\((\d+), 0, "index", "htm"\)', first).group(1))  # type: ignore[union-attr]
        assert count == 5 and '<div class="page">' in first
        urls: list[str] = []
        for index in range(count):
            url = site.column_url + ("index.htm" if index == 0 else f"index_{index}.htm")
            body = get(server, url).text()
            assert f'createPageHTML({count}, {index}, "index", "htm")' in body
            urls += [urljoin(url, href) for href, _ in trs_items(body)]
        assert urls == [c.url for c in site.listed()] and len(set(urls)) == 47
        assert get(server, site.column_url + f"index_{count}.htm").status == 404
        assert get(server, site.column_url + "index_1.html").status == 404
        pinned = [c for c in site.listed() if c.pinned]
        assert len(pinned) == 2 and site.listed()[:2] == pinned
        assert pinned[0].published < site.listed()[2].published  # old items above the newest
        assert first.count("置顶") == 2
        hrefs = [href for href, _ in trs_items(first)]
        assert all(re.fullmatch(r"(\./|\.\./\w+/)\d{6}/t\d{8}_\d+\.htm", h) for h in hrefs)
        assert any(
            h.startswith("../")
            for page in range(count)
            for h in [href for href, _ in trs_items(get(server, site.page_url(page)).text())]
        )


def test_trs_variants_list_name_count_page_and_gbk_meta_only() -> None:
    config = TrsConfig(
        cases=25,
        per_page=10,
        ext="shtml",
        page_name="list",
        pager="countPage",
        encoding="gbk",
        list_style="zfxxgk",
        date_style="slash",
    )
    with ReplicaServer(sites=[TrsSite(config)]) as server:
        site: TrsSite = server.site
        answer = get(server, site.column_url + "list_2.shtml")
        assert answer.header("Content-Type") == "text/html"  # charset only in the page
        with pytest.raises(UnicodeDecodeError):
            answer.content.decode("utf-8")
        body = answer.content.decode("gb18030")
        assert "charset=gbk" in body and "var countPage = 3//共多少页" in body
        assert "var currentPage = 2;//所在页从0开始" in body
        assert re.search(r"<b>\d{4}/\d{2}/\d{2}</b>", body)
        assert get(server, site.column_url + "list.shtml").status == 200
        assert get(server, site.column_url + "index.shtml").status == 404
        case = next(c for c in site.cases if c.status == 200 and not c.flaky)
        article = get(server, case.url)
        assert article.header("Content-Type") == "text/html"
        assert (
            '<meta http-equiv="Content-Type" content="text/html; charset=gbk" />'
            in article.content.decode("gb18030")
        )


def test_trs_article_markup_and_attachments(servers: dict[str, ReplicaServer]) -> None:
    server = servers["trs"]
    site: TrsSite = server.site
    by_template = {c.template: c for c in site.cases if c.status == 200 and not c.flaky}
    editor = get(server, by_template["trs-editor"].url).text()
    for needle in (
        '<div class="TRS_Editor"><style',
        '<div class="Custom_UnionStyle">',
        'class="CurrChnlCls"',
        f'<meta name="contentid" content="{by_template["trs-editor"].article_id}">',
        '<meta name="ArticleTitle"',
        '<meta name="PubDate"',
        '<meta name="ContentSource"',
        "分享到",
        "[打印]",
        "字号：[",
        "扫一扫",
        "相关链接",
        "主办单位",
    ):
        assert needle in editor, needle
    assert 'class="trs_editor_view"' in get(server, by_template["trs-view"].url).text()
    assert 'class="TRS_UEDITOR' in get(server, by_template["trs-ueditor"].url).text()
    inline = next(c for c in site.cases if c.template == "trs-inline-attach" and c.attachments)
    for name, url in inline.attachments:
        assert re.search(r"/\d{6}/P0\d{8}\d{12}\.(pdf|docx|xlsx)$", url)
        assert name in inline.paragraphs
    listed = next(c for c in site.cases if c.template == "trs-editor" and c.attachments)
    assert not set(dict(listed.attachments)) & set(listed.paragraphs)  # list outside the body


def test_trs_stub_pages_and_waf_burst() -> None:
    now = [0.0]
    config = TrsConfig(cases=40, per_page=10, stub_from=2, waf_burst=5, waf_window=10.0)
    site = TrsSite(config, clock=lambda: now[0])
    with ReplicaServer(sites=[site]) as server:
        deep = get(server, site.page_url(3))
        assert deep.status == 200 and 300 <= len(deep.content) <= 400
        assert not trs_items(deep.text())
        assert trs_items(get(server, site.page_url(1)).text())
        now[0] = 100.0  # a fresh window
        statuses = [get(server, site.column_url).status for _ in range(7)]
        assert statuses == [200] * 5 + [429, 429]
        now[0] = 130.0  # still inside the 60 s block
        assert get(server, site.column_url).status == 429
        now[0] = 200.0
        assert get(server, site.column_url).status == 200
        now[0] = 201.0
        while get(server, site.column_url).status == 200:
            pass
        site.unblock()
        assert get(server, site.column_url).status == 200


# ---------------------------------------------------------------- B. Hanweb variants


def test_jiangsu_twin_units_and_dataproxy_honouring_only_page() -> None:
    config = HanwebVariantConfig(cases=40, per_page=5, group_size=2)
    with ReplicaServer(sites=[HanwebVariantSite(config)]) as server:
        site: HanwebVariantSite = server.site
        column = get(server, site.column_url).text()
        first = site.listed()[0]
        assert column.count(f'href="{urlsplit(first.url).path}"') == 2  # pc and mobile units
        assert "$('#423656').jpage(" in column and "$('#423657').jpage(" in column
        form = urlencode({"col": 1, "webid": 3, "columnid": 78712, "unitid": 423656}).encode()
        base = urljoin(site.column_url, DATAPROXY)
        group1 = get(server, f"{base}?startrecord=1&endrecord=10&perpage=5", body=form).text()
        ignored = get(server, f"{base}?startrecord=11&endrecord=20&perpage=5", body=form).text()
        assert ignored == group1  # start/end ignored
        group2 = get(server, f"{base}?page=2&startrecord=1&endrecord=10", body=form).text()
        urls = [urljoin(site.column_url, h) for h in re.findall(r'href="(/art/[^"]+)"', group2)]
        assert urls == [c.url for c in site.listed()[10:20]]
        assert "<totalrecord>40</totalrecord>" in group2
        other_unit = get(server, f"{base}?page=1&columnid=78712&unitid=1").text()
        assert "<record>" not in other_unit


def test_uid_page_num_pages_and_single_quotes() -> None:
    config = dataclasses.replace(JIANGXI_CONFIG, cases=23, per_page=10)
    with ReplicaServer(sites=[HanwebVariantSite(config)]) as server:
        site: HanwebVariantSite = server.site
        seen: list[str] = []
        url: str | None = f"{site.column_url}?uid=380055&pageNum=1"
        while url:
            body = get(server, url).text()
            seen += [urljoin(url, h) for h in re.findall(r"<a href='([^']+)' title='", body)]
            match = re.search(r'<a class="next" href="([^"]+)">', body)
            url = urljoin(url, html.unescape(match.group(1))) if match else None
        assert seen == [c.url for c in site.listed()]
        column = get(server, site.column_url).text()
        assert "<li><a href='/art/" in column and "__jsluid" not in str(
            get(server, site.column_url).headers
        )
        article = next(c for c in site.cases if c.status == 200 and not c.flaky)
        assert 'class="jgzn_content"' in get(server, article.url).text()
        # The standard proxy of this variant honours start/end.
        form = urlencode({"columnid": 30184, "unitid": 380055}).encode()
        later = get(
            server,
            urljoin(site.column_url, f"{DATAPROXY}?startrecord=11&endrecord=20&perpage=10"),
            body=form,
        )
        assert (
            re.findall(r"href='([^']+)'", later.text())[0] == urlsplit(site.listed()[10].url).path
        )


def test_jiangsu_article_template_and_jiasule_cookies(servers: dict[str, ReplicaServer]) -> None:
    server = servers["hanweb"]
    site: HanwebVariantSite = server.site
    case = next(
        c for c in site.cases if c.template == "jiangsu-bt" and c.status == 200 and not c.flaky
    )
    answer = get(server, case.url)  # https through CONNECT: the secure cookie
    cookies = answer.header_values("Set-Cookie")
    assert any(
        re.fullmatch(r"__jsluid_s=[0-9a-f]{32}; max-age=31536000; path=/; HttpOnly; secure", c)
        for c in cookies
    )
    assert not get(server, case.url, headers={"Cookie": cookies[0].split(";")[0]}).header_values(
        "Set-Cookie"
    )
    body = answer.text()
    for needle in (
        '<p class="bt-art-title">',
        '<span class="bt-date">',
        '<span class="bt-source">来源：',
        '<div class="bt-content zoom">\n<!--ZJEG_RSS.content.begin--><meta name="ContentStart"><div class="TRS_Editor">',
    ):
        assert needle in body, needle
    main_txt = next(
        c
        for c in site.cases
        if c.template == "jiangsu-main-txt" and c.status == 200 and not c.flaky
    )
    assert '<div class="main-txt" id="zoom">' in get(server, main_txt.url).text()
    plain = get(server, case.url.replace("https://", "http://"))
    assert any(c.startswith("__jsluid_h=") for c in plain.header_values("Set-Cookie"))


def test_jiasule_challenge_mode() -> None:
    site = HanwebVariantSite(HanwebVariantConfig(cases=5, challenge=True))
    with ReplicaServer(sites=[site]) as server:
        first = get(server, site.column_url)
        assert first.status == 521 and first.reason == "Web Server Is Down"
        cookie = first.header("Set-Cookie") or ""
        assert cookie.startswith("__jsluid_s=") and b"document.cookie=" in first.body
        second = get(server, site.column_url, headers={"Cookie": cookie.split(";")[0]})
        assert second.status == 521 and b'go({"bts"' in second.body
        assert get(server, urljoin(site.column_url, "/robots.txt")).status == 200


# ---------------------------------------------------------------- C. jpaas


def unit_url(site: JpaasSite, tag: str | None = None, **extra: str) -> str:
    query = {**site.query_data(tag or site.list_tag), **extra}
    return f"{site.root}{UNIT_PATH}?{urlencode(query)}"


def test_jpaas_column_page_has_only_unit_scripts(servers: dict[str, ReplicaServer]) -> None:
    server = servers["jpaas"]
    site: JpaasSite = server.site
    body = get(server, site.column_url).text()
    assert "/art/" not in body
    scripts = re.findall(
        r'<script id="[0-9a-f]{32}" src="(/cms_files/default/script/AuthorizedRead/unitbuild\.js\?v=[^"]+)" webId="3201" parseType="bulidstatic" url="/api-gateway/jpaas-publish-server/front/page/build/unit" queryData="([^"]+)">',
        body,
    )
    assert len(scripts) == 3
    datas = [json.loads(data.replace("'", '"')) for _, data in scripts]
    assert [d["tagId"] for d in datas].count(site.list_tag) == 1
    assert all(d["pageId"] == "1229251058" and d["parseType"] == "bulidstatic" for d in datas)


def test_jpaas_unit_api_pages_through_param_json_only(servers: dict[str, ReplicaServer]) -> None:
    server = servers["jpaas"]
    site: JpaasSite = server.site
    answer = get(server, unit_url(site, paramJson=json.dumps({"pageNo": 1, "pageSize": 7})))
    assert answer.header("Content-Type") == "application/json;charset=UTF-8"
    envelope = json.loads(answer.text())
    assert list(envelope) == [
        "roles",
        "permissions",
        "success",
        "message",
        "code",
        "data",
        "traceId",
        "messageType",
    ]
    assert (
        envelope["roles"],
        envelope["success"],
        envelope["message"],
        envelope["code"],
        envelope["messageType"],
    ) == (None, True, "生成成功", "200", 2)
    first_html = envelope["data"]["html"]
    assert re.search(
        r'<table class="pagination default_pgToolbar"[^>]* rows="7" unitid="[^"]+" count="30" pageNo="1"',
        first_html,
    )
    seen: list[str] = []
    for page in range(1, 6):
        data = json.loads(
            get(
                server, unit_url(site, paramJson=json.dumps({"pageNo": page, "pageSize": 7}))
            ).text()
        )
        items = re.findall(
            r'<a class="bt-left" title="([^"]+)" href="([^"]+)" target="_blank">([^<]+)</a>',
            data["data"]["html"],
        )
        seen += [urljoin(site.column_url, html.unescape(href)) for _, href, _ in items]
        for title, _, shown in items:
            title, shown = html.unescape(title), html.unescape(shown)
            assert shown == title or (shown.endswith("...") and title.startswith(shown[:-3]))
    assert seen == [c.url for c in site.listed()]
    past_end = json.loads(get(server, unit_url(site, paramJson='{"pageNo":9,"pageSize":7}')).text())
    assert "<li" not in past_end["data"]["html"] and 'count="30"' in past_end["data"]["html"]
    bare = json.loads(get(server, unit_url(site, pageNo="3")).text())["data"]["html"]
    default_first = json.loads(get(server, unit_url(site)).text())["data"]["html"]
    assert bare == default_first and 'pageNo="1"' in bare
    side = json.loads(get(server, unit_url(site, tag="栏目导航")).text())
    assert side["success"] and "/art/" not in side["data"]["html"]
    wrong = json.loads(get(server, f"{site.root}{UNIT_PATH}?webId=1&pageId=2&tagId=x").text())
    assert wrong["success"] is False


def test_jpaas_url_shapes_and_article(servers: dict[str, ReplicaServer]) -> None:
    server = servers["jpaas"]
    site: JpaasSite = server.site
    html_page = json.loads(
        get(server, unit_url(site, paramJson='{"pageNo":1,"pageSize":30}')).text()
    )["data"]["html"]
    hrefs = re.findall(r'href="([^"]+)"', html_page)
    assert any(
        re.fullmatch(r"//zcom\.zj\.gov\.cn/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html", h)
        for h in hrefs
    )
    assert any(
        re.fullmatch(r"/col/col1229251058/art/\d{4}/art_[0-9a-f]{32}\.html", h) for h in hrefs
    )
    assert any("..." in shown for shown in re.findall(r">([^<]+)</a>", html_page))
    case = next(
        c for c in site.cases if c.template == "jpaas-xxgk" and c.status == 200 and not c.flaky
    )
    body = get(server, case.url).text()
    for needle in (
        '<p class="con-title">',
        '<div class="small-title"><span>发布日期：',
        "<span>信息来源：",
        '浏览次数：<lable id="artcount">',
        '<table class="xxgktab"',
        '<div class="main-txt" id="zoom">',
        '<span class="printer"',
        '<span class="close"',
        '<meta name="ColId" content="1229251058">',
    ):
        assert needle in body, needle
    assert "索引号" in body and "索引号" not in case.text


def test_jpaas_download_gateway_refuses_a_repeat() -> None:
    now = [0.0]
    site = JpaasSite(JpaasConfig(cases=30), clock=lambda: now[0])
    with ReplicaServer(sites=[site]) as server:
        case = next(c for c in site.cases if c.attachments and c.status == 200)
        name, url = case.attachments[0]
        assert "/api-gateway/jpaas-web-server/front/document/download?fileUrl=" in url
        assert parse_qs(urlsplit(url).query)["fileName"] == [name]
        first = get(server, url)
        assert first.status == 200 and quote(name) in (first.header("Content-Disposition") or "")
        repeat = get(server, url)
        assert repeat.status == 403 and json.loads(repeat.text())["success"] is False
        now[0] = 61.0
        assert get(server, url).status == 200
        assert get(server, url.replace("fileUrl=", "fileUrl=x")).status == 404


# ---------------------------------------------------------------- D. Guangdong


def test_nfcms_walk_by_a_next_over_https(servers: dict[str, ReplicaServer]) -> None:
    server = servers["nfcms"]
    site: NfcmsSite = server.site
    seen: list[str] = []
    url: str | None = site.column_url
    pages: list[str] = []
    while url:
        pages.append(url)
        body = get(server, url).text()
        document = lxml.html.document_fromstring(body)
        for anchor in document.cssselect(".comlist3 li a[title]"):
            seen.append(urljoin(url, anchor.get("href")))
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", anchor.getnext().text)
        nexts = document.cssselect("a.next")
        url = urljoin(url, nexts[0].get("href")) if nexts else None
    assert seen == [c.url for c in site.listed()]
    assert pages[1].endswith("/index_2.html") and len(pages) == site.page_count() > 1
    assert get(server, urljoin(site.column_url, "index_1.html")).status == 404
    case = next(c for c in site.cases if c.status == 200 and not c.flaky)
    assert re.fullmatch(r"https://com\.gd\.gov\.cn/zcqggfwpt/tzjy/content/post_\d+\.html", case.url)
    body = get(server, case.url).text()
    assert '<div class="article-content">' in body and 'NFCMS_SITE_ID = "160"' in body
    attach = next(c for c in site.cases if c.attachments)
    assert re.fullmatch(
        r"https://com\.gd\.gov\.cn/attachment/0/\d+/\d+/\d+\.(pdf|docx)", attach.attachments[0][1]
    )


def test_gkmlpt_config_api_and_posts(servers: dict[str, ReplicaServer]) -> None:
    server = servers["gkmlpt"]
    site: GkmlptSite = server.site
    index = get(server, site.column_url).text()
    config = re.search(r"window\._CONFIG = \{\n  SID: '(\d+)',.*?TREE: (\[.*?\]),\n", index, re.S)
    assert config and config.group(1) == "2"
    tree = json.loads(config.group(2))
    case_node = next(child for node in tree for child in node["children"] if child["id"] == 2947)
    assert case_node["post_count"] == 30 and {
        "id",
        "name",
        "children",
        "jump_url",
        "post_count",
    } <= set(case_node)
    one = json.loads(get(server, site.api_url(page=1)).text())
    zero = json.loads(get(server, site.api_url(page=0)).text())
    assert one == zero and one["total"] == 30 and one["classify"]["post_count"] == 30
    article = one["articles"][0]
    for key in (
        "id",
        "title",
        "url",
        "post_url",
        "document_number",
        "identifier",
        "publisher",
        "keywords",
        "date",
        "created_at",
        "create_time",
        "display_publish_time",
        "abstract",
        "classify_main",
        "classify_main_name",
        "classify_genre_name",
        "classify_theme_name",
        "attachment",
        "relation",
        "is_expired",
        "is_abolished",
    ):
        assert key in article, key
    assert [a["url"] for a in one["articles"]] == [c.url for c in site.listed()]
    assert json.loads(get(server, site.api_url(category=0)).text())["total"] == 30
    assert json.loads(get(server, site.api_url(category=2950)).text())["articles"] == []
    assert (
        json.loads(get(server, site.api_url().replace("sid=2", "sid=9")).text())["articles"] == []
    )
    post_id = article["id"]
    assert article["url"].endswith(
        f"/gkmlpt/content/{post_id // 1_000_000}/{post_id // 1_000}/post_{post_id}.html"
    )
    case = site.case(str(post_id))
    body = get(server, article["url"]).text()
    for label in ("索引号", "分类", "发布机构", "成文日期", "名称", "文号", "发布日期", "主题词"):
        assert f"{label}：" in body and label not in case.text
    assert '<div class="article-content">' in body
    detail = re.search(r"DETAIL: (\{.*\})\n", body)
    assert detail and json.loads(detail.group(1))["id"] == post_id


def test_gkmlpt_pages_of_a_hundred() -> None:
    with ReplicaServer(sites=[GkmlptSite(GkmlptConfig(cases=130))]) as server:
        site: GkmlptSite = server.site
        first = json.loads(get(server, site.api_url(page=1)).text())["articles"]
        second = json.loads(get(server, site.api_url(page=2)).text())["articles"]
        third = json.loads(get(server, site.api_url(page=3)).text())["articles"]
        assert (len(first), len(second), third) == (100, 30, [])
        assert [a["url"] for a in first + second] == [c.url for c in site.listed()]


def test_nfcms_and_gkmlpt_share_a_host() -> None:
    sites = [NfcmsSite(NfcmsConfig(cases=5)), GkmlptSite(GkmlptConfig(cases=5))]
    with ReplicaServer(sites=sites) as server:
        assert get(server, sites[0].column_url).status == 200
        assert get(server, sites[1].column_url).status == 200
        post = next(c for c in sites[1].cases if c.status == 200 and not c.flaky)
        assert get(server, post.url).status == 200
        attached = [(c, url) for c in sites[1].cases if c.status == 200 for _, url in c.attachments]
        for _, url in attached:
            assert get(server, url).status == 200


# ---------------------------------------------------------------- generic (Anhui-like)


def test_generic_site_walks_by_next_link(servers: dict[str, ReplicaServer]) -> None:
    server = servers["generic"]
    site: GenericSite = server.site
    seen: list[str] = []
    url: str | None = site.column_url
    while url:
        body = get(server, url).text()
        seen += [
            urljoin(url, html.unescape(h))
            for h in re.findall(r'<li class="clearfix"><a class="title" href="([^"]+)"', body)
        ]
        assert re.search(r'<span class="date">\d{4}-\d{2}-\d{2}</span>', body)
        match = re.search(r'<a href="([^"]+)">下一页</a>', body)
        url = urljoin(url, html.unescape(match.group(1))) if match else None
    assert seen == [c.url for c in site.listed()]
    assert "<span>下一页</span>" in body and "pageIndex=2" in get(server, site.column_url).text()
    empty = get(server, site.column_url + "&pageIndex=99").text()
    assert '<li class="clearfix">' not in empty


# ---------------------------------------------------------------- command line


def test_main_serves_a_named_site(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()
    assert replica_main(["--port", "0", "--site", "zhejiang", "--cases", "5"], stop=stop) == 0
    proxy, column = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proxy)
    assert column == SITES["zhejiang"].column_url
    assert replica_main(["--port", "0", "--family", "anhui", "--cases", "0"], stop=stop) == 2
    with pytest.raises(SystemExit):
        replica_main(["--site", "atlantis"], stop=stop)
