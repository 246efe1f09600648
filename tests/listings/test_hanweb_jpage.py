"""The Hanweb jpage listing parser on page text shaped like the real site's."""

from __future__ import annotations

import pytest

from caseharvest.extract.page_links import css_references, page_links
from caseharvest.listings.hanweb_jpage import (
    CsrfStubError,
    ListingError,
    parse_column_page,
    parse_datastore,
)

COLUMN_URL = "http://commerce.shandong.gov.cn/col/col21482/index.html"

COLUMN_PAGE = """<html><head><meta charset="utf-8"><title>开发区典型案例</title>
<link rel="stylesheet" href="/images/2019/css/style.css"><script src="/module/web/jpage/jquery.min.js"></script>
</head><body><img src="../../images/logo.png">
<div id="293871"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&appid=1&webid=36&columnid=21482&unitid=293871&webname=%25E5%25B1%25B1&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="http://commerce.shandong.gov.cn/art/2026/2/9/art_21482_10345678.html" title="济南新区深化改革的经验做法" target="_blank">济南新区深化改革的…</a><span>2026-02-09</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2019/1/7/art_21482_4415480.html" title="淄博市五举措精准发力深化开发区体制机制创新工作" target="_blank">淄博市五举措…</a><span>2019-01-07</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2020/5/6/art_21483_5000001.html" title="另一栏目的文章" target="_blank">另一栏目的文章</a><span>2020-05-06</span></li>]]></record>
</recordset></datastore></script></div>
<script>var param_293871 = {col:1,webid:36,path:'http://commerce.shandong.gov.cn/',columnid:21482,sourceContentType:1,unitid:'293871',webname:'山东省商务厅',permissiontype:0};</script>
<script>
$(document).ready(function(){
  $('#293871').jpage({
      dataType: 'xml',
      proxyUrl: '/module/web/jpage/dataproxy.jsp',
      perPage: 12,
      groupSize: 2,
      barPosition: 'bottom',
      dataStore: null,
      totalRecord: 61,
      ajaxParam: param_293871,
      showMode: 'full'
  });
});
</script></body></html>"""


def test_column_page_parameters_are_read_from_the_page() -> None:
    column = parse_column_page(COLUMN_PAGE, COLUMN_URL)
    assert (column.unitid, column.per_page, column.group_size, column.total_record) == (
        "293871",
        12,
        2,
        61,
    )
    assert column.group_records == 24
    assert column.proxy_url == "http://commerce.shandong.gov.cn/module/web/jpage/dataproxy.jsp"
    form = dict(column.form)
    assert form["webid"] == "36" and form["unitid"] == "293871"
    assert form["webname"] == "山东省商务厅" and form["path"] == "http://commerce.shandong.gov.cn/"
    urls = [record.url for record in column.first_group.records]
    assert urls == [
        "http://commerce.shandong.gov.cn/art/2026/2/9/art_21482_10345678.html",
        "http://commerce.shandong.gov.cn/art/2019/1/7/art_21482_4415480.html",
        "http://commerce.shandong.gov.cn/art/2020/5/6/art_21483_5000001.html",
    ]
    first = column.first_group.records[0]
    assert first.title == "济南新区深化改革的经验做法", "full title from the title attribute"
    assert first.date == "2026-02-09"


def test_post_and_get_group_requests() -> None:
    column = parse_column_page(COLUMN_PAGE, COLUMN_URL)
    url, form = column.post_request(25, 48)
    assert url.endswith("dataproxy.jsp?startrecord=25&endrecord=48&perpage=12")
    assert form["columnid"] == "21482"
    get_url = column.get_request(2)
    assert get_url is not None
    assert "page=2" in get_url and "page=1" not in get_url
    assert "webname=%25E5%25B1%25B1" in get_url, "double %-encoding kept as the site sent it"


def test_datastore_answer_and_totalrecord() -> None:
    answer = """<?xml version="1.0" encoding="UTF-8"?><datastore><nextgroup><![CDATA[]]></nextgroup>
<recordset><record><![CDATA[<li><a href="/art/2021/3/4/art_21482_6000001.html" title="T">T</a><span>2021-03-04</span></li>]]></record></recordset>
<totalrecord>62</totalrecord><totalpage>6</totalpage></datastore>"""
    group = parse_datastore(
        answer, "http://commerce.shandong.gov.cn/module/web/jpage/dataproxy.jsp"
    )
    assert group.total_record == 62
    assert [r.url for r in group.records] == [
        "http://commerce.shandong.gov.cn/art/2021/3/4/art_21482_6000001.html"
    ]


def test_csrf_stub_and_non_datastore_answers_fail_loudly() -> None:
    with pytest.raises(CsrfStubError, match="csrf"):
        parse_datastore("dataStore=['csrf'];", COLUMN_URL)
    with pytest.raises(ListingError, match="expected a <datastore>"):
        parse_datastore("<html><body>系统繁忙</body></html>", COLUMN_URL)
    with pytest.raises(ListingError, match="jpage"):
        parse_column_page("<html><body>no listing here</body></html>", COLUMN_URL)


def test_page_requisites_and_attachments() -> None:
    requisites = page_links(COLUMN_PAGE, COLUMN_URL).requisites
    assert list(requisites) == [
        "http://commerce.shandong.gov.cn/images/2019/css/style.css",
        "http://commerce.shandong.gov.cn/module/web/jpage/jquery.min.js",
        "http://commerce.shandong.gov.cn/images/logo.png",
    ]
    css = "body{background:url(../img/bg.png)} @import 'print.css'; .x{background:url(data:x)}"
    assert css_references(css, "http://h/images/css/style.css") == [
        "http://h/images/css/print.css",
        "http://h/images/img/bg.png",
    ]
    page = """<div id="zoom"><a href="/module/download/downfile.jsp?classid=0&amp;filename=0a1b.pdf">附件1：方案.pdf</a>
    <a href="/art/2019/1/7/art_21482_1.html">上一篇</a><a href="files/x.DOCX">表格</a>
    <a href="/module/download/downfile.jsp?classid=0&amp;filename=0a1b.pdf">重复</a></div>"""
    links = page_links(
        page, "http://commerce.shandong.gov.cn/art/2019/1/7/a.html", ("downfile.jsp",)
    )
    assert list(links.attachments) == [
        (
            "附件1：方案.pdf",
            "http://commerce.shandong.gov.cn/module/download/downfile.jsp?classid=0&filename=0a1b.pdf",
        ),
        ("表格", "http://commerce.shandong.gov.cn/art/2019/1/7/files/x.DOCX"),
    ]
