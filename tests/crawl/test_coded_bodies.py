"""Compressed answers are not taken for text before they are decoded."""

from __future__ import annotations

import gzip

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from caseharvest.crawl.coded_bodies import CodedBodiesAsBytes

PAGE = "<html><body><p>开发区典型案例</p></body></html>".encode()
URL = "https://commerce.shandong.gov.cn/art/2024/1/2/art_21482_1.html"


def answer(body: bytes, **headers: str) -> HtmlResponse:
    request = Request(URL)
    return HtmlResponse(URL, status=200, headers=headers, body=body, request=request)


def test_a_compressed_page_is_decoded_without_guessing_a_charset_of_its_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coded = answer(gzip.compress(PAGE), **{"Content-Type": "text/html", "Content-Encoding": "gzip"})
    plain = CodedBodiesAsBytes().process_response(coded.request, coded)
    assert type(plain) is Response
    assert (plain.body, plain.status, plain.request) == (coded.body, 200, coded.request)
    assert plain.headers == coded.headers

    def guessed(self: TextResponse) -> str:
        raise AssertionError("charset detection ran on compressed bytes")

    monkeypatch.setattr(TextResponse, "_body_inferred_encoding", guessed)
    middleware = HttpCompressionMiddleware.from_crawler(get_crawler())
    decoded = middleware.process_response(coded.request, plain)
    assert isinstance(decoded, HtmlResponse) and decoded.body == PAGE
    assert b"Content-Encoding" not in decoded.headers


def test_other_answers_pass_unchanged() -> None:
    page = answer(PAGE, **{"Content-Type": "text/html; charset=utf-8"})
    assert CodedBodiesAsBytes().process_response(page.request, page) is page
    binary = Response(URL, body=b"%PDF", headers={"Content-Encoding": "gzip"})
    assert CodedBodiesAsBytes().process_response(Request(URL), binary) is binary
