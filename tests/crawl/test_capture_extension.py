"""The capture extension: what it archives, and that nothing reopens a closed WARC file."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse

from caseharvest.archive.run import ArchiveRun
from caseharvest.capture.warc_writer import RotatingWarcWriter
from caseharvest.crawl.capture_extension import CAPTURE_META_KEY, WarcCaptureExtension

URL = "https://commerce.shandong.gov.cn/art/2024/1/2/art_21482_1.html"


def answer(url: str) -> tuple[Request, HtmlResponse]:
    request = Request(url)
    return request, HtmlResponse(url, status=200, body=b"<html>case</html>", request=request)


def test_an_answer_after_the_spider_closed_opens_no_new_warc_file(run: ArchiveRun) -> None:
    warc_dir = run.layout.warc_dir("shandong")
    extension = WarcCaptureExtension(run, RotatingWarcWriter(warc_dir, "shandong", {}))
    request, response = answer(URL)
    extension.response_downloaded(response, request)
    assert CAPTURE_META_KEY in request.meta
    assert [p.suffix for p in warc_dir.iterdir()] == [".open"]
    extension.spider_closed()
    late_request, late_response = answer(URL.replace("_1.html", "_2.html"))
    extension.response_downloaded(late_response, late_request)  # a download still in flight
    assert CAPTURE_META_KEY not in late_request.meta
    assert [p.name.endswith(".warc.gz") for p in warc_dir.iterdir()] == [True]
