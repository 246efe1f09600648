"""Decoding archived bodies: chunked framing, every content-coding, bad bytes, bombs."""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import zlib

import brotli
import pytest
import zstandard

from caseharvest.capture.content_coding import decode_body, decode_http_body
from caseharvest.capture.lzw import LzwError, unlzw

from .conftest import chunked, replica_pages
from .lzw_encoder import lzw_compress

PAGE = replica_pages(1)[0].decoded


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("x-gzip", gzip.compress(PAGE)),
        ("GZip", gzip.compress(PAGE)),
        ("deflate", zlib.compress(PAGE)),
        ("deflate", _raw_deflate(PAGE)),
        ("br", brotli.compress(PAGE)),
        ("zstd", zstandard.ZstdCompressor().compress(PAGE)),
        ("compress", lzw_compress(PAGE)),
        ("identity", PAGE),
        ("gzip, br", brotli.compress(gzip.compress(PAGE))),
        ("br, gzip", gzip.compress(brotli.compress(PAGE))),
        ("deflate, zstd", zstandard.ZstdCompressor().compress(zlib.compress(PAGE))),
    ],
)
def test_each_coding_gives_the_page_back(coding: str, encoded: bytes) -> None:
    decoded = decode_body(encoded, content_encoding=coding)
    assert decoded.body == PAGE
    assert decoded.warnings == ()
    assert [c for c in decoded.applied] == [
        c.strip().lower() for c in reversed(coding.split(",")) if c.strip().lower() != "identity"
    ]


def test_chunked_framing_is_removed_before_the_content_coding() -> None:
    raw = chunked(gzip.compress(PAGE), size=700)
    decoded = decode_http_body(
        raw, [("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")]
    )
    assert decoded.body == PAGE
    assert decoded.applied == ("chunked", "gzip")
    assert decoded.warnings == ()


def test_chunk_extensions_trailers_and_bare_newlines_are_understood() -> None:
    raw = b"5;name=value\r\nhello\r\n1\n \n6\r\n world\r\n0\r\nExpires: never\r\n\r\n"
    assert decode_body(raw, transfer_encoding="chunked").body == b"hello  world"


def test_a_body_stored_already_dechunked_is_kept_with_a_warning() -> None:
    decoded = decode_body(PAGE, transfer_encoding="chunked")
    assert decoded.body == PAGE
    assert "not chunked" in decoded.warnings[0]


def test_a_truncated_chunked_body_keeps_what_arrived() -> None:
    raw = chunked(PAGE, size=500)[:1200]
    decoded = decode_body(raw, transfer_encoding="chunked")
    assert PAGE.startswith(decoded.body) and len(decoded.body) > 500
    assert decoded.warnings


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd", "compress", "gzip, br"])
def test_bytes_already_decoded_are_used_as_they_are(coding: str) -> None:
    decoded = decode_body(PAGE, content_encoding=coding)
    assert decoded.body == PAGE
    assert decoded.applied == ()
    assert all("used as is" in warning for warning in decoded.warnings)
    assert len(decoded.warnings) == len(coding.split(","))


def test_a_half_decoded_sequence_still_comes_out_right() -> None:
    # "gzip, br" declared, but the tool already undid br: gzip alone is left to undo.
    decoded = decode_body(gzip.compress(PAGE), content_encoding="gzip, br")
    assert decoded.body == PAGE
    assert decoded.applied == ("gzip",)
    assert len(decoded.warnings) == 1


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(PAGE)),
        ("br", brotli.compress(PAGE)),
        ("zstd", zstandard.ZstdCompressor().compress(PAGE)),
    ],
)
def test_truncated_compressed_data_gives_its_start(coding: str, encoded: bytes) -> None:
    decoded = decode_body(encoded[: len(encoded) * 2 // 3], content_encoding=coding)
    assert PAGE.startswith(decoded.body)
    assert "ends early" in decoded.warnings[0]


def test_corrupt_gzip_is_kept_as_it_is() -> None:
    damaged = bytearray(gzip.compress(PAGE))
    damaged[20:40] = b"\xff" * 20
    decoded = decode_body(bytes(damaged), content_encoding="gzip")
    assert decoded.body == bytes(damaged)
    assert decoded.warnings


def test_unknown_coding_is_reported_not_guessed() -> None:
    decoded = decode_body(b"\x00\x01", content_encoding="aes128gcm")
    assert decoded.body == b"\x00\x01"
    assert "unknown coding" in decoded.warnings[0]


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
        ("compress", lzw_compress),
    ],
)
def test_a_decompression_bomb_is_cut_at_the_limit(coding: str, compress: object) -> None:
    limit = 1 << 16
    bomb = compress(b"\0" * (1 << 20))  # type: ignore[operator]
    decoded = decode_body(bomb, content_encoding=coding, limit=limit)
    assert decoded.body == b"\0" * limit
    assert "cut" in decoded.warnings[0]


def test_gzip_with_several_members_decodes_them_all() -> None:
    assert (
        decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), content_encoding="gzip").body
        == b"abcd"
    )


@pytest.mark.parametrize("max_bits", [12, 16])
def test_lzw_matches_what_gzip_d_makes_of_compress_data(max_bits: int) -> None:
    # 12 bits fill the table and force CLEAR codes; 16 bits walk every code width.
    rng = random.Random(max_bits)
    data = PAGE + bytes(rng.randrange(6) for _ in range(60_000)) + PAGE
    encoded = lzw_compress(data, max_bits)
    if shutil.which("gzip"):
        # gzip -d reads compress data: it vouches for the test encoder.
        assert (
            subprocess.run(["gzip", "-dc"], input=encoded, capture_output=True, check=True).stdout
            == data
        )
    assert unlzw(encoded, 1 << 30) == (data, False)


def test_lzw_refuses_impossible_codes() -> None:
    with pytest.raises(LzwError):
        unlzw(b"\x1f\x9d\x90\xff\xff\xff\xff", 1000)
    with pytest.raises(LzwError):
        unlzw(b"<html>", 1000)
