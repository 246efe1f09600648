"""Decoding: declared charsets are validated, GB labels widen to gb18030, mislabels recover."""

from __future__ import annotations

import codecs

import pytest

from caseharvest.extract import decode_html
from caseharvest.extract.decoding import decode_document, meta_charset, normalize_label

# "镕" and "喆" exist in GBK but not in GB2312; "—" is A1AA, which gb2312 maps to "―" (U+2015).
GBK_ONLY_TEXT = "朱镕基与陶喆——开发区典型案例（2019）"
CHINESE_PARAGRAPH = "淄博市大力推动省级经济开发区体制机制改革，坚持用改革破解制约发展阻力。" * 20


def page(charset: str | None, text: str) -> str:
    meta = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        if charset
        else ""
    )
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


def test_gb2312_label_with_gbk_only_characters_decodes_as_gb18030() -> None:
    body = page("gb2312", GBK_ONLY_TEXT).encode("gbk")

    text, encoding = decode_html(body)

    assert encoding == "gb18030"
    assert GBK_ONLY_TEXT in text  # strict gb2312 would fail on 镕 and turn — into ―


def test_utf8_bytes_labelled_gb2312_decode_as_utf8_with_a_warning() -> None:
    body = page("gb2312", CHINESE_PARAGRAPH).encode("utf-8")

    decoded = decode_document(body)

    assert decoded.encoding == "utf-8"
    assert CHINESE_PARAGRAPH in decoded.text
    assert any("gb2312" in warning and "UTF-8" in warning for warning in decoded.warnings)


def test_gb_bytes_labelled_utf8_fall_through_to_gb18030() -> None:
    body = page("utf-8", GBK_ONLY_TEXT + CHINESE_PARAGRAPH).encode("gb18030")

    decoded = decode_document(body, "text/html; charset=UTF-8")

    assert decoded.encoding == "gb18030"
    assert GBK_ONLY_TEXT in decoded.text
    assert any("does not decode" in warning for warning in decoded.warnings)


def test_http_charset_is_checked_before_the_meta_label() -> None:
    body = page("utf-8", GBK_ONLY_TEXT).encode("gbk")

    text, encoding = decode_html(body, "text/html;charset=GBK")

    assert (encoding, GBK_ONLY_TEXT in text) == ("gb18030", True)


def test_utf8_bom_wins_over_a_wrong_label_and_is_removed() -> None:
    body = codecs.BOM_UTF8 + page("gb2312", GBK_ONLY_TEXT).encode("utf-8")

    text, encoding = decode_html(body, "text/html; charset=gbk")

    assert encoding == "utf-8"
    assert text.startswith("<html>")
    assert GBK_ONLY_TEXT in text


def test_utf16_bom_is_honoured() -> None:
    body = page(None, GBK_ONLY_TEXT).encode("utf-16")

    text, encoding = decode_html(body)

    assert encoding == "utf-16"
    assert GBK_ONLY_TEXT in text


@pytest.mark.parametrize("codec", ["utf-8", "gb18030"])
def test_unlabelled_pages_are_sniffed(codec: str) -> None:
    # Short GB text is where statistical sniffers go wrong (charset_normalizer says cp874).
    body = page(None, GBK_ONLY_TEXT).encode(codec)

    text, encoding = decode_html(body)

    assert encoding == codec
    assert GBK_ONLY_TEXT in text


def test_ascii_page_reports_the_declared_codec() -> None:
    assert decode_html(page("gb2312", "plain").encode("ascii")) == (
        page("gb2312", "plain"),
        "gb18030",
    )


def test_a_stray_bad_byte_in_a_utf8_page_is_repaired_not_misread_as_gb() -> None:
    body = page("utf-8", CHINESE_PARAGRAPH).encode("utf-8")
    body = body.replace("改革".encode(), "改革".encode()[:-1], 1)  # one truncated character

    decoded = decode_document(body)

    assert decoded.encoding == "utf-8"
    assert decoded.text.count("\ufffd") == 1
    assert "坚持用改革破解" in decoded.text
    assert any("repaired" in warning for warning in decoded.warnings)


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ("x-gbk", "gb18030"),
        ("cp936", "gb18030"),
        ("'GBK'", "gb18030"),
        ("UTF8", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("big5", "big5"),
        ("no-such-charset", None),
    ],
)
def test_labels_normalize_like_a_browser(label: str, codec: str | None) -> None:
    assert normalize_label(label) == codec


def test_meta_charset_forms() -> None:
    assert meta_charset(b'<meta charset="GB2312">') == "GB2312"
    assert meta_charset(b"<META http-equiv=Content-Type content='text/html; charset=gbk'>") == "gbk"
    assert meta_charset(b'<?xml version="1.0" encoding="utf-8"?><html>') == "utf-8"
    assert meta_charset(b"<html><head><title>x</title></head></html>") is None
