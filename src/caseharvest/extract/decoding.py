"""Turn response bytes into text: declared charsets are checked, never trusted blindly."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

logger = logging.getLogger(__name__)

# Browsers decode every GB label as gb18030 (WHATWG), and pages labelled gb2312 routinely hold
# GBK-only characters such as "—" or rare names: a strict gb2312 decode would fail on them.
_GB_LABELS = frozenset(
    {
        "gb2312",
        "gb_2312",
        "gb_2312-80",
        "gbk",
        "x-gbk",
        "cp936",
        "ms936",
        "windows-936",
        "csgb2312",
        "euc-cn",
        "chinese",
        "iso-ir-58",
        "gb18030",
    }
)
# WHATWG: these labels all mean windows-1252 in a browser.
_LATIN1_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii"}
)
# Only multi-byte codecs can fail a strict decode on real text, so only they prove anything;
# a single-byte label accepts any bytes and is believed last.
_MULTIBYTE_CODECS = frozenset(
    {
        "utf-8",
        "gb18030",
        "big5",
        "big5hkscs",
        "cp950",
        "euc_jp",
        "shift_jis",
        "cp932",
        "euc_kr",
        "cp949",
        "iso2022_jp",
    }
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s;"',]+)""", re.IGNORECASE)
# <meta charset=x>, <meta http-equiv=Content-Type content="...; charset=x"> and <?xml encoding=x?>.
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_:.\-]+)""",
    re.IGNORECASE,
)
# Real pages put the charset declaration well past the WHATWG 1024-byte prescan window.
_META_SCAN_BYTES = 8192
# A page is still taken as UTF-8 when at most one in this many non-ASCII characters is invalid.
_UTF8_REPAIR_RATIO = 200


@dataclass(frozen=True)
class DecodedHtml:
    """Decoded page text, the codec used and any repair worth telling the user about."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def normalize_label(label: str) -> str | None:
    """Map a charset label to the Python codec a browser would use, or None when unknown."""
    cleaned = label.strip().strip("\"'").lower()
    if cleaned in _GB_LABELS:
        return "gb18030"
    if cleaned in _LATIN1_LABELS:
        return "cp1252"
    try:
        name = codecs.lookup(cleaned).name
    except LookupError:
        return None
    if name in ("gb2312", "gbk"):
        return "gb18030"
    return "utf-8" if name == "utf-8" else name


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, as written."""
    if not content_type:
        return None
    match = _HTTP_CHARSET.search(content_type)
    return match.group(1) if match else None


def meta_charset(body: bytes) -> str | None:
    """The charset declared in the document head (<meta> or XML declaration), as written."""
    match = _META_CHARSET.search(body[:_META_SCAN_BYTES])
    if not match:
        return None
    raw = match.group(1) or match.group(2)
    return raw.decode("ascii", "replace")


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _sniffed_codec(body: bytes) -> str | None:
    best = from_bytes(body).best()
    if best is None:
        return None
    return normalize_label(best.encoding)


def decode_document(body: bytes, content_type: str | None = None) -> DecodedHtml:
    """Decode HTML bytes: BOM, declared labels validated strictly, sniffing, then repair."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return DecodedHtml(body.decode(bom_codec, "replace"), bom_codec.replace("-sig", ""))

    declared: list[tuple[str, str]] = []
    for origin, found in (("HTTP", http_charset(content_type)), ("meta", meta_charset(body))):
        if found:
            declared.append((origin, found))
    codecs_declared = [(origin, label, normalize_label(label)) for origin, label in declared]
    first_codec = next((codec for _, _, codec in codecs_declared if codec), None)

    if body.isascii():
        return DecodedHtml(body.decode("ascii"), first_codec or "utf-8")

    warnings: list[str] = []
    # Valid UTF-8 holding non-ASCII bytes is practically never GB text (GB trail bytes break
    # UTF-8 sequences at once), so it beats a stale gb2312 label.
    text = _strict(body, "utf-8")
    if text is not None:
        if first_codec not in (None, "utf-8"):
            warnings.append(
                f"declared charset {declared[0][1]} but the bytes are valid UTF-8; decoded as utf-8"
            )
        return DecodedHtml(text, "utf-8", tuple(warnings))
    # A UTF-8 page with a stray bad byte (a truncated character, a pasted fragment) is still
    # UTF-8; GB bytes read as UTF-8 fail on nearly every character, so the ratio tells them apart.
    lenient = body.decode("utf-8", "replace")
    damaged = lenient.count("\ufffd")
    non_ascii = len(lenient) - len(lenient.encode("ascii", "ignore"))
    if damaged * _UTF8_REPAIR_RATIO <= non_ascii:
        warnings.append(f"repaired {damaged} invalid UTF-8 byte sequence(s)")
        return DecodedHtml(lenient, "utf-8", tuple(warnings))

    weak: str | None = None
    for origin, label, codec in codecs_declared:
        if codec is None:
            warnings.append(f"unknown {origin} charset label {label!r} ignored")
            continue
        if codec not in _MULTIBYTE_CODECS:
            weak = weak or codec
            continue
        text = _strict(body, codec)
        if text is not None:
            return DecodedHtml(text, codec, tuple(warnings))
        warnings.append(f"{origin} charset {label} does not decode these bytes")

    candidates: list[str] = []
    sniffed = _sniffed_codec(body)
    if sniffed in _MULTIBYTE_CODECS:
        candidates.append(sniffed)
    # The sites this tool targets are Chinese; short GB pages fool statistical sniffers
    # (charset_normalizer has answered cp874 for them), and strict gb18030 rejects most non-GB text.
    candidates.append("gb18030")
    if weak:
        candidates.append(weak)
    if sniffed and sniffed not in candidates:
        candidates.append(sniffed)
    for codec in dict.fromkeys(candidates):
        text = _strict(body, codec)
        if text is not None:
            if declared:
                warnings.append(f"decoded as {codec} after the declared charset failed")
            return DecodedHtml(text, codec, tuple(warnings))

    # Nothing decodes cleanly: keep the codec that needs the fewest replacement characters.
    repaired = min(
        ((body.decode(codec, "replace"), codec) for codec in ("utf-8", "gb18030")),
        key=lambda pair: pair[0].count("\ufffd"),
    )
    warnings.append(
        f"no charset decodes these bytes cleanly; decoded as {repaired[1]} "
        f"with {repaired[0].count(chr(0xFFFD))} replacement character(s)"
    )
    logger.debug("decode repair: %s", warnings[-1])
    return DecodedHtml(repaired[0], repaired[1], tuple(warnings))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode HTML bytes to ``(text, encoding)``; :func:`decode_document` gives the order."""
    decoded = decode_document(body, content_type)
    return decoded.text, decoded.encoding
