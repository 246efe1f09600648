"""Brotli for warcio's readers with the `brotli` package Scrapy installs.

warcio decodes ``Content-Encoding: br`` bodies (cdxj-indexer digests and our readers go
through it) with a hook written for brotlipy: it sets an attribute on the decompressor and
calls ``decompress()``. Google's `brotli` (what Scrapy depends on) has neither, so any WARC
file holding a br answer failed to index, replay and package. This adapter gives warcio the
interface it expects; :func:`install` is idempotent and cheap, and every module that reads
WARC files through warcio calls it.
"""

from __future__ import annotations

import brotli
from warcio.bufferedreaders import BufferedReader


class _BrotliDecompressor:
    """warcio's decompressor interface over ``brotli.Decompressor``."""

    # One brotli stream per body: there is never data of a next member left over.
    unused_data = b""

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        # Raises brotli.error on bytes that are not brotli: warcio then reads them as they are.
        return bytes(self._decompressor.process(data))

    def flush(self) -> bytes:
        return b""


def install() -> None:
    """Let warcio decode ``br`` bodies (replaces its brotlipy-only hook)."""
    BufferedReader.DECOMPRESSORS["br"] = _BrotliDecompressor


install()
