"""Turn an archived HTTP body into the bytes the page author wrote.

Archives differ in what they stored: wget and Heritrix keep the chunked framing and the
compressed bytes, caseharvest de-chunks but keeps compression, browsers and scrapy-webarchive
may store bodies already decoded while the headers still declare ``Content-Encoding``. So
every step is tried on the bytes, and bytes that do not match their declared coding are kept
as they are with a warning: decoding never raises.

Order (RFC 9112/9110): transfer codings are undone first (de-chunking last-applied first),
then content codings from the last listed to the first.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import brotli
import zstandard

from caseharvest.capture.lzw import LzwError, unlzw

DEFAULT_LIMIT = 256 * 1024 * 1024  # decoded bytes kept at most: a decompression bomb is cut
_STEP = 1 << 20  # compressed bytes fed at a time, so output can be bounded as it grows
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_STEP = 1 << 10


@dataclass(frozen=True, slots=True)
class DecodedBody:
    """A body after decoding: the bytes, the codings undone, and what did not go to plan."""

    body: bytes
    applied: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class _CodingError(ValueError):
    """The bytes are not in the coding named."""


class _Truncated(ValueError):
    """The coded data ended early; ``partial`` is what it decoded to."""

    def __init__(self, partial: bytes) -> None:
        super().__init__("data ends early")
        self.partial = partial


def codings(value: str | None) -> list[str]:
    """The codings of a ``Content-Encoding``/``Transfer-Encoding`` value, lowercased, in order."""
    if not value:
        return []
    return [item.strip().lower() for item in value.split(",") if item.strip()]


def decode_http_body(
    raw: bytes, headers: Iterable[tuple[str, str]], *, limit: int = DEFAULT_LIMIT
) -> DecodedBody:
    """:func:`decode_body` with the codings read from HTTP *headers* (repeats joined)."""
    transfer: list[str] = []
    content: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "transfer-encoding":
            transfer.append(value)
        elif lowered == "content-encoding":
            content.append(value)
    return decode_body(
        raw,
        transfer_encoding=", ".join(transfer) or None,
        content_encoding=", ".join(content) or None,
        limit=limit,
    )


def decode_body(
    raw: bytes,
    *,
    transfer_encoding: str | None = None,
    content_encoding: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DecodedBody:
    """Undo *transfer_encoding* then *content_encoding* on *raw*; never raises.

    A step whose bytes do not match (already decoded, damaged) is skipped with a warning and
    the next step is tried on the same bytes, so a body stored half-decoded still comes out
    right. Compressed data that ends early gives what it decoded to, with a warning. Output
    beyond *limit* bytes is cut, with a warning.
    """
    body = raw
    applied: list[str] = []
    warnings: list[str] = []
    transfer = codings(transfer_encoding)
    if transfer and transfer[-1] == "chunked":
        transfer.pop()
        body = _dechunk(body, applied, warnings)
    # Transfer codings other than chunked (rare: "gzip, chunked") are undone like content ones.
    for coding in [*reversed(transfer), *reversed(codings(content_encoding))]:
        body = _apply(coding, body, limit, applied, warnings)
    if len(body) > limit:
        warnings.append(f"body cut at {limit} bytes")
        body = body[:limit]
    return DecodedBody(body, tuple(applied), tuple(warnings))


def _apply(coding: str, body: bytes, limit: int, applied: list[str], warnings: list[str]) -> bytes:
    if coding == "identity":
        return body
    decoder = _DECODERS.get(coding)
    if decoder is None:
        warnings.append(f"unknown coding {coding!r}: body left as it is")
        return body
    try:
        decoded, cut = decoder(body, limit)
    except _Truncated as exc:
        warnings.append(f"{coding} data ends early (truncated record?): kept what it decoded to")
        applied.append(coding)
        return exc.partial
    except _CodingError as exc:
        warnings.append(f"declared {coding}, but the body is not {coding} data ({exc}): used as is")
        return body
    applied.append(coding)
    if cut:
        warnings.append(f"{coding} output cut at {limit} bytes (decompression bomb?)")
    return decoded


def _dechunk(body: bytes, applied: list[str], warnings: list[str]) -> bytes:
    """Remove chunked framing; bytes that are not chunked (a tool de-chunked them) stay."""
    parts: list[bytes] = []
    at = 0
    size_line = body.find(b"\n")
    if size_line < 0 or _chunk_size(body[:size_line]) is None:
        warnings.append("declared chunked, but the body is not chunked: used as is")
        return body
    end = len(body)
    while True:
        newline = body.find(b"\n", at)
        size = _chunk_size(body[at:newline]) if newline >= 0 else None
        if size is None:
            warnings.append(f"chunked body damaged at byte {at}: kept the chunks before it")
            break
        start = newline + 1
        if size == 0:
            break  # trailer fields, if any, are not body
        if start + size > end:
            parts.append(body[start:end])
            warnings.append("chunked body ends inside a chunk (truncated record?)")
            break
        parts.append(body[start : start + size])
        at = start + size
        # The CRLF after the chunk data; a bare LF is tolerated.
        if body.startswith(b"\r\n", at):
            at += 2
        elif body.startswith(b"\n", at):
            at += 1
        elif at < end:
            warnings.append(f"chunked body damaged at byte {at}: kept the chunks before it")
            break
        if at >= end:
            warnings.append("chunked body has no last chunk (truncated record?)")
            break
    applied.append("chunked")
    return b"".join(parts)


def _chunk_size(line: bytes) -> int | None:
    digits = line.split(b";", 1)[0].strip()
    if not digits or len(digits) > 16:
        return None
    try:
        return int(digits, 16)
    except ValueError:
        return None


def _zlib(body: bytes, limit: int, wbits: int) -> tuple[bytes, bool]:
    """zlib-family data, several members in a row included (gzip allows it)."""
    out: list[bytes] = []
    produced = 0
    data = body
    while True:
        decompressor = zlib.decompressobj(wbits)
        try:
            while True:
                chunk = decompressor.decompress(data, limit + 1 - produced)
                out.append(chunk)
                produced += len(chunk)
                if produced > limit:
                    return b"".join(out)[:limit], True
                data = decompressor.unconsumed_tail
                if decompressor.eof or not data:
                    break
        except zlib.error as exc:
            # Corrupt, or not this coding at all: the bytes stay as they are.
            raise _CodingError(str(exc)) from None
        if not decompressor.eof:
            raise _Truncated(b"".join(out))
        data = decompressor.unused_data
        # A further gzip member may follow; anything else after the end is ignored.
        if wbits != 31 or not data.startswith(b"\x1f\x8b"):
            return b"".join(out), False


def _gzip(body: bytes, limit: int) -> tuple[bytes, bool]:
    if not body.startswith(b"\x1f\x8b"):
        raise _CodingError("no gzip header")
    return _zlib(body, limit, 31)


def _deflate(body: bytes, limit: int) -> tuple[bytes, bool]:
    # RFC 9110 means zlib-wrapped; some servers send raw deflate, so both are tried.
    if len(body) >= 2 and (body[0] & 0x0F) == 8 and (body[0] << 8 | body[1]) % 31 == 0:
        try:
            return _zlib(body, limit, 15)
        except _CodingError:
            pass
    return _zlib(body, limit, -15)


def _brotli(body: bytes, limit: int) -> tuple[bytes, bool]:
    decompressor = brotli.Decompressor()
    out: list[bytes] = []
    produced = 0
    try:
        for at in range(0, len(body) or 1, _STEP):
            chunk = decompressor.process(body[at : at + _STEP], output_buffer_limit=_STEP)
            while True:
                out.append(chunk)
                produced += len(chunk)
                if produced > limit:
                    return b"".join(out)[:limit], True
                if decompressor.can_accept_more_data():
                    break
                chunk = decompressor.process(b"", output_buffer_limit=_STEP)
    except brotli.error as exc:
        if produced == 0:
            raise _CodingError(str(exc)) from None
        raise _Truncated(b"".join(out)) from None
    if not decompressor.is_finished():
        if produced == 0:
            raise _CodingError("not brotli data")
        raise _Truncated(b"".join(out))
    return b"".join(out), False


def _zstd(body: bytes, limit: int) -> tuple[bytes, bool]:
    if not body.startswith(_ZSTD_MAGIC):
        raise _CodingError("no zstd frame header")
    out: list[bytes] = []
    produced = 0
    data = body
    try:
        while True:  # one frame per round; frames may follow one another
            decompressor = zstandard.ZstdDecompressor().decompressobj()
            at = 0
            # Small input steps bound the output of one step (a zstd block of a few bytes
            # may stand for 128 KiB), so a bomb is caught before it fills memory.
            while not decompressor.eof and at < len(data):
                chunk = decompressor.decompress(data[at : at + _ZSTD_STEP])
                at += _ZSTD_STEP
                out.append(chunk)
                produced += len(chunk)
                if produced > limit:
                    return b"".join(out)[:limit], True
            if not decompressor.eof:
                raise _Truncated(b"".join(out))
            data = decompressor.unused_data + data[at:]
            if not data.startswith(_ZSTD_MAGIC):
                return b"".join(out), False
    except zstandard.ZstdError as exc:
        raise _CodingError(str(exc)) from None


def _compress(body: bytes, limit: int) -> tuple[bytes, bool]:
    try:
        return unlzw(body, limit)
    except LzwError as exc:
        raise _CodingError(str(exc)) from None


_DECODERS = {
    "gzip": _gzip,
    "x-gzip": _gzip,
    "deflate": _deflate,
    "br": _brotli,
    "zstd": _zstd,
    "compress": _compress,
    "x-compress": _compress,
}
