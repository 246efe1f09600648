"""The offline replica of commerce.shandong.gov.cn, driven the way a crawler drives it."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import shutil
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode, urljoin

import lxml.html
import pytest

from caseharvest.replica import (
    COLUMN_URL,
    SITE_ROOT,
    TEMPLATES,
    ReplicaConfig,
    ReplicaServer,
    ReplicaSite,
    load_exchanges,
)
from caseharvest.replica.__main__ import main as replica_main
from caseharvest.replica.cases import ReplicaCase
from caseharvest.replica.downloads import CONTENT_TYPES
from caseharvest.replica.routes import SiteRequest, SiteRouter

DATAPROXY = f"{SITE_ROOT}/module/web/jpage/dataproxy.jsp"
RECORD = re.compile(r'<li><a href="([^"]+)" title="([^"]*)" target="_blank">')
FORM = {
    "col": "1",
    "webid": "36",
    "path": f"{SITE_ROOT}/",
    "columnid": "21482",
    "sourceContentType": "1",
    "unitid": "293870",
    "webname": "山东省商务厅",
    "permissiontype": "0",
}


# A minimal DOM: jpage only needs getElementById, the store script's text and innerHTML.
JPAGE_HARNESS = """
var store = {text: __STORE__};
var container = {innerHTML: '', getElementsByTagName: function (tag) {
  return tag === 'script' ? [store] : [];
}};
var document = {getElementById: function (id) {
  return id === '__UNIT__' ? container : null;
}};
var window = {};
__JPAGE__
window.jpage({totalRecord: 64, groupSize: 3, perPage: 15,
  proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: {unitid: '__UNIT__'}});
process.stdout.write(container.innerHTML);
"""


class Fetched:
    """What urllib handed back: status, reason, header lines, raw body."""

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


def fetch(
    server: ReplicaServer,
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
) -> Fetched:
    """One request through the replica used as an HTTP proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=10) as response:
            return Fetched(
                response.status, response.reason, response.headers.items(), response.read()
            )
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.reason, error.headers.items(), error.read())


def post_group(server: ReplicaServer, start: int, end: int, per_page: int = 15) -> Fetched:
    query = urlencode({"startrecord": start, "endrecord": end, "perpage": per_page})
    return fetch(server, f"{DATAPROXY}?{query}", data=urlencode(FORM).encode())


def record_urls(text: str) -> list[str]:
    return [urljoin(f"{SITE_ROOT}/", href) for href, _ in RECORD.findall(text)]


def column_html(server: ReplicaServer) -> str:
    return fetch(server, COLUMN_URL).body.decode("utf-8")


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    """A default replica shared by the read-only tests."""
    with ReplicaServer() as running:
        yield running


def test_seed_case_is_the_oldest_and_served_with_full_width_punctuation() -> None:
    site = ReplicaSite()
    seed = site.case("4415480")
    assert site.cases[-1] is seed
    assert seed.url == "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html"
    assert (seed.title, seed.published, seed.source) == (
        "淄博市五举措精准发力深化开发区体制机制创新工作",
        "2019-01-07",
        "淄博市商务局",
    )
    assert seed.template == "modern-plain"
    assert seed.paragraphs[0].startswith("淄博市大力推动省级经济开发区体制机制改革，坚持")
    assert seed.paragraphs[-1].endswith("建设资本社会化。")
    assert "一、制定改革路线图" in seed.paragraphs
    text = seed.text
    assert not re.search(r"[,:;()!?]", text), "NFKC-folded ASCII punctuation left in the seed"
    assert "（国办发〔2017〕7号）" in text
    # Numbers keep their ASCII dot and hyphen.
    assert "5.7亿元" in text and "5-7个" in text


def test_listing_is_newest_first_with_hanweb_ids() -> None:
    cases = ReplicaSite().cases
    assert len(cases) == 64
    dates = [case.published for case in cases]
    assert dates == sorted(dates, reverse=True)
    ids = [int(case.article_id) for case in cases]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    assert all(len(c.article_id) == 7 for c in cases if c.published < "2020")
    assert all(len(c.article_id) == 8 for c in cases if c.published >= "2025")
    assert dates[-1] == "2019-01-07" and dates[0] >= "2026"
    for case in cases:
        year, month, day = (int(part) for part in case.published.split("-"))
        assert case.url == (
            f"{SITE_ROOT}/art/{year}/{month}/{day}/art_{case.column_id}_{case.article_id}.html"
        )


def test_content_is_a_pure_function_of_the_config() -> None:
    first, again = ReplicaSite(ReplicaConfig()), ReplicaSite(ReplicaConfig())
    assert [(c.url, c.text) for c in first.cases] == [(c.url, c.text) for c in again.cases]
    other = ReplicaSite(ReplicaConfig(seed=7))
    assert [c.title for c in other.cases] != [c.title for c in first.cases]


def test_the_column_holds_every_quirk_once() -> None:
    cases = ReplicaSite().cases
    assert sum(c.status == 404 for c in cases) == 1
    assert sum(c.flaky for c in cases) == 1
    assert sum(c.chunked for c in cases) == 1
    assert sum(c.encoding == "gb18030" for c in cases) == 1
    assert 2 <= sum(c.column_id == "21483" for c in cases) <= 3
    assert sum(c.gzip for c in cases) >= 3
    assert {c.template for c in cases} == set(TEMPLATES)
    kinds = {url.rsplit(".", 1)[1] for c in cases for _, url in c.attachments}
    assert kinds == {"pdf", "doc", "docx", "xls", "xlsx"}
    brief = next(c for c in cases if c.template == "modern-attachment")
    assert len(brief.paragraphs) == 3 and brief.paragraphs[-1] == brief.attachments[0][0]
    table_case = next(c for c in cases if c.template == "modern-datatable")
    assert table_case.paragraphs[2].split("\t")[:2] == ["序号", "项目名称"]


def test_every_served_body_is_its_gold_text() -> None:
    site = ReplicaSite()
    router = SiteRouter(site)
    for case in site.cases:
        if case.status == 404 or case.flaky:
            continue
        response = router.answer(SiteRequest("GET", case.path, ""))
        assert response.status == 200, case.url
        html = response.body.decode(case.encoding)
        tree = lxml.html.fromstring(html)
        assert tree.findtext(".//title") == f"山东省商务厅 {_column_name(case)} {case.title}"
        page_text = tree.text_content()
        assert page_text.count(f"信息来源：{case.source}") == 2, case.url
        assert "首页 >政务公开>内设机构>职能处室>开发区管理处>" in page_text
        zoom = tree.get_element_by_id("zoom").text_content()
        body = zoom.split("【打印本页】")[0]
        assert _squash(body) == _squash("".join(case.paragraphs)), case.url
        # Visible order: body, print bar, then the disclaimer.
        after = page_text[page_text.index("【打印本页】") :]
        assert after.index("【关闭窗口】") < after.index("山东商务网版权与免责声明：")
        assert after.rstrip().find("并自负法律责任。") > 0


def test_templates_keep_their_markup_quirks() -> None:
    site = ReplicaSite()
    router = SiteRouter(site)

    def page_of(template: str) -> str:
        case = next(c for c in site.cases if c.template == template and c.status == 200)
        if case.flaky:
            site.first_request_of_flaky(case)
        return router.answer(SiteRequest("GET", case.path, "")).body.decode(case.encoding)

    modern = page_of("modern-meta")
    assert '<meta name="ArticleTitle"' in modern and '<meta name="PubDate"' in modern
    assert '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">' in modern
    assert re.search(r"<span>发布日期：\d{4}-\d{2}-\d{2}</span>", modern)
    plain = page_of("modern-plain")
    assert "ArticleTitle" not in plain
    assert re.search(r"发布日期：\r\n {8}\d{4}-\r\n {8}\d{2}-\r\n {8}\d{2}<", plain)
    legacy = page_of("legacy-table")
    zoom_start = legacy.index('id="zoom"')
    assert legacy.index("山东商务网版权与免责声明", zoom_start) < legacy.index("</td>", zoom_start)
    assert "<br />" in page_of("modern-br")
    assert "<table" in page_of("modern-datatable").split('id="zoom"')[1]


def test_column_page_embeds_first_group_gzipped_with_two_cookies(server: ReplicaServer) -> None:
    answer = fetch(server, COLUMN_URL, headers={"Accept-Encoding": "gzip, deflate"})
    assert answer.status == 200
    assert answer.header("Content-Encoding") == "gzip"
    assert answer.header("Vary") == "Accept-Encoding"
    cookies = answer.header_values("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("JSESSIONID=") and cookies[1].startswith("SERVERID=")
    html = gzip.decompress(answer.body).decode("utf-8")
    assert '<div id="293870"><script type="text/xml"><datastore>' in html
    assert "<ul" not in html.split('<div id="293870">')[1].split("</div>")[0]
    urls = record_urls(html)
    assert urls == [case.url for case in server.site.listed()[:45]]
    assert any(h.startswith("http://") for h, _ in RECORD.findall(html))
    assert any(h.startswith("/art/") for h, _ in RECORD.findall(html))
    anchors = re.findall(r'title="([^"]*)" target="_blank">([^<]*)</a><span>', html)
    assert any(shown.endswith("…") for _, shown in anchors)
    for title, shown in anchors:
        assert shown == title or (shown.endswith("…") and title.startswith(shown[:-1]))
    assert "var param_293870 = {col:1,webid:36,path:'http://commerce.shandong.gov.cn/'," in html
    assert re.search(r"jpage\(\{\n(\t\w+:[^\n]+\n)+\}\);", html)
    assert "\ttotalRecord:64,\n" in html and "\tperPage:15,\n" in html
    assert "webname=%25E5%25B1%25B1%25E4%25B8%259C" in html
    plain = fetch(server, COLUMN_URL)
    assert plain.header("Content-Encoding") is None and plain.body.startswith(b"<!DOCTYPE")


def test_post_groups_cover_every_case_exactly_once(server: ReplicaServer) -> None:
    listed = [case.url for case in server.site.listed()]
    seen = record_urls(column_html(server))
    start = 46
    while start <= len(listed):
        answer = post_group(server, start, start + 44)
        text = answer.body.decode("utf-8")
        assert (answer.header("Content-Type") or "").startswith("text/xml")
        assert "<totalrecord>64</totalrecord>" in text and "<totalpage>5</totalpage>" in text
        group = record_urls(text)
        # The quirk: a later group first repeats the last record of the group before.
        assert group[0] == seen[-1]
        seen += group[1:]
        start += 45
    assert seen == listed


def test_get_pages_work_when_post_is_refused() -> None:
    with ReplicaServer(ReplicaConfig(post_refused=True)) as refusing:
        assert post_group(refusing, 46, 90).status == 405
        first = fetch(
            refusing,
            f"{DATAPROXY}?page=1&appid=1&appid=1&webid=36&columnid=21482"
            "&unitid=293870&webname=x&permissiontype=0",
        )
        assert record_urls(first.body.decode()) == record_urls(column_html(refusing))
        second = fetch(
            refusing, f"{DATAPROXY}?page=2&appid=1&webid=36&columnid=21482&unitid=293870"
        )
        text = second.body.decode()
        assert "page=3&" in text.split("</nextgroup>")[0]
        listed = [case.url for case in refusing.site.listed()]
        assert record_urls(text) == listed[44:]


def test_dataproxy_answers_csrf_stub_on_wrong_perpage_or_csrf_fault(server: ReplicaServer) -> None:
    wrong = post_group(server, 46, 90, per_page=20)
    assert (wrong.status, wrong.body) == (200, b"dataStore=['csrf'];")
    with ReplicaServer(ReplicaConfig(fault="csrf")) as broken:
        assert post_group(broken, 46, 90).body == b"dataStore=['csrf'];"


def test_dataproxy_answers_empty_store_for_another_column(server: ReplicaServer) -> None:
    query = "startrecord=1&endrecord=45&perpage=15"
    form = urlencode({**FORM, "columnid": "99999"}).encode()
    text = fetch(server, f"{DATAPROXY}?{query}", data=form).body.decode()
    assert "<totalrecord>0</totalrecord>" in text and not record_urls(text)


def test_grow_by_publishes_cases_at_the_first_dataproxy_request() -> None:
    with ReplicaServer(ReplicaConfig(grow_by=3)) as growing:
        before = [case.url for case in growing.site.listed()]
        assert "\ttotalRecord:64,\n" in column_html(growing)
        text = post_group(growing, 46, 90).body.decode()
        assert "<totalrecord>67</totalrecord>" in text
        # Everything shifted down by three: record 45 of the new listing is the old 42.
        assert record_urls(text)[0] == before[41]
        now = growing.site.listed()
        assert len(now) == 67 and now[3].url == before[0]
        assert now[0].published > now[3].published
        assert int(now[0].article_id) > int(now[3].article_id)
        # Only the first dataproxy request publishes.
        post_group(growing, 91, 135)
        assert len(growing.site.listed()) == 67


def test_proxied_and_origin_form_requests_get_the_same_page(server: ReplicaServer) -> None:
    case = server.site.cases[1]
    proxied = fetch(server, case.url)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", case.path, headers={"Host": "commerce.shandong.gov.cn"})
    origin = connection.getresponse()
    assert origin.status == proxied.status == 200
    assert origin.read() == proxied.body
    connection.close()
    targets = {e.target: e for e in server.exchanges() if e.url == case.url}
    assert case.path in targets and case.url in targets
    assert all(e.on_site and e.host == "commerce.shandong.gov.cn" for e in targets.values())


def test_other_hosts_get_403_and_connect_gets_405(server: ReplicaServer) -> None:
    refused = fetch(server, "http://www.mofcom.gov.cn/index.html")
    assert (refused.status, refused.body) == (403, b"not replicated\n")
    logged = [e for e in server.exchanges() if e.host == "www.mofcom.gov.cn"]
    assert logged and not logged[-1].on_site and logged[-1].status == 403
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/robots.txt", headers={"Host": f"127.0.0.1:{server.port}"})
    assert connection.getresponse().status == 403
    connection.close()
    tunnel = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    tunnel.request("CONNECT", "commerce.shandong.gov.cn:443")
    assert tunnel.getresponse().status == 405
    tunnel.close()


def test_flaky_case_answers_503_once_then_200() -> None:
    with ReplicaServer() as fresh:
        flaky = next(case for case in fresh.site.cases if case.flaky)
        first = fetch(fresh, flaky.url)
        assert first.status == 503 and first.header("Retry-After") == "1"
        assert fetch(fresh, flaky.url).status == 200


def test_dead_link_and_unknown_pages_are_404(server: ReplicaServer) -> None:
    dead = next(case for case in server.site.cases if case.status == 404)
    assert fetch(server, dead.url).status == 404
    assert fetch(server, f"{SITE_ROOT}/col/col21482/index_1.html").status == 404
    assert fetch(server, f"{SITE_ROOT}/art/2019/1/8/art_21482_4415480.html").status == 404


def test_conditional_get_revise_and_chrome_change() -> None:
    with ReplicaServer() as editable:
        site = editable.site
        case = next(c for c in site.cases if c.template == "modern-meta" and not c.gzip)
        first = fetch(editable, case.url)
        etag, modified = first.header("ETag"), first.header("Last-Modified")
        assert etag and modified
        unchanged = fetch(editable, case.url, headers={"If-None-Match": etag})
        assert (unchanged.status, unchanged.body) == (304, b"")
        by_date = fetch(editable, case.url, headers={"If-Modified-Since": modified})
        assert by_date.status == 304
        revised = site.revise(case.article_id)
        assert revised.revision == 2 and revised.text != case.text
        after_edit = fetch(editable, case.url, headers={"If-None-Match": etag})
        assert after_edit.status == 200 and after_edit.header("ETag") != etag
        assert after_edit.header("Last-Modified") != modified
        assert revised.paragraphs[-1][:10] in after_edit.body.decode()
        etag2 = after_edit.header("ETag") or ""
        site.change_chrome()
        after_chrome = fetch(editable, case.url, headers={"If-None-Match": etag2})
        assert after_chrome.status == 200 and after_chrome.header("ETag") != etag2
        assert after_chrome.body != after_edit.body
        assert site.case(case.article_id).text == revised.text
        zipped = next(c for c in site.cases if c.gzip)
        weak = fetch(editable, zipped.url, headers={"Accept-Encoding": "gzip"})
        weak_tag = weak.header("ETag") or ""
        assert weak_tag.startswith('W/"') and weak.header("Content-Encoding") == "gzip"
        conditional = {"Accept-Encoding": "gzip", "If-None-Match": weak_tag}
        again = fetch(editable, zipped.url, headers=conditional)
        assert again.status == 304
        # Weak comparison: the tag of the gzip variant validates the identity one too.
        identity = fetch(editable, zipped.url, headers={"If-None-Match": weak_tag})
        assert identity.status == 304
        other = fetch(editable, zipped.url, headers={"If-None-Match": 'W/"0-0", "1-1"'})
        assert other.status == 200 and other.header("ETag") == weak_tag[2:]


def test_gb18030_page_is_labelled_gb2312(server: ReplicaServer) -> None:
    case = next(c for c in server.site.cases if c.encoding == "gb18030")
    answer = fetch(server, case.url)
    assert answer.header("Content-Type") == "text/html; charset=gb2312"
    assert b'content="text/html; charset=gb2312"' in answer.body
    with pytest.raises(UnicodeDecodeError):
        answer.body.decode("gb2312")
    text = answer.body.decode("gb18030")
    assert all(char in text for char in "喆镕—")
    assert "喆" in case.text and "—" in case.text


def test_attachments_download_with_type_and_magic(server: ReplicaServer) -> None:
    magic = {
        "pdf": b"%PDF-1.4",
        "docx": b"PK\x03\x04",
        "xlsx": b"PK\x03\x04",
        "doc": bytes.fromhex("d0cf11e0"),
        "xls": bytes.fromhex("d0cf11e0"),
    }
    links = [link for case in server.site.cases for link in case.attachments]
    for name, url in links:
        kind = url.rsplit(".", 1)[1]
        answer = fetch(server, url)
        assert answer.status == 200 and answer.body.startswith(magic[kind]), url
        assert (answer.header("Content-Disposition") or "").startswith("attachment;")
        assert answer.header("Content-Type") == CONTENT_TYPES[kind]
        assert re.fullmatch(r".*filename=[0-9a-f]{32}\.\w+", url)
        assert name.endswith(f".{kind}")
    missing = f"{SITE_ROOT}/module/download/downfile.jsp?classid=0&filename={'0' * 32}.pdf"
    assert fetch(server, missing).status == 404


def test_logged_exchange_is_what_the_client_received(server: ReplicaServer) -> None:
    chunked = next(case for case in server.site.cases if case.chunked)
    for url, headers in ((COLUMN_URL, {"Accept-Encoding": "gzip"}), (chunked.url, {})):
        server.clear_log()
        received = fetch(server, url, headers=headers)
        (exchange,) = server.exchanges()
        assert (exchange.status, exchange.reason) == (received.status, received.reason)
        assert exchange.response_headers == received.headers
        assert exchange.response_body == received.body
        assert exchange.url == url and exchange.method == "GET"
    assert ("Transfer-Encoding", "chunked") in exchange.response_headers
    # Byte for byte: the wire of a plain answer is the logged status line, headers and body.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(
            b"GET http://commerce.shandong.gov.cn/robots.txt HTTP/1.1\r\n"
            b"Host: commerce.shandong.gov.cn\r\nConnection: close\r\n\r\n"
        )
        wire = b"".join(iter(lambda: raw.recv(65536), b""))
    logged = server.exchanges()[-1]
    head = f"HTTP/1.1 {logged.status} {logged.reason}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in logged.response_headers
    )
    assert wire == head.encode("latin-1") + b"\r\n" + logged.response_body
    assert [k for k, _ in logged.response_headers][:2] == ["Server", "Date"]
    assert logged.response_header("Connection") == "close"


def test_keep_alive_serves_several_requests_on_one_connection(server: ReplicaServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    chunked = next(case for case in server.site.cases if case.chunked)
    zipped = next(case for case in server.site.cases if case.gzip)
    requests = [
        ("GET", COLUMN_URL, None, {"Accept-Encoding": "gzip"}),
        (
            "POST",
            f"{DATAPROXY}?startrecord=46&endrecord=90&perpage=15",
            urlencode(FORM).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        ("GET", chunked.url, None, {}),
        ("HEAD", zipped.url, None, {"Accept-Encoding": "gzip"}),
        ("GET", zipped.url, None, {"Accept-Encoding": "gzip"}),
    ]
    for method, url, body, headers in requests:
        connection.request(method, url, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        assert response.status == 200, url
        assert response.getheader("Connection") == "keep-alive"
        if method == "HEAD":
            assert payload == b"" and int(response.getheader("Content-Length") or 0) > 0
    assert gzip.decompress(payload).decode("utf-8").startswith("<!DOCTYPE")
    assert connection.sock is not None, "the server closed a keep-alive connection"
    connection.close()


def test_log_file_round_trips(tmp_path: Path) -> None:
    log = tmp_path / "exchanges.jsonl"
    with ReplicaServer(ReplicaConfig(cases=10), log_path=log) as logging_server:
        fetch(logging_server, COLUMN_URL, headers={"Accept-Encoding": "gzip"})
        fetch(logging_server, f"{SITE_ROOT}/robots.txt")
        in_memory = logging_server.exchanges()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["status"] == 200
    assert load_exchanges(log) == in_memory


def test_antibot_faults_challenge_everything_but_robots() -> None:
    with ReplicaServer(ReplicaConfig(fault="antibot-412")) as ruishu:
        challenged = fetch(ruishu, COLUMN_URL)
        assert challenged.status == 412 and b"$_ts=window['$_ts']" in challenged.body
        assert challenged.header("Set-Cookie")
        assert fetch(ruishu, f"{SITE_ROOT}/robots.txt").status == 200
    with ReplicaServer(ReplicaConfig(fault="antibot-521")) as jiasule:
        challenged = fetch(jiasule, COLUMN_URL)
        assert challenged.status == 521
        assert (challenged.header("Set-Cookie") or "").startswith("__jsluid_h=")
        assert challenged.body.startswith(b"<script>")


def test_empty_column_fault_lists_nothing() -> None:
    with ReplicaServer(ReplicaConfig(fault="empty-column")) as empty:
        html = column_html(empty)
        assert "\ttotalRecord:0,\n" in html and not record_urls(html)
        assert "<totalrecord>0</totalrecord>" in post_group(empty, 1, 45).body.decode()


def test_small_configs_still_paginate_exactly() -> None:
    config = ReplicaConfig(cases=23, per_page=4, group_size=2)
    with ReplicaServer(config) as small:
        seen = record_urls(column_html(small))
        assert len(seen) == 8
        for start in (9, 17):
            group = record_urls(post_group(small, start, start + 7, per_page=4).body.decode())
            assert group[0] == seen[-1]
            seen += group[1:]
        assert seen == [case.url for case in small.site.listed()]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_jpage_js_renders_the_embedded_first_page(server: ReplicaServer) -> None:
    html = column_html(server)
    store = html.split('<script type="text/xml">', 1)[1].split("</script>", 1)[0]
    script = resources.files("caseharvest.replica").joinpath("data", "jpage.js").read_text("utf-8")
    harness = (
        JPAGE_HARNESS.replace("__STORE__", json.dumps(store))
        .replace("__JPAGE__", script)
        .replace("__UNIT__", "293870")
    )
    result = subprocess.run(
        ["node", "-e", harness], capture_output=True, text=True, timeout=20, check=True
    )
    shown = record_urls(result.stdout)
    assert shown == [case.url for case in server.site.listed()[:15]]
    assert "共64条" in result.stdout and 'data-page="5"' in result.stdout


def test_main_prints_proxy_url_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()
    assert replica_main(["--port", "0", "--cases", "5"], stop=stop) == 0
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", capsys.readouterr().out)
    assert replica_main(["--port", "0", "--cases", "0"], stop=stop) == 2


def _squash(text: str) -> str:
    return re.sub(r"[\s\u3000\xa0]+", "", text)


def _column_name(case: ReplicaCase) -> str:
    return "开发区工作动态" if case.column_id == "21483" else "开发区典型案例"
